import type { ResourceType } from './resources';
import { isJsonObject, type KubeObject } from './types';

/** One column of a server-side Table; priority 1 columns only show with `kubectl get -o wide`. */
interface Column {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'date';
  readonly format?: 'name';
  readonly description: string;
  readonly priority: 0 | 1;
  readonly cell: (object: KubeObject, now: number) => string | number;
}

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj => (isJsonObject(value) ? value : {});
const list = (value: unknown): Obj[] => (Array.isArray(value) ? value.filter(isJsonObject) : []);
const str = (value: unknown, fallback = '<none>'): string =>
  value === undefined || value === null || value === '' ? fallback : String(value);

const nameColumn: Column = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name',
  priority: 0,
  cell: (o) => o.metadata.name ?? '',
};
const ageColumn: Column = {
  name: 'Age',
  type: 'string',
  description: 'CreationTimestamp',
  priority: 0,
  cell: (o, now) => humanAge(now - Date.parse(o.metadata.creationTimestamp ?? new Date(now).toISOString())),
};

function col(name: string, priority: 0 | 1, cell: Column['cell'], type: Column['type'] = 'string'): Column {
  return { name, type, description: name, priority, cell };
}

function nodeStatus(node: KubeObject): string {
  const ready = list(obj(node.status).conditions).find((c) => c.type === 'Ready');
  const state = ready?.status === 'True' ? 'Ready' : 'NotReady';
  return obj(node.spec).unschedulable === true ? `${state},SchedulingDisabled` : state;
}

function nodeRoles(node: KubeObject): string {
  const roles = Object.keys(node.metadata.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length))
    .filter((r) => r !== '');
  return roles.length > 0 ? roles.sort().join(',') : '<none>';
}

function address(node: KubeObject, type: string): string {
  return str(list(obj(node.status).addresses).find((a) => a.type === type)?.address);
}

function podReady(pod: KubeObject): string {
  const statuses = list(obj(pod.status).containerStatuses);
  const total = list(obj(pod.spec).containers).length;
  return `${statuses.filter((s) => s.ready === true).length}/${total}`;
}

function podStatus(pod: KubeObject): string {
  if (pod.metadata.deletionTimestamp) return 'Terminating';
  const status = obj(pod.status);
  const waiting = list(status.containerStatuses)
    .map((s) => obj(obj(s.state).waiting).reason)
    .find((r) => typeof r === 'string');
  return typeof waiting === 'string' ? waiting : str(status.phase, 'Unknown');
}

function containersOf(template: unknown): Obj[] {
  return list(obj(obj(template).spec).containers);
}

function selectorText(selector: unknown): string {
  const s = obj(selector);
  const parts = Object.entries(obj(s.matchLabels)).map(([k, v]) => `${k}=${String(v)}`);
  for (const e of list(s.matchExpressions)) {
    parts.push(
      `${String(e.key)} ${String(e.operator).toLowerCase()} (${(Array.isArray(e.values) ? e.values : []).join(',')})`,
    );
  }
  return parts.length > 0 ? parts.join(',') : '<none>';
}

/** The `-o wide` columns every pod-template workload shows, as kubectl prints them. */
function workloadWideColumns() {
  return [
    col('Containers', 1, (d) =>
      containersOf(obj(d.spec).template)
        .map((c) => String(c.name))
        .join(','),
    ),
    col('Images', 1, (d) =>
      containersOf(obj(d.spec).template)
        .map((c) => String(c.image))
        .join(','),
    ),
    col('Selector', 1, (d) => selectorText(obj(d.spec).selector)),
  ];
}

