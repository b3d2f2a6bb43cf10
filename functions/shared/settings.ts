import { AsyncLocalStorage } from 'node:async_hooks';
import {
  boundedCount,
  EVENT_BUS_NAME,
  EVENT_SOURCE,
  InventoryFieldMap,
  inventoryFieldMapCodec,
} from './inventory-settings';
import { DEFAULT_KUBEEDGE_VERSION } from './keadm/default-version';
import { CloudcorePorts, DEFAULT_CLOUDCORE_PORTS, Region } from './kubeedge-schemas';
import * as z from './zod';

/*
 * The deployment settings, declared once. Each setting names the environment variable a Lambda step reads it from,
 * where the CDK context sets it (`edgekeeper.<group>.<key>`, see lib/config.ts), its schema with its default and
 * bounds, and how its value is written as text. `readSettings` (the steps) and `stepEnvironment` (CDK) are both
 * built from this table, so what CDK writes is what the steps read, and a default or a bound is stated once.
 */

/** A deployment setting is malformed: a configuration mistake, never worth a retry. */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

/** An environment value that cannot be read as its setting's type; the message is the reason. */
class UnreadableValue extends Error {}

/** How a setting's value travels as an environment variable. */
interface Codec<T> {
  /** Text to the value the schema checks; throws UnreadableValue with the reason when it cannot. */
  decode(text: string): unknown;
  encode(value: T): string;
}

const text: Codec<string> = { decode: (value) => value, encode: (value) => value };

/** Whole numbers; anything else is handed to the schema as NaN, whose message then names the bounds. */
const wholeNumber: Codec<number> = {
  decode: (value) => (/^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : Number.NaN),
  encode: (value) => String(value),
};

/** `on`/`off`, the words operators write in a shell (`EDGEKEEPER_ROUTING=on`). */
const onOff: Codec<boolean> = {
  decode: (value) => {
    const word = value.trim().toLowerCase();
    if (word === 'on') return true;
    if (word === 'off') return false;
    throw new UnreadableValue('must be on or off');
  },
  encode: (value) => (value ? 'on' : 'off'),
};

/** A comma-separated list; blanks between commas are ignored. */
const list: Codec<readonly string[]> = {
  decode: (value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  encode: (value) => value.join(','),
};

/** `cloudhub=10000,quic=10001,…`: all five ports in one variable. */
const ports: Codec<CloudcorePorts> = {
  decode: (value) =>
    Object.fromEntries(
      value.split(',').map((pair) => {
        const [name, port] = pair.split('=').map((part) => part.trim());
        return [name, Number(port)];
      }),
    ),
  encode: (value) => formatPorts(value),
};

/** `cloudhub=10000,quic=10001,…` from the ports object (the form `EDGEKEEPER_CLOUDCORE_PORTS` takes). */
export function formatPorts(value: CloudcorePorts): string {
  return Object.entries(value)
    .map(([name, port]) => `${name}=${port}`)
    .join(',');
}

/** Inclusive bounds of a timeout, in seconds. */
export interface Bounds {
  readonly min: number;
  readonly max: number;
}

/**
 * A timeout in whole seconds within bounds. Every timeout is bounded: too small and a healthy run fails, too large
 * and a stuck one holds its node and its workflow for hours (a value of 10⁹ s was once accepted). The message
 * names the bounds, and the caller adds the setting's name and the value.
 */
function seconds(bounds: Bounds, fallback: number) {
  const reason = `must be a whole number of seconds from ${bounds.min} to ${bounds.max}`;
  return z._default(
    z.int({ error: reason }).check(z.minimum(bounds.min, { error: reason }), z.maximum(bounds.max, { error: reason })),
    fallback,
  );
}

const HTTP_URL = z.url({ protocol: /^https?$/ });
const TAG = z.string().check(z.regex(/^[^=\s]+=[^=\s]+$/, { error: 'must be key=value' }));
const HOST_PORT = z.string().check(z.regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, { error: 'must be host:port' }));
/** EKS's own rule for a cluster name. */
const EKS_CLUSTER_NAME = z.string().check(
  z.regex(/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/, {
    error: 'must be an EKS cluster name (1-100 letters, digits, "-" and "_", starting with a letter or digit)',
  }),
);
const BASE64_PEM = z
  .string()
  .check(
    z.refine(
      (value) =>
        /^[A-Za-z0-9+/]+={0,2}$/.test(value) &&
        Buffer.from(value, 'base64').toString('utf8').includes('-----BEGIN CERTIFICATE-----'),
      { error: "must be the base64 of a PEM certificate (the cluster's certificateAuthority.data)" },
    ),
  );
