import { load } from 'js-yaml';
import { EdgekeeperError } from '../errors';
import { DEFAULT_KUBEEDGE_VERSION, normalizeVersion, profileFor } from '../keadm/profiles';
import { type CloudcorePorts, DEFAULT_CLOUDCORE_PORTS, type KeadmProfile, type Region } from '../kubeedge-schemas';
import type { EdgeWatcherConfig, OnboardRequest } from '../schemas';
import { ARCH_PLACEHOLDER, type JoinSettings } from './schema';

/** What the handler reads from the cluster for this step. */
export interface ClusterJoinInputs {
  /** `data['cloudcore.yaml']` of ConfigMap `kubeedge/cloudcore`. */
  readonly cloudcoreYaml: string;
  /** `data` of ConfigMap `kubeedge/edge-watcher-config`, null/undefined when absent. */
  readonly edgeWatcherConfig?: EdgeWatcherConfig | null;
}

/** Deployment settings for this step. */
export interface JoinConfig {
  /** Address edge hosts dial; @default `modules.cloudHub.advertiseAddress[0]` of cloudcore.yaml */
  readonly cloudcorePublicAddress?: string;
  /** Public ports; @default KubeSphere's table, 10000–10004 */
  readonly cloudcorePorts?: CloudcorePorts;
  /** Replaces `https://kubeedge.pek3b.qingstor.com` / `https://github.com`, keeping the path (air-gapped sites). */
  readonly downloadMirror?: string;
  /** @default v1.6.1 */
  readonly defaultVersion?: string;
  /** @default zh */
  readonly defaultRegion?: Region;
}

/** cloudcore.yaml lacks what the join needs, or cannot be parsed. Permanent: the cluster needs fixing. */
export class CloudcoreConfigError extends EdgekeeperError {
  override readonly name = 'CloudcoreConfigError';
}

/** Re-exported for callers of this step; defined with JoinSettings. */
export { ARCH_PLACEHOLDER };

const QINGSTOR = 'https://kubeedge.pek3b.qingstor.com';
const GITHUB = 'https://github.com';

/**
 * Decides everything the host script needs. Precedence for version and region: the request, then
 * edge-watcher-config (as KubeSphere reads it), then the deployment's defaults.
 *
 * edge-watcher-config's `uri` replaces the whole download URL, as KubeSphere does, but only when the version in use
 * is the ConfigMap's own: a request that picks another version would otherwise download the wrong keadm.
 * @throws CloudcoreConfigError when no cloudcore address can be found
 */
export function resolveJoinSettings(
  request: Pick<OnboardRequest, 'nodeName' | 'nodeIp' | 'taint' | 'kubeedgeVersion' | 'region' | 'labels'>,
  cluster: ClusterJoinInputs,
  config: JoinConfig = {},
): JoinSettings {
  const watcher = cluster.edgeWatcherConfig ?? undefined;
  const watcherVersion = watcher?.version ? normalizeVersion(watcher.version) : undefined;
  const version = normalizeVersion(
    request.kubeedgeVersion ?? watcherVersion ?? config.defaultVersion ?? DEFAULT_KUBEEDGE_VERSION,
  );
  const profile = profileFor(version);
  const region = request.region ?? asRegion(watcher?.region) ?? config.defaultRegion ?? 'zh';
  const watcherUri = watcher?.uri?.trim() && watcherVersion === version ? watcher.uri.trim() : undefined;
  return {
    nodeName: request.nodeName,
    nodeIp: request.nodeIp,
    profile,
    version,
    region,
    downloadUrl: watcherUri
      ? normalizeArchPlaceholder(watcherUri)
      : downloadUrlFor(profile, version, region, config.downloadMirror),
    cloudcore: {
      address: config.cloudcorePublicAddress ?? advertiseAddress(cluster.cloudcoreYaml),
      // cloudcore.yaml holds container ports (10000…); the edge dials the public ones (KubeSphere's table, or NodePorts).
      ports: { ...(config.cloudcorePorts ?? DEFAULT_CLOUDCORE_PORTS) },
    },
    taint: request.taint,
    labels: { ...(request.labels ?? {}) },
  };
}

function asRegion(value: string | undefined): Region | undefined {
  return value === 'zh' || value === 'en' ? value : undefined;
}

/**
 * KubeSphere's download URLs (docs/kubeedge.md §2), upstream's release URL, with `${arch}` left for the host. A mirror
 * replaces the scheme+host of the original, keeping the path, so a mirror only has to copy the same tree.
 */
export function downloadUrlFor(profile: KeadmProfile, version: string, region: Region, mirror?: string): string {
  const tarball = `keadm-${version}-linux-${ARCH_PLACEHOLDER}.tar.gz`;
  const [origin, path] =
    profile === 'upstream'
      ? [GITHUB, `/kubeedge/kubeedge/releases/download/${version}/${tarball}`]
      : region === 'zh'
        ? [QINGSTOR, `/bin/${version}/${ARCH_PLACEHOLDER}/${tarball}`]
        : [GITHUB, `/kubesphere/kubeedge/releases/download/${version}-kubesphere/${tarball}`];
  return `${mirror ? mirror.replace(/\/+$/, '') : origin}${path}`;
}

/** KubeSphere's `uri` uses the shell's `$arch`; edgekeeper's placeholder is `${arch}`. */
function normalizeArchPlaceholder(uri: string): string {
  return uri.replace(/\$\{arch\}|\$arch\b/g, ARCH_PLACEHOLDER);
}

/** `modules.cloudHub.advertiseAddress[0]` of cloudcore.yaml. */
export function advertiseAddress(cloudcoreYaml: string): string {
  const key = 'modules.cloudHub.advertiseAddress[0]';
  let parsed: unknown;
  try {
    parsed = load(cloudcoreYaml);
  } catch (error) {
    throw new CloudcoreConfigError(`configmap kubeedge/cloudcore: cloudcore.yaml is not valid YAML: ${String(error)}`);
  }
  const address = dig(parsed, ['modules', 'cloudHub', 'advertiseAddress', 0]);
  if (typeof address !== 'string' || address.trim() === '') {
    throw new CloudcoreConfigError(
      `configmap kubeedge/cloudcore: cloudcore.yaml has no ${key}; set it or configure the cloudcore public address`,
    );
  }
  return address.trim();
}

function dig(value: unknown, path: readonly (string | number)[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}
