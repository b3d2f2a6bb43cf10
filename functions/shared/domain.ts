/*
 * The names edgekeeper shares with KubeEdge, KubeSphere, Kubernetes and AWS, and the rules for the ids it accepts.
 * Each is written once here: a step that spells one of them on its own can drift from the others (it has before),
 * and a wrong name here is a wrong name everywhere, which one test catches. docs/kubeedge.md has the KubeEdge and
 * KubeSphere facts behind them.
 *
 * The sandbox (local/sandbox) keeps its own copies of the KubeEdge names on purpose: it stands in for the real
 * cluster and edgecore, and an oracle that imported these constants would agree with a wrong one.
 */

/** A rule returns why a value is wrong, or undefined when it is fine (the shape every edgekeeper check shares). */
export type Rule<T> = (value: T) => string | undefined;

// ---------------------------------------------------------------------------------------------------------------
// KubeEdge's objects in the cluster
// ---------------------------------------------------------------------------------------------------------------

/**
 * The namespace KubeSphere's KubeEdge chart (and upstream `keadm init`) installs cloudcore into. Its DaemonSets
 * (edgemesh, mosquitto since 1.16) are meant for the edge, so the DaemonSet guard leaves them alone.
 */
export const KUBEEDGE_NAMESPACE = 'kubeedge';
/** cloudcore's configuration (`cloudcore.yaml` key): the advertised address and the hub ports the edge dials. */
export const CLOUDCORE_CONFIGMAP = 'cloudcore';
/** KubeSphere's "Add Edge Nodes" defaults (region and KubeEdge version) as its console reads them. */
export const EDGE_WATCHER_CONFIGMAP = 'edge-watcher-config';
/** cloudcore's join token (`tokendata` key); cloudcore rotates it every 12 h, so it is read when needed. */
export const TOKEN_SECRET = 'tokensecret';

// ---------------------------------------------------------------------------------------------------------------
// What KubeEdge puts on an edge node
// ---------------------------------------------------------------------------------------------------------------

/** edgecore registers every edge node with this label (value empty); cloud DaemonSets are kept off by it. */
export const EDGE_ROLE_LABEL = 'node-role.kubernetes.io/edge';
/** edgecore's second role label (value empty), set beside the edge one. */
export const AGENT_ROLE_LABEL = 'node-role.kubernetes.io/agent';
/** Both role labels a joined edge node carries. */
export const EDGE_ROLE_LABELS = [EDGE_ROLE_LABEL, AGENT_ROLE_LABEL] as const;

/** The edge taint: what KubeSphere's "add default taint" and the fork's `keadm join --with-edge-taint` set. */
export interface EdgeTaint {
  readonly key: typeof EDGE_ROLE_LABEL;
  readonly value: '';
  readonly effect: 'NoSchedule';
}
/**
 * NoSchedule, not NoExecute: pods already on the node (KubeEdge's own) stay; only new cloud workloads are kept away.
 * Frozen: every caller shares this one object.
 */
export const EDGE_TAINT: EdgeTaint = Object.freeze({ key: EDGE_ROLE_LABEL, value: '', effect: 'NoSchedule' });

/** Whether a node's taint is the edge taint (the value is not compared: a hand-set taint may carry one). */
export function isEdgeTaint(taint: { key?: string; effect?: string }): boolean {
  return taint.key === EDGE_TAINT.key && taint.effect === EDGE_TAINT.effect;
}

// ---------------------------------------------------------------------------------------------------------------
// edgekeeper's own bookkeeping
// ---------------------------------------------------------------------------------------------------------------

/** The prefix of every label and annotation edgekeeper writes: users may not set labels under it. */
export const EDGEKEEPER_PREFIX = 'edgekeeper.io/';

/**
 * Label prefixes a request may not set: `node-role.kubernetes.io/` is what schedulers and DaemonSets key on (edge
 * and agent are set by edgecore; a `master`/`worker` role would pull cloud workloads onto the edge node), and
 * `edgekeeper.io/` holds edgekeeper's own bookkeeping.
 */
export const MANAGED_LABEL_PREFIXES = ['node-role.kubernetes.io/', EDGEKEEPER_PREFIX] as const;

/** The label on every node edgekeeper finished joining (value `true`): what a later run adopts or removes. */
export const MANAGED_LABEL = `${EDGEKEEPER_PREFIX}managed`;

/** The SSM managed instance behind a node: removal reads it back to find the host to reset. */
export const INSTANCE_ID_ANNOTATION = `${EDGEKEEPER_PREFIX}instance-id`;

/** Annotations edgekeeper writes on the nodes it manages; removal and drift checks read them back. */
export const MANAGED_ANNOTATIONS = Object.freeze({
  instanceId: INSTANCE_ID_ANNOTATION,
  /** which keadm release joined the node (its reset flags depend on it) */
  kubeedgeVersion: `${EDGEKEEPER_PREFIX}kubeedge-version`,
  /** fork or upstream keadm (its reset and its MQTT broker differ) */
  keadmProfile: `${EDGEKEEPER_PREFIX}keadm-profile`,
  /** the execution that joined the node */
  operationId: `${EDGEKEEPER_PREFIX}operation-id`,
  /** the keys of the request's labels edgekeeper applied (comma-separated): a changed rerun removes the dropped ones */
  appliedLabels: `${EDGEKEEPER_PREFIX}applied-labels`,
  /** the taints edgekeeper applied (`key:effect`, comma-separated): a rerun without the taint removes them */
  appliedTaints: `${EDGEKEEPER_PREFIX}applied-taints`,
  /** `manual` on a node a person joined with the rendered command: no SSM instance, so a removal cannot reset it */
  joinMode: `${EDGEKEEPER_PREFIX}join-mode`,
} as const);