const ALLOWLIST_ITEM = z
  .string()
  .check(
    z.regex(/^[a-z0-9-]+\/[a-z0-9.-]+$/, { error: 'must be namespace/name (lowercase letters, digits, "-" and ".")' }),
  );

/** A path in the CDK context under `edgekeeper`: a top-level key, or a group and a key. */
export type ContextPath = readonly [string] | readonly [string, string];

interface SettingSpec<S extends z.ZodMiniType> {
  /** the environment variable the steps read */
  readonly env: string;
  /** where the CDK context sets it; absent for settings only a local run gives (a kubeconfig file, a sandbox) */
  readonly context?: ContextPath;
  /** the value's schema, with its default (if any) and bounds; the same for the context and the environment */
  readonly schema: S;
  readonly codec: Codec<NonNullable<z.output<S>>>;
  /**
   * A default that only deployments take. The kubeconfig parameter is the one: a deployed step has no kubeconfig
   * file, while a local run without the variable must fall back to KUBECONFIG instead.
   */
  readonly deployedDefault?: NonNullable<z.output<S>>;
}

/** Declares a setting, keeping its context path and whether it has a deployment default in its type. */
function setting<
  S extends z.ZodMiniType,
  const C extends ContextPath | undefined = undefined,
  D extends NonNullable<z.output<S>> | undefined = undefined,
>(
  spec: SettingSpec<S> & { readonly context?: C; readonly deployedDefault?: D },
): SettingSpec<S> & { readonly context: C; readonly deployedDefault: D } {
  return spec as SettingSpec<S> & { readonly context: C; readonly deployedDefault: D };
}

/** Bounds of every timeout setting, exported for the docs and the tests. */
export const TIMEOUT_BOUNDS = Object.freeze({
  /** a join downloads keadm and edgecore over the host's link: minutes, rarely an hour */
  hostCommandTimeoutSeconds: { min: 30, max: 7200 },
  /** edgecore registers within a minute of the join; tests use a few seconds to force the timeout */
  nodeReadyTimeoutSeconds: { min: 1, max: 3600 },
  /**
   * renewed by every step of its holder; a Lease is free once its holder's execution has ended, so the duration
   * only bounds how long a holder whose status cannot be read keeps it (minutes, not the hour it once was)
   */
  lockDurationSeconds: { min: 60, max: 3600 },
  /** PodDisruptionBudgets may hold evictions for a while; past an hour the node needs a person */
  drainTimeoutSeconds: { min: 1, max: 3600 },
  /** namespace finalizers normally finish in seconds; a stuck one needs a person */
  namespaceDeletionTimeoutSeconds: { min: 1, max: 3600 },
  /** routing is a few iptables commands; the step waits for them inside one Lambda run (90 s) */
  routingTimeoutSeconds: { min: 5, max: 60 },
  /** one Kubernetes or SSM call; well inside the shortest Lambda timeout (60 s), SDK retries included */
  requestTimeoutSeconds: { min: 1, max: 30 },
  /** keadm reset may hang on a wedged container runtime; the reset script must end before its host command */
  keadmResetTimeoutSeconds: { min: 10, max: 3600 },
  /** a person copies the join command to the device and runs it: minutes to hours, never days */
  manualJoinTimeoutSeconds: { min: 60, max: 86400 },
} as const satisfies Record<string, Bounds>);

