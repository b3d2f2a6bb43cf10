/**
 * The resource types the sandbox serves. One table drives discovery, routing, storage keys and shortNames, so a
 * resource added here is reachable by client-node and kubectl alike.
 */
export interface ResourceType {
  /** API group; '' for the core group. */
  readonly group: string;
  readonly version: string;
  /** Plural name as used in URLs (`daemonsets`). */
  readonly name: string;
  readonly singularName: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  /** Subresources served under `<name>/<sub>` (status, eviction, token). */
  readonly subresources: readonly string[];
}

/** The verbs every sandbox resource supports. `watch` is deliberately absent: no consumer watches. */
export const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update'] as const;

function type(
  group: string,
  version: string,
  name: string,
  kind: string,
  namespaced: boolean,
  shortNames: string[] = [],
  subresources: string[] = [],
): ResourceType {
  return { group, version, name, singularName: kind.toLowerCase(), kind, namespaced, shortNames, subresources };
}

/** Every resource type served, in discovery order. */
export const RESOURCE_TYPES: readonly ResourceType[] = [
  type('', 'v1', 'nodes', 'Node', false, ['no'], ['status']),
  type('', 'v1', 'namespaces', 'Namespace', false, ['ns'], ['status']),
  type('', 'v1', 'pods', 'Pod', true, ['po'], ['status', 'eviction']),
  type('', 'v1', 'configmaps', 'ConfigMap', true, ['cm']),
  type('', 'v1', 'secrets', 'Secret', true),
  type('', 'v1', 'services', 'Service', true, ['svc'], ['status']),
  type('', 'v1', 'events', 'Event', true, ['ev']),
  type('', 'v1', 'serviceaccounts', 'ServiceAccount', true, ['sa'], ['token']),
  type('apps', 'v1', 'daemonsets', 'DaemonSet', true, ['ds'], ['status']),
  type('apps', 'v1', 'deployments', 'Deployment', true, ['deploy'], ['status']),
  type('coordination.k8s.io', 'v1', 'leases', 'Lease', true),
  type('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget', true, ['pdb'], ['status']),
  type('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'CustomResourceDefinition', false, ['crd', 'crds']),
  type('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false),
  type('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false),
  type('rbac.authorization.k8s.io', 'v1', 'roles', 'Role', true),
  type('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', true),
];

/** `apiVersion` as written in objects: `v1` for core, `<group>/<version>` otherwise. */
export function apiVersionOf(t: ResourceType): string {
  return t.group === '' ? t.version : `${t.group}/${t.version}`;
}

/** Finds a resource type by group, version and plural name. */
export function findResource(group: string, version: string, name: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.group === group && t.version === version && t.name === name);
}

/** Finds the resource type of an object by its apiVersion and kind (used when seeding). */
export function resourceForKind(apiVersion: string, kind: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => apiVersionOf(t) === apiVersion && t.kind === kind);
}

/** Resource types by well-known name, for controllers. */
export const R = {
  nodes: req('', 'nodes'),
  namespaces: req('', 'namespaces'),
  pods: req('', 'pods'),
  events: req('', 'events'),
  serviceaccounts: req('', 'serviceaccounts'),
  daemonsets: req('apps', 'daemonsets'),
  deployments: req('apps', 'deployments'),
  poddisruptionbudgets: req('policy', 'poddisruptionbudgets'),
} as const;

function req(group: string, name: string): ResourceType {
  const found = RESOURCE_TYPES.find((t) => t.group === group && t.name === name);
  if (!found) throw new Error(`unknown resource ${group}/${name}`);
  return found;
}