const COLUMNS: Record<string, Column[]> = {
  nodes: [
    nameColumn,
    col('Status', 0, nodeStatus),
    col('Roles', 0, nodeRoles),
    ageColumn,
    col('Version', 0, (n) => str(obj(obj(n.status).nodeInfo).kubeletVersion, '')),
    col('Internal-IP', 1, (n) => address(n, 'InternalIP')),
    col('External-IP', 1, (n) => address(n, 'ExternalIP')),
    col('OS-Image', 1, (n) => str(obj(obj(n.status).nodeInfo).osImage, '<unknown>')),
    col('Kernel-Version', 1, (n) => str(obj(obj(n.status).nodeInfo).kernelVersion, '<unknown>')),
    col('Container-Runtime', 1, (n) => str(obj(obj(n.status).nodeInfo).containerRuntimeVersion, '<unknown>')),
  ],
  pods: [
    nameColumn,
    col('Ready', 0, podReady),
    col('Status', 0, podStatus),
    col(
      'Restarts',
      0,
      (p) => list(obj(p.status).containerStatuses).reduce((n, s) => n + Number(s.restartCount ?? 0), 0),
      'integer',
    ),
    ageColumn,
    col('IP', 1, (p) => str(obj(p.status).podIP)),
    col('Node', 1, (p) => str(obj(p.spec).nodeName)),
    col('Nominated Node', 1, (p) => str(obj(p.status).nominatedNodeName)),
    col('Readiness Gates', 1, () => '<none>'),
  ],
  daemonsets: [
    nameColumn,
    col('Desired', 0, (d) => Number(obj(d.status).desiredNumberScheduled ?? 0), 'integer'),
    col('Current', 0, (d) => Number(obj(d.status).currentNumberScheduled ?? 0), 'integer'),
    col('Ready', 0, (d) => Number(obj(d.status).numberReady ?? 0), 'integer'),
    col('Up-to-date', 0, (d) => Number(obj(d.status).updatedNumberScheduled ?? 0), 'integer'),
    col('Available', 0, (d) => Number(obj(d.status).numberAvailable ?? 0), 'integer'),
    col('Node Selector', 0, (d) => {
      const selector = obj(obj(obj(obj(d.spec).template).spec).nodeSelector);
      const text = Object.entries(selector)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(',');
      return text === '' ? '<none>' : text;
    }),
    ageColumn,
    ...workloadWideColumns(),
  ],
  deployments: [
    nameColumn,
    col('Ready', 0, (d) => `${Number(obj(d.status).readyReplicas ?? 0)}/${Number(obj(d.spec).replicas ?? 1)}`),
    col('Up-to-date', 0, (d) => Number(obj(d.status).updatedReplicas ?? 0), 'integer'),
    col('Available', 0, (d) => Number(obj(d.status).availableReplicas ?? 0), 'integer'),
    ageColumn,
    ...workloadWideColumns(),
  ],
  namespaces: [nameColumn, col('Status', 0, (n) => str(obj(n.status).phase, 'Active')), ageColumn],
  configmaps: [
    nameColumn,
    col('Data', 0, (c) => Object.keys(obj(c.data)).length + Object.keys(obj(c.binaryData)).length, 'integer'),
    ageColumn,
  ],
  secrets: [
    nameColumn,
    col('Type', 0, (s) => str(s.type, 'Opaque')),
    col('Data', 0, (s) => Object.keys(obj(s.data)).length, 'integer'),
    ageColumn,
  ],
  services: [
    nameColumn,
    col('Type', 0, (s) => str(obj(s.spec).type, 'ClusterIP')),
    col('Cluster-IP', 0, (s) => str(obj(s.spec).clusterIP)),
    col('External-IP', 0, (s) => str((obj(s.spec).externalIPs as string[] | undefined)?.join(','))),
    col('Port(s)', 0, (s) =>
      str(
        list(obj(s.spec).ports)
          .map((p) => `${String(p.port)}${p.nodePort ? `:${String(p.nodePort)}` : ''}/${String(p.protocol ?? 'TCP')}`)
          .join(','),
      ),
    ),
    ageColumn,
    col('Selector', 1, (s) => {
      const text = Object.entries(obj(obj(s.spec).selector))
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(',');
      return text === '' ? '<none>' : text;
    }),
  ],
  events: [
    col('Last Seen', 0, (e, now) =>
      humanAge(now - Date.parse(String(e.lastTimestamp ?? e.metadata.creationTimestamp))),
    ),
    col('Type', 0, (e) => str(e.type)),
    col('Reason', 0, (e) => str(e.reason)),
    col(
      'Object',
      0,
      (e) => `${String(obj(e.involvedObject).kind).toLowerCase()}/${String(obj(e.involvedObject).name)}`,
    ),
    col('Message', 0, (e) => str(e.message, '')),
  ],
};

/** Options of a Table request: `includeObject=None|Metadata|Object` (kubectl asks for Metadata by default). */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

/**
 * The server-side Table `kubectl get` prints. rows[].object is PartialObjectMetadata (name, namespace...) so that
 * kubectl can fill in the NAMESPACE column under `-A`; kubectl shows priority-1 columns only with `-o wide`.
 */
export function toTable(
  type: ResourceType,
  objects: readonly KubeObject[],
  listMeta: Record<string, unknown>,
  include: IncludeObject = 'Metadata',
): Record<string, unknown> {
  const columns = COLUMNS[type.name] ?? [nameColumn, ageColumn];
  const now = Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: columns.map(({ name, type: t, format, description, priority }) => ({
      name,
      type: t,
      format: format ?? '',
      description,
      priority,
    })),
    rows: objects.map((o) => ({
      cells: columns.map((c) => c.cell(o, now)),
      object:
        include === 'None'
          ? null
          : include === 'Object'
            ? o
            : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}

/** Kubernetes' `duration.HumanDuration`, which the API server uses for AGE cells. */
export function humanAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 192) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  return d < 365 * 2 ? `${d}d` : `${Math.floor(d / 365)}y${d % 365}d`;
}
