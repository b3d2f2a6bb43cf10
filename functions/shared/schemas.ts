import * as z from 'zod';
import {
  DNS1123_SUBDOMAIN,
  instanceIdRule,
  MANAGED_LABEL_PREFIXES,
  nodeIpRule,
  nodeNameRule,
  type Rule,
} from './domain';
import { formatProblem, type Problem } from './errors';

/*
 * The one source of types for the onboarding workflow: API bodies, events and workflow input are parsed with these
 * schemas, and the TypeScript types are inferred from them. Every rule is a small function returning the reason a
 * value is wrong (or undefined), so the schema, the validate step and the tests share one wording, and every zod
 * message reads `<field> <value> <reason>` like the rest of edgekeeper's problems.
 */

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VERSION = /^v?\d+\.\d+\.\d+(-kubesphere)?$/;

/** KubeEdge versions as users write them: `v1.6.1`, `1.6.1` or `v1.6.1-kubesphere`. Support is checked elsewhere. */
export const versionFormatRule: Rule<string> = (version) =>
  VERSION.test(version) ? undefined : 'must be a version like v1.6.1';

/** A Kubernetes label key: optional DNS-1123 subdomain prefix (≤ 253) + `/` + name (≤ 63); managed prefixes refused. */
export const labelKeyRule: Rule<string> = (key) => {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined) {
    if (prefix.length === 0 || prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix)) {
      return 'is not a valid label key: the prefix must be a DNS-1123 subdomain of at most 253 characters';
    }
    const managed = MANAGED_LABEL_PREFIXES.find((managedPrefix) => `${prefix}/` === managedPrefix);
    if (managed) return `is not allowed: labels under ${managed} are managed by edgekeeper and KubeEdge`;
  }
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) {
    return 'is not a valid label key: the name must be 1-63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric';
  }
  return undefined;
};

/** A Kubernetes label value: empty, or ≤ 63 characters of `[A-Za-z0-9-_.]` starting and ending alphanumeric. */
export const labelValueRule: Rule<string> = (value) =>
  value === '' || (value.length <= 63 && LABEL_NAME.test(value))
    ? undefined
    : 'is not a valid label value: at most 63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric, or empty';

/** A string field checked by a rule; the message names the field, the value and the reason. */
function ruledString(field: string, rule: Rule<string>) {
  return z
    .string({
      error: (issue) =>
        problemMessage(field, issue.input, issue.input === undefined ? 'is required' : 'must be a string'),
    })
    .superRefine((value, ctx) => {
      const reason = rule(value);
      if (reason) ctx.addIssue({ code: 'custom', message: problemMessage(field, value, reason), params: { reason } });
    });
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
 * label key rule like any other bad key.
 */
function refuseHiddenKeys(raw: unknown, ctx: z.RefinementCtx): unknown {
  if (raw !== null && typeof raw === 'object' && Object.hasOwn(raw, '__proto__')) {
    const reason = labelKeyRule('__proto__') ?? 'is not a label key';
    ctx.addIssue({
      code: 'custom',
      path: ['__proto__'],
      message: problemMessage('labels', '__proto__', reason),
      params: { reason, field: 'labels', value: '__proto__' },
    });
  }
  return raw;
}

const LabelRecord = z
  .record(z.string(), z.string({ error: (issue) => problemMessage('labels', issue.input, 'values must be strings') }), {
    error: (issue) => problemMessage('labels', issue.input, 'must be an object of label keys to values'),
  })
  .superRefine((labels, ctx) => {
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
  });

const Labels = z.preprocess(refuseHiddenKeys, LabelRecord);

/** Download regions KubeSphere knows: `zh` (qingstor mirror) and `en` (GitHub releases). */
export const Region = z.enum(['zh', 'en'], {
  error: (issue) => problemMessage('region', issue.input, 'must be zh or en'),
});
export type Region = z.infer<typeof Region>;

/** Which keadm family runs on the host: the KubeSphere fork or upstream KubeEdge (docs/kubeedge.md §1). */
export const KeadmProfile = z.enum(['fork', 'upstream']);
export type KeadmProfile = z.infer<typeof KeadmProfile>;

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
    instanceId: ruledString('instanceId', instanceIdRule).nullish(),
    /** @default manual when there is no instanceId, else ssm */
    mode: JoinMode.optional(),
    /** Add `node-role.kubernetes.io/edge:NoSchedule` (KubeSphere's "add default taint"). @default true */
    taint: bool('taint').default(true),
    /** @default edge-watcher-config's version, else the deployment's default (v1.6.1) */
    kubeedgeVersion: ruledString('kubeedgeVersion', versionFormatRule).optional(),
    /** @default edge-watcher-config's region, else the deployment's default (zh) */
    region: Region.optional(),
    labels: Labels.optional(),
    /** Stop after rendering and return the plan. @default false */
    dryRun: bool('dryRun').default(false),
  })
  .refine((request) => modeReason(request) === undefined, {
    path: ['instanceId'],
    error: (issue) => {
      const input = issue.input as { instanceId?: unknown } | undefined;
      return problemMessage('instanceId', input?.instanceId, modeReason(issue.input) ?? '');
    },
    // the message's reason, read by problemsFromIssues (the value is read from the input at the path)
    params: { field: 'instanceId' },
    when: () => true,
  });
