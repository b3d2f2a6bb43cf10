import type { V1ConfigMap, V1Deployment, V1Node, V1Pod } from '@kubernetes/client-node';
import { ageOf, type FindingCollector, finding, type Page, pages } from '../drift-findings/findings';
import { classifyDaemonSet, type DaemonSet } from '../shared/daemonset-fence';
import {
  EDGE_ROLE_LABEL,
  EDGE_WATCHER_CONFIGMAP,
  KUBEEDGE_NAMESPACE,
  LOCK_NAMESPACE,
  MANAGED_ANNOTATIONS,
} from '../shared/domain';
import { isSupportedVersion, supportedVersions } from '../shared/keadm/profiles';
import { Region } from '../shared/kubeedge-schemas';
import { type LockPorts, viewLease } from '../shared/node-lock';

/** The narrow Kubernetes port of the cluster checks: paginated lists and single reads, nothing that writes. */
export interface ClusterReadPort {
  /** nodes with the edge role label */
  listEdgeNodes(continueToken?: string): Promise<Page<V1Node>>;
  listDaemonSets(continueToken?: string): Promise<Page<DaemonSet>>;
  /** pods bound to a node, of every namespace */
  listBoundPods(continueToken?: string): Promise<Page<V1Pod>>;
  readDeployment(namespace: string, name: string): Promise<V1Deployment | null>;
  readConfigMap(namespace: string, name: string): Promise<V1ConfigMap | null>;
}

export interface ClusterCheckConfig {
  /** `namespace/name` of DaemonSets allowed on edge nodes (the onboarding's own allowlist) */
  readonly allowlist: readonly string[];
}

/** Where cloudcore runs (KubeSphere's chart and upstream `keadm init` both name it so). */
export const CLOUDCORE_DEPLOYMENT = { namespace: KUBEEDGE_NAMESPACE, name: 'cloudcore' } as const;
/** Where Metrics Server runs on KubeSphere (ks-installer) and with the upstream manifest. */
export const METRICS_SERVER_DEPLOYMENT = { namespace: 'kube-system', name: 'metrics-server' } as const;
/** The oldest Metrics Server that reports edge nodes' CPU and memory (docs/operating.md, "Drift checks"). */
export const METRICS_SERVER_MINIMUM = '0.4.1';
/**
 * How many minor versions an edge node's KubeEdge may lag cloudcore's: KubeSphere itself pairs cloudcore v1.7.2
 * with edge nodes of v1.5.0 to v1.6.2. An edge node newer than cloudcore is never supported.
 */
export const MAX_MINOR_SKEW = 2;

/**
 * Runs every cluster-side check, streaming each list page by page into the collector: unfenced DaemonSets, edge
 * nodes not Ready and their KubeEdge version against cloudcore's, Pending or crash-looping pods on edge nodes,
 * Metrics Server's version, edge-watcher-config, and Leases whose holder has ended.
 */
export async function checkCluster(
  port: ClusterReadPort,
  locks: LockPorts,
  config: ClusterCheckConfig,
  collector: FindingCollector,
  now: Date,
): Promise<void> {
  await checkDaemonSets(port, config, collector);
  const edgeNodes = await checkEdgeNodes(port, collector, now);
  await checkEdgePods(port, collector, edgeNodes);
  await checkMetricsServer(port, collector);
  await checkEdgeWatcherConfig(port, collector);
  await checkLocks(locks, collector, now);
}

/** DaemonSets that onboarding's guard would patch now: the very predicate it uses, so "fenced" means one thing. */
export async function checkDaemonSets(
  port: ClusterReadPort,
  config: ClusterCheckConfig,
  collector: FindingCollector,
): Promise<void> {
  for await (const page of pages((token) => port.listDaemonSets(token))) {
    for (const daemonSet of page) {
      if (classifyDaemonSet(daemonSet, config).action !== 'patch') continue;
      const { namespace, name } = daemonSet.metadata;
      await collector.add(
        finding(
          'daemonset-unfenced',
          `daemonset/${namespace}/${name}`,
          'its pods can be scheduled onto edge nodes',
          `a required node affinity with ${EDGE_ROLE_LABEL} DoesNotExist (or the allowlist / edge-allowed annotation)`,
        ),
      );
    }
  }
}

/**
 * Edge nodes not Ready (and since when), and KubeEdge versions outside cloudcore's skew.
 * @returns the names of the edge nodes, for the pod check
 */