/** Every setting, by the name the steps use. */
export const SETTING_SPECS = {
  kubeconfigParameter: setting({
    env: 'EDGEKEEPER_KUBECONFIG_PARAMETER',
    context: ['cluster', 'kubeconfigParameterName'],
    schema: z.optional(z.string().check(z.startsWith('/'))),
    codec: text,
    deployedDefault: '/edgekeeper/kubeconfig',
  }),
  kubeconfigPath: setting({ env: 'KUBECONFIG', schema: z.optional(z.string().check(z.minLength(1))), codec: text }),
  clusterAuth: setting({
    env: 'EDGEKEEPER_CLUSTER_AUTH',
    context: ['cluster', 'auth'],
    // `kubeconfig`: the parameter (deployed) or the file (local); `eks`: a token presigned with the step's own role
    schema: z._default(z.enum(['kubeconfig', 'eks']), 'kubeconfig'),
    codec: text,
  }),
  eksClusterName: setting({
    env: 'EDGEKEEPER_EKS_CLUSTER_NAME',
    context: ['cluster', 'eksClusterName'],
    schema: z.optional(EKS_CLUSTER_NAME),
    codec: text,
  }),
  clusterEndpoint: setting({
    env: 'EDGEKEEPER_CLUSTER_ENDPOINT',
    context: ['cluster', 'endpoint'],
    // the EKS API server: the token travels in a header, so never over plain HTTP
    schema: z.optional(z.url({ protocol: /^https$/, error: 'must be an https URL' })),
    codec: text,
  }),
  clusterCertificateAuthority: setting({
    env: 'EDGEKEEPER_CLUSTER_CA',
    context: ['cluster', 'certificateAuthority'],
    // as EKS gives it (`certificateAuthority.data`): the base64 of the PEM, public, pinned instead of trusting any CA
    schema: z.optional(BASE64_PEM),
    codec: text,
  }),
  ssmEndpoint: setting({ env: 'EDGEKEEPER_SSM_ENDPOINT', schema: z.optional(HTTP_URL), codec: text }),
  // local stand-ins (the sandbox, the local runtime) for the services of event-driven host-command completion
  dynamodbEndpoint: setting({ env: 'EDGEKEEPER_DYNAMODB_ENDPOINT', schema: z.optional(HTTP_URL), codec: text }),
  stepFunctionsEndpoint: setting({
    env: 'EDGEKEEPER_STEP_FUNCTIONS_ENDPOINT',
    schema: z.optional(HTTP_URL),
    codec: text,
  }),
  commandWaitsTable: setting({
    // the stack's table of host commands a workflow waits on (lib/constructs/command-events.ts): no context path
    env: 'EDGEKEEPER_COMMAND_WAITS_TABLE',
    schema: z.optional(
      z.string().check(z.regex(/^[A-Za-z0-9_.-]{3,255}$/, { error: 'must be a DynamoDB table name' })),
    ),
    codec: text,
  }),
  cloudcorePublicAddress: setting({
    env: 'EDGEKEEPER_CLOUDCORE_ADDRESS',
    context: ['cloudcore', 'publicAddress'],
    schema: z.optional(z.string().check(z.minLength(1))),
    codec: text,
  }),
  cloudcorePorts: setting({
    env: 'EDGEKEEPER_CLOUDCORE_PORTS',
    context: ['cloudcore', 'ports'],
    schema: z._default(CloudcorePorts, DEFAULT_CLOUDCORE_PORTS),
    codec: ports,
  }),
  downloadMirror: setting({
    env: 'EDGEKEEPER_DOWNLOAD_MIRROR',
    context: ['keadm', 'downloadMirror'],
    schema: z.optional(HTTP_URL),
    codec: text,
  }),
  defaultKubeedgeVersion: setting({
    env: 'EDGEKEEPER_DEFAULT_KUBEEDGE_VERSION',
    context: ['keadm', 'defaultVersion'],
    schema: z._default(z.string().check(z.minLength(1)), DEFAULT_KUBEEDGE_VERSION),
    codec: text,
  }),
  defaultRegion: setting({
    env: 'EDGEKEEPER_DEFAULT_REGION',
    context: ['keadm', 'defaultRegion'],
    schema: z._default(z.enum(Region.options), 'zh'),
    codec: text,
  }),
  nodeReadyTimeoutSeconds: setting({
    env: 'EDGEKEEPER_NODE_READY_TIMEOUT_SECONDS',
    context: ['timeouts', 'nodeReadySeconds'],
    schema: seconds(TIMEOUT_BOUNDS.nodeReadyTimeoutSeconds, 600),
    codec: wholeNumber,
  }),
  hostCommandTimeoutSeconds: setting({
    env: 'EDGEKEEPER_HOST_COMMAND_TIMEOUT_SECONDS',
    context: ['timeouts', 'hostCommandSeconds'],
    schema: seconds(TIMEOUT_BOUNDS.hostCommandTimeoutSeconds, 900),
    codec: wholeNumber,
  }),
  lockDurationSeconds: setting({
    env: 'EDGEKEEPER_LOCK_DURATION_SECONDS',
    context: ['timeouts', 'lockDurationSeconds'],
    schema: seconds(TIMEOUT_BOUNDS.lockDurationSeconds, 180),
    codec: wholeNumber,
  }),
  drainTimeoutSeconds: setting({
    env: 'EDGEKEEPER_DRAIN_TIMEOUT_SECONDS',
    context: ['timeouts', 'drainSeconds'],
    schema: seconds(TIMEOUT_BOUNDS.drainTimeoutSeconds, 300),
    codec: wholeNumber,
  }),
  namespaceDeletionTimeoutSeconds: setting({
    env: 'EDGEKEEPER_NAMESPACE_DELETION_TIMEOUT_SECONDS',
    context: ['timeouts', 'namespaceDeletionSeconds'],
    schema: seconds(TIMEOUT_BOUNDS.namespaceDeletionTimeoutSeconds, 300),
    codec: wholeNumber,
  }),
  routingTimeoutSeconds: setting({
    env: 'EDGEKEEPER_ROUTING_TIMEOUT_SECONDS',
    context: ['timeouts', 'routingSeconds'],
    schema: seconds(TIMEOUT_BOUNDS.routingTimeoutSeconds, 60),
    codec: wholeNumber,
  }),
  requestTimeoutSeconds: setting({
    env: 'EDGEKEEPER_REQUEST_TIMEOUT_SECONDS',
    context: ['timeouts', 'requestSeconds'],
    schema: seconds(TIMEOUT_BOUNDS.requestTimeoutSeconds, 10),
    codec: wholeNumber,
  }),
  keadmResetTimeoutSeconds: setting({
    env: 'EDGEKEEPER_KEADM_RESET_TIMEOUT_SECONDS',
    context: ['timeouts', 'keadmResetSeconds'],
    schema: seconds(TIMEOUT_BOUNDS.keadmResetTimeoutSeconds, 300),
    codec: wholeNumber,
  }),
  manualJoinTimeoutSeconds: setting({
    env: 'EDGEKEEPER_MANUAL_JOIN_TIMEOUT_SECONDS',
    context: ['timeouts', 'manualJoinSeconds'],
    schema: seconds(TIMEOUT_BOUNDS.manualJoinTimeoutSeconds, 1800),
    codec: wholeNumber,
  }),
  daemonSetAllowlist: setting({
    env: 'EDGEKEEPER_DAEMONSET_ALLOWLIST',
    context: ['daemonSetAllowlist'],
    schema: z._default(z.readonly(z.array(ALLOWLIST_ITEM)), []),
    codec: list,
  }),
  helmRelease: setting({
    env: 'EDGEKEEPER_HELM_RELEASE',
    context: ['helmRelease'],
    // `kubeedge` on KubeSphere 3.1/3.2, `cloudcore` on 3.3
    schema: z._default(z.string().check(z.minLength(1)), 'kubeedge'),
    codec: text,
  }),
  routingEnabled: setting({
    env: 'EDGEKEEPER_ROUTING',
    context: ['routing', 'enabled'],
    // logs/exec DNAT rules on the cloud hosts change hosts edgekeeper does not own: off unless asked for
    schema: z._default(z.boolean(), false),
    codec: onOff,
  }),
  cloudHostTag: setting({
    env: 'EDGEKEEPER_CLOUD_HOST_TAG',
    context: ['routing', 'cloudHostTag'],
    schema: z._default(TAG, 'edgekeeper-role=cloud'),
    codec: text,
  }),
  edgeHostTag: setting({
    env: 'EDGEKEEPER_EDGE_HOST_TAG',
    context: ['edgeHostTag'],
    // the steps may send commands only to hosts with this tag (an IAM condition): never to every managed machine
    schema: z._default(TAG, 'edgekeeper:role=edge'),
    codec: text,
  }),
  streamEndpoint: setting({
    env: 'EDGEKEEPER_STREAM_ENDPOINT',
    context: ['routing', 'streamEndpoint'],
    // default: cloudcore's public address and stream port
    schema: z.optional(HOST_PORT),
    codec: text,
  }),
  // the device inventory (docs/events.md): where its events arrive, how their fields are named, how bursts group
  inventoryEventBus: setting({
    env: 'EDGEKEEPER_INVENTORY_EVENT_BUS',
    context: ['inventory', 'eventBusName'],
    schema: z._default(EVENT_BUS_NAME, 'default'),
    codec: text,
  }),
  inventorySource: setting({
    env: 'EDGEKEEPER_INVENTORY_SOURCE',
    context: ['inventory', 'source'],
    schema: z._default(EVENT_SOURCE, 'edgekeeper.inventory'),
    codec: text,
  }),
  inventoryFieldMap: setting({
    env: 'EDGEKEEPER_INVENTORY_FIELD_MAP',
    context: ['inventory', 'fieldMap'],
    schema: z._default(InventoryFieldMap, {}),
    codec: inventoryFieldMapCodec,
  }),
  inventoryBatchSize: setting({
    env: 'EDGEKEEPER_INVENTORY_BATCH_SIZE',
    context: ['inventory', 'batchSize'],
    // events per starter invocation; more than one of a kind become one batch execution (its input stays small)
    schema: boundedCount(1, 100, 50),
    codec: wholeNumber,
  }),
  inventoryBatchWindow: setting({
    env: 'EDGEKEEPER_INVENTORY_BATCH_WINDOW_SECONDS',
    context: ['inventory', 'batchWindowSeconds'],
    // seconds the queue gathers a burst before the starter runs (SQS allows up to 300); not a timeout
    schema: boundedCount(0, 300, 10),
    codec: wholeNumber,
  }),
  inventoryMaxReceiveCount: setting({
    env: 'EDGEKEEPER_INVENTORY_MAX_RECEIVE_COUNT',
    context: ['inventory', 'maxReceiveCount'],
    // deliveries of an event whose start keeps failing (throttled, unreachable) before it goes to the DLQ
    schema: boundedCount(1, 100, 5),
    codec: wholeNumber,
  }),
  // the batch workflows (docs/adr/0012): children per wave, and the share of failed children that stops new starts
  batchConcurrency: setting({
    env: 'EDGEKEEPER_BATCH_CONCURRENCY',
    context: ['batch', 'concurrency'],
    // an inline Map runs at most 40 iterations at once
    schema: boundedCount(1, 40, 10),
    codec: wholeNumber,
  }),
  batchToleratedFailurePercent: setting({
    env: 'EDGEKEEPER_BATCH_TOLERATED_FAILURE_PERCENT',
    context: ['batch', 'toleratedFailurePercent'],
    schema: boundedCount(0, 100, 10),
    codec: wholeNumber,
  }),
  driftReportBucket: setting({
    // the stack's drift-report bucket (lib/constructs/drift-report-bucket.ts), set by the stack: no context path
    env: 'EDGEKEEPER_DRIFT_REPORT_BUCKET',
    schema: z.optional(
      z.string().check(z.regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: 'must be an S3 bucket name' })),
    ),
    codec: text,
  }),
  localExecutionsDir: setting({
    // the local runtime's execution registry (a lock's holder is alive while its record says RUNNING)
    env: 'EDGEKEEPER_LOCAL_EXECUTIONS_DIR',
    schema: z.optional(z.string().check(z.minLength(1))),
    codec: text,
  }),
} as const;

