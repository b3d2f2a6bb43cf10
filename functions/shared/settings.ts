import { z } from 'zod';
import { CloudcorePorts, DEFAULT_CLOUDCORE_PORTS } from './schemas';

/**
 * The deployment settings a Lambda step reads, all from its environment: CDK sets them from `lib/config.ts`,
 * the local runtime sets them from the shell or from a sandbox's `sandbox.json`. Reading them in one place keeps
 * the names in one place.
 */
export const SETTINGS_ENV = {
  kubeconfigParameter: 'EDGEKEEPER_KUBECONFIG_PARAMETER',
  kubeconfigPath: 'KUBECONFIG',
  ssmEndpoint: 'EDGEKEEPER_SSM_ENDPOINT',
  cloudcorePublicAddress: 'EDGEKEEPER_CLOUDCORE_ADDRESS',
  cloudcorePorts: 'EDGEKEEPER_CLOUDCORE_PORTS',
  downloadMirror: 'EDGEKEEPER_DOWNLOAD_MIRROR',
  defaultKubeedgeVersion: 'EDGEKEEPER_DEFAULT_KUBEEDGE_VERSION',
  defaultRegion: 'EDGEKEEPER_DEFAULT_REGION',
  nodeReadyTimeoutSeconds: 'EDGEKEEPER_NODE_READY_TIMEOUT_SECONDS',
  hostCommandTimeoutSeconds: 'EDGEKEEPER_HOST_COMMAND_TIMEOUT_SECONDS',
  lockDurationSeconds: 'EDGEKEEPER_LOCK_DURATION_SECONDS',
  daemonSetAllowlist: 'EDGEKEEPER_DAEMONSET_ALLOWLIST',
  helmRelease: 'EDGEKEEPER_HELM_RELEASE',
  routing: 'EDGEKEEPER_ROUTING',
  cloudHostTag: 'EDGEKEEPER_CLOUD_HOST_TAG',
  streamEndpoint: 'EDGEKEEPER_STREAM_ENDPOINT',
} as const;

export type SettingName = keyof typeof SETTINGS_ENV;

/** `cloudhub=10000,quic=10001,…` ⇄ object; env values are strings. */
export function formatPorts(ports: CloudcorePorts): string {
  return Object.entries(ports)
    .map(([name, value]) => `${name}=${value}`)
    .join(',');
}

function parsePorts(text: string): Record<string, number> {
  return Object.fromEntries(
    text.split(',').map((pair) => {
      const [name, value] = pair.split('=').map((part) => part.trim());
      return [name, Number(value)];
    }),
  );
}

const Settings = z.object({
  kubeconfigParameter: z.string().min(1).optional(),
  kubeconfigPath: z.string().min(1).optional(),
  ssmEndpoint: z.url({ protocol: /^https?$/ }).optional(),
  cloudcorePublicAddress: z.string().min(1).optional(),
  cloudcorePorts: z
    .preprocess((value) => (typeof value === 'string' ? parsePorts(value) : value), CloudcorePorts)
    .default(DEFAULT_CLOUDCORE_PORTS),
  downloadMirror: z.url({ protocol: /^https?$/ }).optional(),
  defaultKubeedgeVersion: z.string().default('v1.6.1'),
  defaultRegion: z.enum(['zh', 'en']).default('zh'),
  nodeReadyTimeoutSeconds: z.coerce.number().int().positive().default(600),
  hostCommandTimeoutSeconds: z.coerce.number().int().positive().default(900),
  lockDurationSeconds: z.coerce.number().int().positive().default(3600),
  daemonSetAllowlist: z
    .string()
    .transform((text) =>
      text
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    )
    .default([]),
  helmRelease: z.string().min(1).default('kubeedge'),
  /** logs/exec routing on the cloud hosts (KUBEEDGE.md §6): off unless asked for */
  routing: z.enum(['on', 'off']).default('off'),
  /** the SSM tag that marks cloud hosts, `key=value` */
  cloudHostTag: z
    .string()
    .regex(/^[^=\s]+=[^=\s]+$/, { error: 'must be key=value' })
    .default('edgekeeper-role=cloud'),
  /** cloudcore's stream server as cloud hosts reach it; default the public address and stream port */
  streamEndpoint: z
    .string()
    .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, { error: 'must be host:port' })
    .optional(),
});
export type Settings = z.output<typeof Settings>;

/** Reads the settings from an environment; a bad value fails naming the variable, the value and the reason. */
export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const raw = Object.fromEntries(
    Object.entries(SETTINGS_ENV)
      .map(([key, variable]) => [key, env[variable] === '' ? undefined : env[variable]])
      .filter(([, value]) => value !== undefined),
  );
  const parsed = Settings.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0]) as SettingName;
      // a port list has several values in one variable: say which one is wrong
      const part = issue.path.length > 1 ? `${issue.path.slice(1).join('.')}: ` : '';
      return `${SETTINGS_ENV[key]}=${JSON.stringify(raw[key])}: ${part}${issue.message}`;
    });
    throw new SettingsError(`invalid settings: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** A deployment setting is malformed: a configuration mistake, never worth a retry. */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}