export async function checkEdgeNodes(
  port: ClusterReadPort,
  collector: FindingCollector,
  now: Date,
): Promise<Set<string>> {
  const names = new Set<string>();
  const cloudcore = versionOfImage(
    await port.readDeployment(CLOUDCORE_DEPLOYMENT.namespace, CLOUDCORE_DEPLOYMENT.name),
  );
  if (!cloudcore) collector.note('cloudcore version unknown (no kubeedge/cloudcore Deployment): skew not checked');
  for await (const page of pages((token) => port.listEdgeNodes(token))) {
    for (const node of page) {
      const name = node.metadata?.name ?? '';
      names.add(name);
      const ready = node.status?.conditions?.find((condition) => condition.type === 'Ready');
      if (ready?.status !== 'True') {
        const since = ready?.lastTransitionTime ? new Date(ready.lastTransitionTime) : undefined;
        await collector.add(
          finding(
            'node-not-ready',
            `node/${name}`,
            `Ready=${ready?.status ?? 'absent'}${ready?.reason ? ` (${ready.reason})` : ''}` +
              (since ? ` since ${since.toISOString()} (${ageOf(since, now)})` : ''),
            'Ready=True: edgecore running and connected to cloudcore',
          ),
        );
      }
      const edge = edgeVersionOf(node);
      if (cloudcore && edge) {
        const problem = skewProblem(edge, cloudcore);
        if (problem) {
          await collector.add(
            finding(
              'version-skew',
              `node/${name}`,
              `KubeEdge ${edge.text} with cloudcore ${cloudcore.text}: ${problem}`,
              `KubeEdge v${cloudcore.major}.${Math.max(0, cloudcore.minor - MAX_MINOR_SKEW)} to ` +
                `v${cloudcore.major}.${cloudcore.minor} (at most ${MAX_MINOR_SKEW} minor versions behind cloudcore)`,
            ),
          );
        }
      }
    }
  }
  return names;
}

/**
 * Pods bound to edge nodes that are Pending or crash-looping. Pods are listed cluster-wide page by page; whether a
 * pod's node is an edge node comes from the edge nodes' own listing (`edgeNodes`, else listed here), never from a
 * read per node: on a cluster of thousands of nodes that would be thousands of requests. What is kept is the edge
 * nodes' names alone, a few dozen bytes each.
 */
export async function checkEdgePods(
  port: ClusterReadPort,
  collector: FindingCollector,
  edgeNodes?: ReadonlySet<string>,
): Promise<void> {
  const edge = edgeNodes ?? (await edgeNodeNames(port));
  for await (const page of pages((token) => port.listBoundPods(token))) {
    for (const pod of page) {
      const nodeName = pod.spec?.nodeName;
      if (!nodeName) continue;
      const looping = (pod.status?.containerStatuses ?? []).find(
        (status) => status.state?.waiting?.reason === 'CrashLoopBackOff',
      );
      const pending = pod.status?.phase === 'Pending';
      if (!looping && !pending) continue;
      if (!edge.has(nodeName)) continue;
      const object = `pod/${pod.metadata?.namespace}/${pod.metadata?.name}`;
      if (looping) {
        await collector.add(
          finding(
            'pod-crash-looping',
            object,
            `container ${looping.name} in CrashLoopBackOff on edge node ${nodeName} (${looping.restartCount} restarts)`,
            'containers running',
          ),
        );
      } else {
        await collector.add(
          finding(
            'pod-pending',
            object,
            `Pending on edge node ${nodeName}${pendingReason(pod)}`,
            'Running; a cloud workload (CNI, kube-proxy) does not belong on an edge node',
          ),
        );
      }
    }
  }
}

async function edgeNodeNames(port: ClusterReadPort): Promise<Set<string>> {
  const names = new Set<string>();
  for await (const page of pages((token) => port.listEdgeNodes(token))) {
    for (const node of page) names.add(node.metadata?.name ?? '');
  }
  return names;
}

function pendingReason(pod: V1Pod): string {
  const waiting = (pod.status?.containerStatuses ?? []).find((status) => status.state?.waiting?.reason);
  return waiting ? ` (${waiting.state?.waiting?.reason})` : '';
}

/** Metrics Server missing or older than 0.4.1. */
export async function checkMetricsServer(port: ClusterReadPort, collector: FindingCollector): Promise<void> {
  const { namespace, name } = METRICS_SERVER_DEPLOYMENT;
  const deployment = await port.readDeployment(namespace, name);
  const object = `deployment/${namespace}/${name}`;
  const expected = `Metrics Server ${METRICS_SERVER_MINIMUM} or later (edge nodes' CPU and memory)`;
  if (!deployment) {
    await collector.add(finding('metrics-server-outdated', object, 'not installed', expected));
    return;
  }
  const version = versionOfImage(deployment);
  if (!version) {
    collector.note(`Metrics Server's version cannot be read from its image: not checked`);
    return;
  }
  if (compareVersions(version, parseVersion(METRICS_SERVER_MINIMUM) as Version) < 0) {
    await collector.add(finding('metrics-server-outdated', object, `version ${version.text}`, expected));
  }
}

