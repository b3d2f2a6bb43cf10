import { apiVersionOf, RESOURCE_TYPES, type ResourceType, VERBS } from '../resources';

/** The version the sandbox claims: kubectl's dispatcher picks its client by this minor version (1.27-1.33). */
export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.4',
  gitCommit: '59526cd4867447956156ae3a602fcbac10a2c335',
  gitTreeState: 'clean',
  buildDate: '2025-04-22T16:02:27Z',
  goVersion: 'go1.23.6',
  compiler: 'gc',
  platform: 'linux/amd64',
} as const;

/** `GET /api`: the legacy core group's versions. */
export function coreVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groups(): Map<string, string[]> {
  const byGroup = new Map<string, string[]>();
  for (const t of RESOURCE_TYPES) {
    if (t.group === '') continue;
    const versions = byGroup.get(t.group) ?? [];
    if (!versions.includes(t.version)) versions.push(t.version);
    byGroup.set(t.group, versions);
  }
  return byGroup;
}

function group(name: string, versions: string[]): Record<string, unknown> {
  const entries = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { name, versions: entries, preferredVersion: entries[0] };
}

/** `GET /apis`: every named group (legacy discovery; kubectl falls back to it from aggregated discovery). */
export function groupList(): Record<string, unknown> {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups()].map(([name, versions]) => group(name, versions)),
  };
}

/** `GET /apis/<group>`, or undefined for an unknown group. */
export function groupInfo(name: string): Record<string, unknown> | undefined {
  const versions = groups().get(name);
  return versions ? { kind: 'APIGroup', apiVersion: 'v1', ...group(name, versions) } : undefined;
}

/** `GET /api/v1` or `/apis/<group>/<version>`: resources with verbs, shortNames and subresources. */
export function resourceList(groupName: string, version: string): Record<string, unknown> | undefined {
  const types = RESOURCE_TYPES.filter((t) => t.group === groupName && t.version === version);
  if (types.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: apiVersionOf(types[0]),
    resources: types.flatMap((t) => [resourceEntry(t), ...t.subresources.map((s) => subresourceEntry(t, s))]),
  };
}

function resourceEntry(t: ResourceType): Record<string, unknown> {
  return {
    name: t.name,
    singularName: t.singularName,
    namespaced: t.namespaced,
    kind: t.kind,
    verbs: [...VERBS, 'watch'],
    ...(t.shortNames.length > 0 ? { shortNames: t.shortNames } : {}),
  };
}

function subresourceEntry(t: ResourceType, sub: string): Record<string, unknown> {
  if (sub === 'eviction') {
    return {
      name: `${t.name}/eviction`,
      singularName: '',
      namespaced: true,
      group: 'policy',
      version: 'v1',
      kind: 'Eviction',
      verbs: ['create'],
    };
  }
  if (sub === 'token') {
    return {
      name: `${t.name}/token`,
      singularName: '',
      namespaced: true,
      group: 'authentication.k8s.io',
      version: 'v1',
      kind: 'TokenRequest',
      verbs: ['create'],
    };
  }
  return {
    name: `${t.name}/${sub}`,
    singularName: '',
    namespaced: t.namespaced,
    kind: t.kind,
    verbs: ['get', 'patch', 'update'],
  };
}
