import { createHash, randomBytes, randomInt } from 'node:crypto';
import { apiVersionOf, R, type ResourceType } from '../resources';
import type { Store } from '../store';
import { isJsonObject, type KubeObject } from '../types';

/** The alphabet Kubernetes uses for random name suffixes (no vowels, no look-alikes). */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** `n` random characters from Kubernetes' suffix alphabet, as in `calico-node-7xk2p`. */
export function randomSuffix(n = 5): string {
  let out = '';
  for (let i = 0; i < n; i += 1) out += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
  return out;
}

/** A stable short hash of a pod template, spelled like `controller-revision-hash` / `pod-template-hash`. */
export function templateHash(template: unknown): string {
  const digest = createHash('sha256')
    .update(JSON.stringify(template ?? {}))
    .digest();
  let out = '';
  for (let i = 0; i < 10; i += 1) out += SUFFIX_ALPHABET[digest[i] % SUFFIX_ALPHABET.length];
  return out;
}

/** The InternalIP of a node, or '' when it has none. */
export function internalIp(node: KubeObject): string {
  const status = isJsonObject(node.status) ? node.status : {};
  const addresses = (status.addresses as { type: string; address: string }[] | undefined) ?? [];
  return addresses.find((a) => a.type === 'InternalIP')?.address ?? '';
}

/** Hands out pod IPs from KubeSphere's default pod CIDR (10.233.64.0/18). */
export class PodIpAllocator {
  private next = 1;
  /** The next free-looking pod IP. */
  allocate(): string {
    const n = this.next;
    this.next += 1;
    return `10.233.${64 + Math.floor(n / 254)}.${(n % 254) + 1}`;
  }
}

/** What a controller needs to make a pod. */
export interface NewPod {
  readonly owner: KubeObject;
  readonly ownerType: ResourceType;
  readonly name: string;
  readonly template: Record<string, unknown>;
  readonly extraLabels: Record<string, string>;
  readonly node?: KubeObject;
  readonly phase: 'Running' | 'Pending';
  readonly extraTolerations?: readonly Record<string, string>[];
}

/**
 * Creates a pod the way a controller plus kubelet would leave it: owned by its controller (`controller: true`, which
 * `kubectl describe` prints as "Controlled By"), bound to its node, with a status that matches the phase.
 */
export function createPod(store: Store, ips: PodIpAllocator, pod: NewPod): KubeObject {
  const templateMeta = isJsonObject(pod.template.metadata) ? pod.template.metadata : {};
  const spec: Record<string, unknown> = structuredClone(isJsonObject(pod.template.spec) ? pod.template.spec : {});
  if (pod.node) spec.nodeName = pod.node.metadata.name;
  if (pod.extraTolerations?.length) {
    spec.tolerations = [...((spec.tolerations as unknown[] | undefined) ?? []), ...pod.extraTolerations];
  }
  spec.restartPolicy ??= 'Always';
  spec.schedulerName ??= 'default-scheduler';
  const hostIp = pod.node ? internalIp(pod.node) : '';
  const podIp = spec.hostNetwork === true ? hostIp : ips.allocate();
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const containers = (spec.containers as { name: string; image: string }[] | undefined) ?? [];
  const running = pod.phase === 'Running';
  const condition = (type: string, ok: boolean) => ({
    type,
    status: ok ? 'True' : 'False',
    lastProbeTime: null,
    lastTransitionTime: now,
    ...(ok
      ? {}
      : {
          reason: 'ContainersNotReady',
          message: `containers with unready status: [${containers.map((c) => c.name).join(' ')}]`,
        }),
  });
  const object: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: pod.name,
      namespace: pod.owner.metadata.namespace,
      labels: { ...((templateMeta.labels as Record<string, string> | undefined) ?? {}), ...pod.extraLabels },
      ...(templateMeta.annotations
        ? { annotations: structuredClone(templateMeta.annotations as Record<string, string>) }
        : {}),
      ownerReferences: [
        {
          apiVersion: apiVersionOf(pod.ownerType),
          kind: pod.ownerType.kind,
          name: pod.owner.metadata.name ?? '',
          uid: pod.owner.metadata.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec,
    status: {
      phase: pod.phase,
      conditions: pod.node
        ? [
            condition('Initialized', true),
            condition('Ready', running),
            condition('ContainersReady', running),
            condition('PodScheduled', true),
          ]
        : [
            {
              type: 'PodScheduled',
              status: 'False',
              reason: 'Unschedulable',
              message: '0/0 nodes are available',
              lastTransitionTime: now,
              lastProbeTime: null,
            },
          ],
      ...(pod.node ? { hostIP: hostIp, podIP: podIp, podIPs: [{ ip: podIp }], startTime: now } : {}),
      qosClass: 'BestEffort',
      // A Pending pod has no container statuses: its node never started it (edgecore refuses CNI/kube-proxy pods),
      // so `kubectl get pods` shows STATUS Pending, as on a real cluster.
      ...(pod.node && running
        ? {
            containerStatuses: containers.map((c) => ({
              name: c.name,
              image: c.image,
              imageID: '',
              ready: running,
              started: running,
              restartCount: 0,
              state: running ? { running: { startedAt: now } } : { waiting: { reason: 'ContainerCreating' } },
            })),
          }
        : {}),
    },
  };
  const created = store.create(R.pods, object);
  recordEvent(store, pod.owner, pod.ownerType, 'SuccessfulCreate', `Created pod: ${pod.name}`);
  if (pod.node) {
    recordEvent(
      store,
      created,
      R.pods,
      'Scheduled',
      `Successfully assigned ${created.metadata.namespace}/${pod.name} to ${pod.node.metadata.name}`,
    );
  }
  return created;
}

/** Records a Normal event about an object, as controllers do; `kubectl describe` lists these. */
export function recordEvent(
  store: Store,
  object: KubeObject,
  type: ResourceType,
  reason: string,
  message: string,
): void {
  const namespace = object.metadata.namespace ?? 'default';
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  store.create(R.events, {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${object.metadata.name}.${randomBytes(8).toString('hex')}`, namespace },
    involvedObject: {
      apiVersion: apiVersionOf(type),
      kind: type.kind,
      name: object.metadata.name,
      namespace: object.metadata.namespace,
      uid: object.metadata.uid,
      resourceVersion: object.metadata.resourceVersion,
    },
    reason,
    message,
    type: 'Normal',
    count: 1,
    firstTimestamp: now,
    lastTimestamp: now,
    source: { component: type.kind === 'Pod' ? 'default-scheduler' : `${type.kind.toLowerCase()}-controller` },
  });
}

/** The uid of an object's controlling owner, if any. */
export function controllerUid(object: KubeObject): string | undefined {
  return object.metadata.ownerReferences?.find((r) => r.controller)?.uid;
}