type Specs = typeof SETTING_SPECS;
export type SettingName = keyof Specs;

/** What the steps read: every setting by name, defaults applied. */
export type Settings = { readonly [N in SettingName]: z.output<Specs[N]['schema']> };
/** Setting values before defaults, as a local runtime gives some of them. */
export type SettingsInput = { readonly [N in SettingName]?: NonNullable<z.output<Specs[N]['schema']>> };

/** The environment variable of every setting, by name. */
export const SETTINGS_ENV = Object.freeze(
  Object.fromEntries(Object.entries(SETTING_SPECS).map(([name, spec]) => [name, spec.env])),
) as { readonly [N in SettingName]: Specs[N]['env'] };

const SPEC_ENTRIES = Object.entries(SETTING_SPECS) as [SettingName, SettingSpec<z.ZodMiniType>][];

// ---------------------------------------------------------------------------------------------------------------
// Checks between settings
// ---------------------------------------------------------------------------------------------------------------

/** A problem between settings: all are named, since any of them may be the one to change. */
export interface CrossProblem {
  readonly settings: readonly [SettingName, ...SettingName[]];
  readonly reason: string;
}

/** What EKS authentication needs besides `clusterAuth`: the token names the cluster, the client pins its API. */
export const EKS_SETTINGS = ['eksClusterName', 'clusterEndpoint', 'clusterCertificateAuthority'] as const;

