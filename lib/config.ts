import { z } from 'zod';
import { CloudcorePorts, DEFAULT_CLOUDCORE_PORTS, valueAt } from '../functions/shared/schemas';
import { formatPorts, SETTINGS_ENV } from '../functions/shared/settings';

/**
 * Deployment settings, read from the `edgekeeper` key of the CDK context (`cdk.json` or `-c edgekeeper=…`).
 * Every field has a default that synthesizes without an AWS account, so `npx cdk synth` works on a fresh clone.
 */
export const EdgekeeperConfig = z.strictObject({
  cluster: z
    .strictObject({
      /** SSM SecureString parameter holding the kubeconfig the Lambda steps use to reach the cluster */
      kubeconfigParameterName: z.string().startsWith('/').default('/edgekeeper/kubeconfig'),
    })
    .prefault({}),
  cloudcore: z
    .strictObject({
      /** address edge hosts dial; when absent, cloudcore's own advertiseAddress */
      publicAddress: z.string().min(1).optional(),
      /** public ports edge hosts dial (the seed forwards 10000–10004 to NodePorts 30000–30004) */
      ports: CloudcorePorts.default(DEFAULT_CLOUDCORE_PORTS),
    })
    .prefault({}),
  keadm: z
    .strictObject({
      defaultVersion: z.string().default('v1.6.1'),
      defaultRegion: z.enum(['zh', 'en']).default('zh'),
      /** base URL of a mirror that serves the keadm tarballs under the official paths (air-gapped sites) */
      downloadMirror: z.url({ protocol: /^https?$/ }).optional(),
    })
    .prefault({}),
  lambda: z
    .strictObject({
      architecture: z.enum(['arm64', 'x86_64']).default('arm64'),
      logRetentionDays: z.number().int().positive().default(30),
    })
    .prefault({}),
  timeouts: z
    .strictObject({
      nodeReadySeconds: z.number().int().positive().default(600),
      hostCommandSeconds: z.number().int().positive().default(900),
    })
    .prefault({}),
  /** DaemonSets (`namespace/name`) that may run on edge nodes and must never be patched */
  daemonSetAllowlist: z.array(z.string().regex(/^[a-z0-9-]+\/[a-z0-9.-]+$/)).default([]),
  /** `kubectl logs/exec` to edge pods: DNAT rules on the cloud hosts (KUBEEDGE.md §6), off by default */
  routing: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** SSM tag (`key=value`) of the cloud hosts that get the rules */
      cloudHostTag: z
        .string()
        .regex(/^[^=\s]+=[^=\s]+$/)
        .default('edgekeeper-role=cloud'),
      /** cloudcore's stream server as cloud hosts reach it; default the public address and stream port */
      streamEndpoint: z
        .string()
        .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/)
        .optional(),
    })
    .prefault({}),
  /** the KubeEdge Helm release: `kubeedge` on KubeSphere 3.1/3.2, `cloudcore` on 3.3 */
  helmRelease: z.string().min(1).default('kubeedge'),
});
export type EdgekeeperConfig = z.output<typeof EdgekeeperConfig>;

/**
 * Parses the context value; a mistake names the key path, the value and the reason. `cdk -c edgekeeper='{…}'`
 * passes the value as a string (the CDK CLI does not parse context values), so a string is read as JSON.
 */
export function parseConfig(context: unknown): EdgekeeperConfig {
  const value = typeof context === 'string' ? parseJson(context) : (context ?? {});
  const parsed = EdgekeeperConfig.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const received = valueAt(value, issue.path);
    const shown = received === undefined ? '' : ` (got ${JSON.stringify(received)})`;
    return `${['edgekeeper', ...issue.path].join('.')}: ${issue.message}${shown}`;
  });
  throw new Error(`invalid edgekeeper settings in the CDK context: ${problems.join('; ')}`);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(
      `invalid edgekeeper settings in the CDK context: edgekeeper is not JSON: ${(error as Error).message}`,
    );
  }
}

/** The Lambda environment that carries these settings to the steps (read back by `readSettings`). */
export function stepEnvironment(config: EdgekeeperConfig): Record<string, string> {
  const env: Record<string, string> = {
    [SETTINGS_ENV.kubeconfigParameter]: config.cluster.kubeconfigParameterName,
    [SETTINGS_ENV.cloudcorePorts]: formatPorts(config.cloudcore.ports),
    [SETTINGS_ENV.defaultKubeedgeVersion]: config.keadm.defaultVersion,
    [SETTINGS_ENV.defaultRegion]: config.keadm.defaultRegion,
    [SETTINGS_ENV.nodeReadyTimeoutSeconds]: String(config.timeouts.nodeReadySeconds),
    [SETTINGS_ENV.hostCommandTimeoutSeconds]: String(config.timeouts.hostCommandSeconds),
    [SETTINGS_ENV.daemonSetAllowlist]: config.daemonSetAllowlist.join(','),
    [SETTINGS_ENV.helmRelease]: config.helmRelease,
    [SETTINGS_ENV.routing]: config.routing.enabled ? 'on' : 'off',
    [SETTINGS_ENV.cloudHostTag]: config.routing.cloudHostTag,
  };
  if (config.routing.streamEndpoint) env[SETTINGS_ENV.streamEndpoint] = config.routing.streamEndpoint;
  if (config.cloudcore.publicAddress) env[SETTINGS_ENV.cloudcorePublicAddress] = config.cloudcore.publicAddress;
  if (config.keadm.downloadMirror) env[SETTINGS_ENV.downloadMirror] = config.keadm.downloadMirror;
  return env;
}
