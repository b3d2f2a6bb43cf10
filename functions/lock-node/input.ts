import { existingNodeNameRule, INSTANCE_ID_PATTERN, ipv4Rule } from '../shared/domain';
import { parseExecutionArn } from '../shared/node-lock';
import * as z from '../shared/zod';

/**
 * The lock steps' input. The holder is `executionId`, which the workflow fills from its context object
 * (`$$.Execution.Id`): it is never taken from the request, so a holder id copied from an error message gives
 * nothing. `purpose` is written in the workflow definition, never by a caller.
 */
const Common = {
  operationId: z.string().check(z.minLength(1)),
  executionId: z.string({ error: 'must be a string' }).check(
    // Step Functions' ARNs hold no whitespace or control characters (its naming rules), whatever the name's alphabet
    z.refine((arn) => !/[\s\p{Cc}]/u.test(arn) && parseExecutionArn(arn) !== null, {
      error: 'must be the execution ARN ($$.Execution.Id)',
    }),
  ),
};

export const NodeLockInput = z.object({
  ...Common,
  /** onboarding also refuses while an uninstall runs and re-checks uniqueness under the lock */
  purpose: z.enum(['onboard', 'remove'], { error: 'must be "onboard", "remove" or "uninstall"' }),
  // any name the API server accepts (removal locks nodes joined by hand too), and nothing it would refuse
  nodeName: z.string({ error: 'must be a string' }).check(
    z.superRefine((name, ctx) => {
      const reason = existingNodeNameRule(name);
      if (reason) ctx.addIssue({ code: 'custom', message: reason });
    }),
  ),
  instanceId: z.nullish(
    z
      .string({ error: 'must be a string' })
      .check(z.regex(INSTANCE_ID_PATTERN, { error: 'must be an SSM managed instance id' })),
  ),
  nodeIp: z.nullish(
    z
      .string({ error: 'must be a string' })
      .check(z.refine((ip) => ipv4Rule(ip) === undefined, { error: 'must be an IPv4 address' })),
  ),
});

export const UninstallLockInput = z.object({ ...Common, purpose: z.literal('uninstall') });

/**
 * The release step's input: the lock step's, plus `handOver`, written in the workflow definition where a failing
 * onboarding hands its Leases to its rollback child instead of releasing them.
 */
export const ReleaseStepInput = z.discriminatedUnion('purpose', [
  UninstallLockInput,
  z.extend(NodeLockInput, {
    handOver: z.optional(z.boolean({ error: 'must be a boolean' })),
    /** the lock step's `keys` (onboarding's success path): the Leases it took itself go in one deletecollection */
    taken: z.optional(
      z.array(
        z.object({
          lease: z.string().check(z.minLength(1)),
          resourceVersion: z.optional(z.string().check(z.minLength(1))),
        }),
      ),
    ),
  }),
]);

// told apart by `purpose`, so a wrong purpose is reported on that field rather than on the input as a whole
export const LockStepInput = z.discriminatedUnion('purpose', [UninstallLockInput, NodeLockInput], {
  error: 'must be "onboard", "remove" or "uninstall"',
});
export type LockStepInput = z.output<typeof LockStepInput>;
