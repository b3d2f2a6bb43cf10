import { instanceIdRule, nodeIpRule, nodeNameRule, type Rule } from './domain';
import { formatProblem } from './errors';
import { Region } from './kubeedge-schemas';
import { labelKeyRule, labelValueRule } from './label-rules';
import * as z from './zod';

/*
 * The request's schemas only: what they are built from lives in leaf modules (kubeedge-schemas.ts,
 * join-settings/schema.ts, label-rules.ts, zod-problems.ts), which a step imports itself, since importing this module
 * builds the request's schemas at load, which only the steps that parse a request need (ADR 0016).
 */

/*
 * The one source of types for the onboarding workflow: API bodies, events and workflow input are parsed with these
 * schemas, and the TypeScript types are inferred from them. Every rule is a small function returning the reason a
 * value is wrong (or undefined), so the schema, the validate step and the tests share one wording, and every zod
 * message reads `<field> <value> <reason>` like the rest of edgekeeper's problems.
 */

const VERSION = /^v?\d+\.\d+\.\d+(-kubesphere)?$/;

/** KubeEdge versions as users write them: `v1.6.1`, `1.6.1` or `v1.6.1-kubesphere`. Support is checked elsewhere. */
export const versionFormatRule: Rule<string> = (version) =>
  VERSION.test(version) ? undefined : 'must be a version like v1.6.1';

/** A string field checked by a rule; the message names the field, the value and the reason. */
function ruledString(field: string, rule: Rule<string>) {
  return z
    .string({
      error: (issue) =>
        problemMessage(field, issue.input, issue.input === undefined ? 'is required' : 'must be a string'),
    })
    .check(
      z.superRefine((value, ctx) => {
        const reason = rule(value);
        if (reason) ctx.addIssue({ code: 'custom', message: problemMessage(field, value, reason), params: { reason } });
      }),
    );
}

function bool(field: string) {
  return z.boolean({ error: (issue) => problemMessage(field, issue.input, 'must be true or false') });
}

function problemMessage(field: string, value: unknown, reason: string): string {
  return formatProblem({ field, value, reason });
}

/**
 * zod's record drops a `__proto__` key without a word (it guards against prototype pollution), which would accept
 * the request with that label silently removed: such a key is looked at here, on the raw object, and refused by the
 * label key rule like any other bad key. A zod/mini transform has no `addIssue`: the issue goes on the payload.
 */
function refuseHiddenKeys(raw: unknown, payload: z.core.ParsePayload): unknown {
  if (raw !== null && typeof raw === 'object' && Object.hasOwn(raw, '__proto__')) {
    const reason = labelKeyRule('__proto__') ?? 'is not a label key';
    payload.issues.push({
      code: 'custom',
      path: ['__proto__'],
      message: problemMessage('labels', '__proto__', reason),
      params: { reason, field: 'labels', value: '__proto__' },
      input: raw,
    });
  }
  return raw;
}

const LabelRecord = z
  .record(z.string(), z.string({ error: (issue) => problemMessage('labels', issue.input, 'values must be strings') }), {
    error: (issue) => problemMessage('labels', issue.input, 'must be an object of label keys to values'),
  })
  .check(
    z.superRefine((labels, ctx) => {
      for (const [key, value] of Object.entries(labels)) {
        const keyReason = labelKeyRule(key);
        if (keyReason) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: problemMessage('labels', key, keyReason),
            params: { reason: keyReason, field: 'labels', value: key },
          });
        }
        const valueReason = labelValueRule(value);
        if (valueReason) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: problemMessage(`labels.${key}`, value, valueReason),
            params: { reason: valueReason },
          });
        }
      }
    }),
  );

/** Classic zod's `preprocess` is this pipe: the raw value through a transform, then the record. */
const Labels = z.pipe(z.transform(refuseHiddenKeys), LabelRecord);

/**
 * How the device joins: `ssm` (edgekeeper runs the join script on an SSM managed instance) or `manual` (a person
 * pastes the join command on a device edgekeeper cannot reach, KubeSphere's own path; docs/adr/0009).
 */
export const JoinMode = z.enum(['ssm', 'manual'], {
  error: (issue) => problemMessage('mode', issue.input, 'must be ssm or manual'),
});
export type JoinMode = z.infer<typeof JoinMode>;

/** The mode a request asks for: its own, else manual exactly when it names no instance. */
export function joinModeOf(request: { readonly mode?: JoinMode; readonly instanceId?: string | null }): JoinMode {
  return request.mode ?? (request.instanceId == null ? 'manual' : 'ssm');
}

/** `mode` and `instanceId` must agree; checked even when other fields are wrong, so every problem shows at once. */
function modeReason(request: unknown): string | undefined {
  if (request === null || typeof request !== 'object') return undefined;
  const { mode, instanceId } = request as { mode?: unknown; instanceId?: unknown };
  const hasInstance = instanceId !== undefined && instanceId !== null;
  if (mode === 'manual' && hasInstance) {
    return 'must be left out with mode manual: a manual join runs on a device a person reaches, not on an SSM instance';
  }
  if (mode === 'ssm' && !hasInstance) return 'is required with mode ssm (the SSM managed instance to join)';
  return undefined;
}

/**
 * Input of the onboard-node workflow (`POST /nodes`, `Device Registered` events, batch items). Unknown fields are
 * refused: a typo such as `nodename` must not silently fall back to a default.
 */
export const OnboardRequest = z
  .strictObject({
    nodeName: ruledString('nodeName', nodeNameRule),
    nodeIp: ruledString('nodeIp', nodeIpRule),
    /** The SSM managed instance to join; absent (or null): a manual join. */
    instanceId: z.nullish(ruledString('instanceId', instanceIdRule)),
    /** @default manual when there is no instanceId, else ssm */
    mode: z.optional(JoinMode),
    /** Add `node-role.kubernetes.io/edge:NoSchedule` (KubeSphere's "add default taint"). @default true */
    taint: z._default(bool('taint'), true),
    /** @default edge-watcher-config's version, else the deployment's default (v1.6.1) */
    kubeedgeVersion: z.optional(ruledString('kubeedgeVersion', versionFormatRule)),
    /** @default edge-watcher-config's region, else the deployment's default (zh) */
    region: z.optional(Region),
    labels: z.optional(Labels),
    /** Stop after rendering and return the plan. @default false */
    dryRun: z._default(bool('dryRun'), false),
  })
  .check(
    z.refine((request) => modeReason(request) === undefined, {
      path: ['instanceId'],
      error: (issue) => {
        const input = issue.input as { instanceId?: unknown } | undefined;
        return problemMessage('instanceId', input?.instanceId, modeReason(issue.input) ?? '');
      },
      // the message's reason, read by problemsFromIssues (the value is read from the input at the path)
      params: { field: 'instanceId' },
      when: () => true,
    }),
  );
export type OnboardRequest = z.output<typeof OnboardRequest>;
export type OnboardRequestInput = z.input<typeof OnboardRequest>;

/** `kubeedge/edge-watcher-config` as KubeSphere reads it. */
export const EdgeWatcherConfig = z.object({
  region: z.string(),
  version: z.string(),
  uri: z.optional(z.string()),
});
export type EdgeWatcherConfig = z.infer<typeof EdgeWatcherConfig>;