/**
 * Rules no single value can break. The keadm reset runs inside the reset script's host command: if it could run
 * as long as the command, SSM would kill the script before it reports what it left on the host. EKS authentication
 * has no kubeconfig to take the cluster from, so it needs the cluster's name, endpoint and certificate authority.
 */
export function crossProblems(settings: Settings): CrossProblem[] {
  const problems: CrossProblem[] = [];
  const missing = EKS_SETTINGS.filter((name) => settings[name] === undefined);
  if (settings.clusterAuth === 'eks' && missing.length > 0) {
    problems.push({
      settings: ['clusterAuth', ...missing],
      reason:
        "cluster auth eks needs the EKS cluster's name, API endpoint and certificate authority: " +
        'set the ones named after the auth',
    });
  }
  if (settings.keadmResetTimeoutSeconds >= settings.hostCommandTimeoutSeconds) {
    problems.push({
      settings: ['keadmResetTimeoutSeconds', 'hostCommandTimeoutSeconds'],
      reason:
        `the keadm reset timeout (${settings.keadmResetTimeoutSeconds} s) must be shorter than the host command ` +
        `timeout (${settings.hostCommandTimeoutSeconds} s), which bounds the whole reset script`,
    });
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// The environment the steps read
// ---------------------------------------------------------------------------------------------------------------

/** The environment a step sees: a variable map, like process.env. */
export type Environment = Readonly<Record<string, string | undefined>>;

const environments = new AsyncLocalStorage<Environment>();

/**
 * Runs `fn` with `env` as the environment `readSettings` reads, for everything `fn` awaits, without touching
 * process.env: the local runtime runs several handlers in one process, each with its own settings. The
 * environment is taken whole (merge in process.env yourself if the shell's variables should count).
 */
export function runWithEnvironment<T>(env: Environment, fn: () => T): T {
  return environments.run(Object.freeze({ ...env }), fn);
}

/** The environment of the current call: the one given to `runWithEnvironment`, else process.env. */
export function currentEnvironment(): Environment {
  return environments.getStore() ?? process.env;
}

/**
 * Reads the settings from an environment (by default the current one, see `runWithEnvironment`); an empty variable
 * counts as unset. A bad value fails naming the variable, the value and the reason.
 * @throws SettingsError
 */
export function readSettings(env: Environment = currentEnvironment()): Settings {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, spec] of SPEC_ENTRIES) {
    const raw = env[spec.env];
    if (raw === undefined || raw === '') continue;
    try {
      const decoded = spec.codec.decode(raw);
      const parsed = spec.schema.safeParse(decoded);
      if (parsed.success) values[name] = parsed.data;
      else
        problems.push(...parsed.error.issues.map((issue) => `${spec.env}=${JSON.stringify(raw)}: ${describe(issue)}`));
    } catch (error) {
      if (!(error instanceof UnreadableValue)) throw error;
      problems.push(`${spec.env}=${JSON.stringify(raw)}: ${error.message}`);
    }
  }
  if (problems.length > 0) throw new SettingsError(`invalid settings: ${problems.join('; ')}`);
  const settings = completeSettings(values);
  const cross = crossProblems(settings).map(
    (problem) =>
      `${problem.settings.map((name) => `${SETTINGS_ENV[name]}=${JSON.stringify(env[SETTINGS_ENV[name]] ?? '')}`).join(', ')}: ${problem.reason}`,
  );
  if (cross.length > 0) throw new SettingsError(`invalid settings: ${cross.join('; ')}`);
  return settings;
}