/**
 * edge-watcher-config, when present, must name a version edgekeeper installs and a region KubeSphere knows
 * (KubeSphere refuses to add edge nodes otherwise). Absent is KubeSphere's default (docs/kubeedge.md §1): its
 * defaults apply, so absence is not drift.
 */
export async function checkEdgeWatcherConfig(port: ClusterReadPort, collector: FindingCollector): Promise<void> {
  const config = await port.readConfigMap(KUBEEDGE_NAMESPACE, EDGE_WATCHER_CONFIGMAP);
  if (!config) return;
  const object = `configmap/${KUBEEDGE_NAMESPACE}/${EDGE_WATCHER_CONFIGMAP}`;
  const version = config.data?.version ?? '';
  const region = config.data?.region ?? '';
  const problems = [
    ...(isSupportedVersion(version) ? [] : [`version ${JSON.stringify(version.slice(0, 40))} is not supported`]),
    ...(Region.safeParse(region).success ? [] : [`region ${JSON.stringify(region.slice(0, 40))} is not zh or en`]),
  ];
  if (problems.length === 0) return;
  await collector.add(
    finding(
      'edge-watcher-config-invalid',
      object,
      problems.join('; '),
      `version one of ${supportedVersions().join(', ')}; region zh or en`,
    ),
  );
}

/** edgekeeper's Leases whose holder has ended (or, its status unknown, whose time ran out): node-lock's own rule. */
export async function checkLocks(locks: LockPorts, collector: FindingCollector, now: Date): Promise<void> {
  for (const lease of await locks.leases.listLeases()) {
    const view = await viewLease(locks, lease, now);
    if (!view.free) continue;
    await collector.add(
      finding(
        'stale-lock',
        `lease/${LOCK_NAMESPACE}/${view.lease}`,
        `held by ${view.holder ?? 'nobody'} (${view.holderStatus === 'ended' ? 'ended' : 'status unknown, expired'})` +
          `${view.nodeName ? ` for node ${view.nodeName}` : ''} since ${view.acquiredAt ?? 'an unknown time'}`,
        'no Lease outlives the execution that took it',
      ),
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Versions
// ---------------------------------------------------------------------------------------------------------------

export interface Version {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** as written, e.g. `v1.7.2` */
  readonly text: string;
}

/** `v1.7.2`, `1.7.2`, `v1.6.1-kubesphere` → its numbers; anything else → undefined. */
export function parseVersion(text: string): Version | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(text.trim());
  if (!match) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]), text: text.trim() };
}

export function compareVersions(a: Version, b: Version): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/** The version in the tag of a Deployment's first container image (`kubesphere/cloudcore:v1.7.2`). */
export function versionOfImage(deployment: V1Deployment | null): Version | undefined {
  const image = deployment?.spec?.template.spec?.containers?.[0]?.image ?? '';
  const tag = image.slice(image.lastIndexOf('/') + 1).split(':')[1];
  return tag ? parseVersion(tag.split('@')[0]) : undefined;
}

/** An edge node's KubeEdge version: edged's `<k8s>-kubeedge-<version>` kubelet version, else edgekeeper's record. */
export function edgeVersionOf(node: V1Node): Version | undefined {
  const kubelet = node.status?.nodeInfo?.kubeletVersion ?? '';
  const reported = /-kubeedge-(v?\d+\.\d+\.\d+\S*)$/.exec(kubelet)?.[1];
  const recorded = node.metadata?.annotations?.[MANAGED_ANNOTATIONS.kubeedgeVersion];
  return parseVersion(reported ?? recorded ?? '');
}

/** Why an edge version is outside cloudcore's skew, or undefined when it is within. */
export function skewProblem(edge: Version, cloudcore: Version): string | undefined {
  if (edge.major !== cloudcore.major) return 'another major version';
  if (edge.minor > cloudcore.minor) return 'the edge is newer than cloudcore';
  if (cloudcore.minor - edge.minor > MAX_MINOR_SKEW) {
    return `${cloudcore.minor - edge.minor} minor versions behind (at most ${MAX_MINOR_SKEW})`;
  }
  return undefined;
}