export type OnboardRequest = z.output<typeof OnboardRequest>;
export type OnboardRequestInput = z.input<typeof OnboardRequest>;

/** The public ports of cloudcore as the edge host dials them (KubeSphere's table: 10000–10004, docs/kubeedge.md §2). */
export const CloudcorePorts = z.strictObject({
  cloudhub: z.number().int().min(1).max(65535),
  quic: z.number().int().min(1).max(65535),
  https: z.number().int().min(1).max(65535),
  stream: z.number().int().min(1).max(65535),
  tunnel: z.number().int().min(1).max(65535),
});
export type CloudcorePorts = z.infer<typeof CloudcorePorts>;

/** KubeSphere's port-forwarding table: external ports 10000–10004 (docs/kubeedge.md §2). */
export const DEFAULT_CLOUDCORE_PORTS: CloudcorePorts = Object.freeze({
  cloudhub: 10000,
  quic: 10001,
  https: 10002,
  stream: 10003,
  tunnel: 10004,
});

/** `kubeedge/edge-watcher-config` as KubeSphere reads it. */
export const EdgeWatcherConfig = z.object({
  region: z.string(),
  version: z.string(),
  uri: z.string().optional(),
});
export type EdgeWatcherConfig = z.infer<typeof EdgeWatcherConfig>;

/** Placeholder for the CPU architecture in `JoinSettings.downloadUrl`; the host script fills it in after `uname -m`. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a literal placeholder for bash, not a template
export const ARCH_PLACEHOLDER = '${arch}';

/**
 * Everything the host script needs except the join token (added at send time) and the CPU architecture (detected on
 * the host). Resolved by validation (shared/join-settings/cluster.ts), input of render-host-script; it travels through the execution history.
 */
export const JoinSettings = z.strictObject({
  nodeName: z.string(),
  nodeIp: z.string(),
  profile: KeadmProfile,
  /** Always with the leading `v`, without `-kubesphere`: `v1.6.1`. */
  version: z.string().regex(/^v\d+\.\d+\.\d+$/),
  region: Region,
  /** Download URL of the keadm tarball with a literal `${arch}` placeholder the script fills in. */
  downloadUrl: z.string(),
  cloudcore: z.strictObject({ address: z.string(), ports: CloudcorePorts }),
  taint: z.boolean(),
  labels: z.record(z.string(), z.string()),
});
export type JoinSettings = z.infer<typeof JoinSettings>;

/**
 * Turns zod issues into edgekeeper problems (field, value, reason), reading the value out of the original input so
 * the message shows what the caller sent.
 */
export function problemsFromIssues(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  /** what the whole value is called when it is wrong as a whole */
  subject = 'request',
): Problem[] {
  return issues.flatMap((issue): Problem[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        field: [...issue.path, key].join('.'),
        value: undefined,
        reason: 'is not a known field',
      }));
    }
    const params = issue.code === 'custom' ? (issue.params as Record<string, unknown> | undefined) : undefined;
    const field = typeof params?.field === 'string' ? params.field : issue.path.map(String).join('.');
    const value = params && 'value' in params ? params.value : valueAt(input, issue.path);
    const reason = typeof params?.reason === 'string' ? params.reason : stripSubject(issue.message, field, value);
    return [{ field: field === '' ? subject : field, value, reason }];
  });
}

/** Messages built by `problemMessage` already start with `<field> <value>`; keep only the reason. */
function stripSubject(message: string, field: string, value: unknown): string {
  const subject = formatProblem({ field, value, reason: '' });
  if (message.startsWith(subject)) return message.slice(subject.length);
  const leaf = field.split('.').at(-1) ?? field;
  const leafSubject = formatProblem({ field: leaf, value, reason: '' });
  if (message.startsWith(leafSubject)) return message.slice(leafSubject.length);
  return message;
}

/** The value at a zod issue's path in the original input: what the caller actually sent. */
export function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