/** `values` (which must already be valid) with the default of every setting they leave out. */
export function completeSettings(values: SettingsInput): Settings {
  const settings: Record<string, unknown> = {};
  for (const [name, spec] of SPEC_ENTRIES) {
    const value = spec.schema.parse((values as Record<string, unknown>)[name]);
    if (value !== undefined) settings[name] = value;
  }
  return settings as Settings;
}

/** A zod issue as `<part>: <reason>`, the part naming the element of a list or a port, when there is one. */
export function describe(issue: z.core.$ZodIssue): string {
  const part = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return `${part}${issue.message}`;
}

/**
 * The environment variables that carry these values to the steps, as strings; unset values are left out. The
 * inverse of `readSettings`: `readSettings(settingsEnvironment(values))` gives back `values`, defaults added.
 */
export function settingsEnvironment(values: SettingsInput): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, spec] of SPEC_ENTRIES) {
    const value = values[name];
    if (value !== undefined) env[spec.env] = spec.codec.encode(value);
  }
  return env;
}

// ---------------------------------------------------------------------------------------------------------------
// The CDK context, derived from the same table (lib/config.ts adds the settings only the stack uses)
// ---------------------------------------------------------------------------------------------------------------

type PathOf<N extends SettingName> = Specs[N]['context'];
type ContextValue<N extends SettingName> = Specs[N]['deployedDefault'] extends undefined
  ? z.output<Specs[N]['schema']>
  : NonNullable<z.output<Specs[N]['schema']>>;
