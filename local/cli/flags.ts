import type { Problem } from '../../functions/shared/errors';
import { RemoveNodeInput } from '../../functions/shared/remove-input';
import { OnboardRequest } from '../../functions/shared/schemas';
import * as z from '../../functions/shared/zod';
import { problemsFromIssues } from '../../functions/shared/zod-problems';
import { EXECUTION_NAME_PATTERN } from '../executions';
import { shown, UsageError } from './io';

/**
 * The flag each workflow input field comes from. The CLI checks what it can without the cluster (formats and
 * ranges) with the workflows' own schemas, and names the flag the user typed, not the field it became.
 */
const FLAG_OF_FIELD: Record<string, string> = {
  nodeName: '--name',
  nodeIp: '--ip',
  instanceId: '--instance',
  taint: '--no-taint',
  kubeedgeVersion: '--kubeedge-version',
  region: '--region',
  labels: '--label',
  dryRun: '--dry-run',
  drain: '--drain',
  force: '--force',
  forceHost: '--force-host',
  release: '--release',
};

function flagProblem(problem: Problem): string {
  const [field, ...rest] = problem.field.split('.');
  const flag = FLAG_OF_FIELD[field] ?? field;
  // a label problem names the key it is about (`labels.<key>`): show it as the user wrote it, key=value
  const value =
    field === 'labels' && rest.length > 0 ? `${rest.join('.')}=${String(problem.value ?? '')}` : problem.value;
  return value === undefined ? `${flag} ${problem.reason}` : `${flag} ${shown(value)} ${problem.reason}`;
}

function check(schema: z.core.$ZodType, input: unknown): void {
  const parsed = z.safeParse(schema, input);
  if (parsed.success) return;
  const problems = problemsFromIssues(parsed.error.issues, input).map(flagProblem);
  throw new UsageError(problems.join('; '));
}

/** @throws UsageError naming each flag whose value the onboarding workflow would refuse */
export function checkOnboardFlags(input: Record<string, unknown>): void {
  check(OnboardRequest, input);
}

/** @throws UsageError naming each flag whose value the remove-node workflow would refuse */
export function checkRemoveFlags(input: Record<string, unknown>): void {
  check(RemoveNodeInput, input);
}

/** An onboarding's rollback runs as `<name>-rollback`, which must itself fit Step Functions' 80 characters. */
const ROLLBACK_SUFFIX = '-rollback';

/** @throws UsageError unless the name follows Step Functions' rules for execution names */
export function checkExecutionNameFlag(name: string | undefined, workflow: string): void {
  if (name === undefined) return;
  const max = workflow === 'onboard-node' ? 80 - ROLLBACK_SUFFIX.length : 80;
  if (EXECUTION_NAME_PATTERN.test(name) && name.length <= max) return;
  const why =
    max < 80
      ? ` (its rollback runs as <name>${ROLLBACK_SUFFIX}, within Step Functions' 80)`
      : " (Step Functions' rule)";
  throw new UsageError(
    `--execution-name ${shown(name)} must be 1 to ${max} characters of letters, digits, - and _${why}`,
  );
}