/** On a DaemonSet: `true` lets its pods run on edge nodes (the DaemonSet guard skips it). */
export const EDGE_ALLOWED_ANNOTATION = `${EDGEKEEPER_PREFIX}edge-allowed`;

/**
 * Annotations a lock Lease records about what it is for, so a later run can find what a node name owns even when
 * the node or the execution is gone.
 */
export const LOCK_ANNOTATIONS = Object.freeze({
  nodeName: `${EDGEKEEPER_PREFIX}node-name`,
  instanceId: `${EDGEKEEPER_PREFIX}instance-id`,
  nodeIp: `${EDGEKEEPER_PREFIX}node-ip`,
  /** the rollback child a failing holder hands its Leases to: only that execution may adopt them */
  handedTo: `${EDGEKEEPER_PREFIX}handed-to`,
} as const);

/**
 * Where the lock Leases live: beside Kubernetes' own coordination Leases (leader election), in a namespace every
 * cluster has and that uninstalling KubeEdge never deletes, so a lock outlives the `kubeedge` namespace.
 */
export const LOCK_NAMESPACE = 'kube-system';

// ---------------------------------------------------------------------------------------------------------------
// Ids edgekeeper accepts
// ---------------------------------------------------------------------------------------------------------------

/**
 * SSM managed instance ids: EC2 instances are `i-` + 8 hex (before 2016) or 17 hex digits, hybrid-activated
 * machines (edge hosts outside AWS) `mi-` + 17 hex digits.
 */
export const INSTANCE_ID_PATTERN = /^(mi-[0-9a-f]{17}|i-([0-9a-f]{8}|[0-9a-f]{17}))$/;

/** The instance-id rule: the one check of an SSM managed instance id. */
export const instanceIdRule: Rule<string> = (id) =>
  INSTANCE_ID_PATTERN.test(id)
    ? undefined
    : 'must be an SSM managed instance id: mi- followed by 17 hex digits, or i- followed by 8 or 17 hex digits';

/** Whether a string is an SSM managed instance id. */
export function isInstanceId(value: unknown): value is string {
  return typeof value === 'string' && INSTANCE_ID_PATTERN.test(value);
}

/** Four decimal parts without leading zeros (`010` would read as octal to inet_aton, and as ten to others). */
const DOTTED_QUAD = /^(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})$/;

/** The strict IPv4 form: a dotted quad, every part 0-255, no leading zeros, nothing around it. */
export const ipv4Rule: Rule<string> = (ip) => {
  if (!DOTTED_QUAD.test(ip)) return 'must be an IPv4 address in dotted-quad form (like 192.168.1.20)';
  if (ip.split('.').some((part) => Number(part) > 255)) return 'must be an IPv4 address: every part must be 0-255';
  return undefined;
};

/** Whether a string is an IPv4 address in the strict form of `ipv4Rule`. */
export function isIpv4(value: unknown): value is string {
  return typeof value === 'string' && ipv4Rule(value) === undefined;
}

/**
 * A node's InternalIP: a strict IPv4 address that a host can have. The address may be made up (upstream keadm
 * cannot set it, the fork can), but it keys the logs/exec DNAT rules, so addresses no host can have are refused.
 */
export const nodeIpRule: Rule<string> = (ip) => {
  const form = ipv4Rule(ip);
  if (form) return form;
  const first = Number(ip.split('.')[0]);
  if (ip === '0.0.0.0') return 'is the unspecified address, not a host address';
  if (ip === '255.255.255.255') return 'is the broadcast address, not a host address';
  if (first === 0) return 'is in 0.0.0.0/8 ("this network"), not a host address';
  if (first === 127) return 'is a loopback address (127.0.0.0/8)';
  if (first >= 224 && first <= 239) return 'is a multicast address (224.0.0.0/4)';
  if (first >= 240) return 'is in the reserved range 240.0.0.0/4';
  return undefined;
};

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A DNS-1123 subdomain: dot-separated labels, lowercase. */
export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Names of nodes edgekeeper creates: a DNS-1123 label of at most 63 characters, what KubeSphere's console enforces
 * (the name also becomes part of the lock Lease's name and of host-side file names, where dots would be awkward).
 */
export const nodeNameRule: Rule<string> = (name) => {
  if (name.length === 0) return 'must not be empty';
  if (name.length > 63) return `must be at most 63 characters (got ${name.length})`;
  if (!DNS1123_LABEL.test(name)) {
    return 'must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit';
  }
  return undefined;
};

/**
 * Names of nodes that may already exist: a DNS-1123 subdomain of at most 253 characters, what the API server
 * accepts. Removal takes every node that can exist, including ones joined by hand, so it is looser than
 * `nodeNameRule`.
 */
export const existingNodeNameRule: Rule<string> = (name) => {
  if (name.length === 0) return 'must not be empty';
  if (name.length > 253) return `must be at most 253 characters (got ${name.length})`;
  if (!DNS1123_SUBDOMAIN.test(name)) return 'must be a DNS-1123 subdomain (lowercase letters, digits, "-" and ".")';
  return undefined;
};