type GroupName = { [N in SettingName]: PathOf<N> extends readonly [infer G, string] ? G : never }[SettingName];
type Group<G> = {
  readonly [N in SettingName as PathOf<N> extends readonly [G, infer K extends string] ? K : never]: ContextValue<N>;
};
type TopLevel = {
  readonly [N in SettingName as PathOf<N> extends readonly [infer K extends string] ? K : never]: ContextValue<N>;
};

/** The step settings as the CDK context holds them (`edgekeeper.timeouts.nodeReadySeconds`, …), parsed. */
export type ContextSettings = { readonly [G in GroupName & string]: Group<G> } & TopLevel;

/** The settings the CDK context can set, with the path of each. */
export const CONTEXT_SETTINGS: readonly { readonly name: SettingName; readonly path: ContextPath }[] =
  SPEC_ENTRIES.flatMap(([name, spec]) => (spec.context ? [{ name, path: spec.context }] : []));

/**
 * The zod shape of the step settings in the CDK context: groups are strict objects (a typo is refused, not
 * ignored) that default to `{}`; each leaf is the setting's own schema, with a deployment's default where it has one.
 */
export function contextShape(): Record<string, z.ZodMiniType> {
  const groups: Record<string, Record<string, z.ZodMiniType>> = {};
  const shape: Record<string, z.ZodMiniType> = {};
  for (const [, spec] of SPEC_ENTRIES) {
    if (!spec.context) continue;
    const leaf =
      spec.deployedDefault === undefined
        ? spec.schema
        : z._default(
            spec.schema instanceof z.ZodMiniOptional ? (spec.schema._zod.def.innerType as z.ZodMiniType) : spec.schema,
            spec.deployedDefault,
          );
    const [first, second] = spec.context;
    if (second === undefined) shape[first] = leaf;
    else {
      groups[first] ??= {};
      groups[first][second] = leaf;
    }
  }
  for (const [group, members] of Object.entries(groups)) shape[group] = z.prefault(z.strictObject(members), {});
  return shape;
}

/** The step settings a parsed CDK context gives, by name (the flat form `readSettings` returns). */
export function settingsFromContext(context: ContextSettings): SettingsInput {
  const values: Record<string, unknown> = {};
  for (const { name, path } of CONTEXT_SETTINGS) {
    const [first, second] = path;
    const holder = context as unknown as Record<string, unknown>;
    const value = second === undefined ? holder[first] : (holder[first] as Record<string, unknown>)[second];
    if (value !== undefined) values[name] = value;
  }
  return values as SettingsInput;
}

/** `edgekeeper.timeouts.nodeReadySeconds` for a setting the CDK context can set, else undefined. */
export function contextPathOf(name: SettingName): string | undefined {
  const path = SETTING_SPECS[name].context as ContextPath | undefined;
  return path && ['edgekeeper', ...path].join('.');
}
