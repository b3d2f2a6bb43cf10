import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { ApiError } from './errors';

/** The manifest edgekeeper's ServiceAccount is bound by, the one the sandbox enforces. */
export const RBAC_MANIFEST = join(__dirname, '..', '..', '..', 'deploy', 'rbac.yaml');

/** The ServiceAccount of that manifest: the identity the workflows' steps use. */
export const EDGEKEEPER_SUBJECT = { kind: 'ServiceAccount', name: 'edgekeeper', namespace: 'kube-system' } as const;

/** `system:serviceaccount:<ns>:<name>`, as the API server names a ServiceAccount's user. */
export const EDGEKEEPER_USER = `system:serviceaccount:${EDGEKEEPER_SUBJECT.namespace}:${EDGEKEEPER_SUBJECT.name}`;

/**
 * The user the cloudcore stand-in's requests come from, as a real cluster sees cloudcore's ServiceAccount: a bench
 * counts them apart from the steps' (`RequestLog.counts(client)`). Unrestricted, as cloudcore's ClusterRole nearly is.
 */
export const CLOUDCORE_USER = 'system:serviceaccount:kubeedge:cloudcore';

/**
 * What a request asks, in the authorizer's terms: `resource` includes the subresource (`pods/eviction`), `name`
 * is absent for list, create and deletecollection, `namespace` is absent for cluster-scoped resources and for
 * lists across all namespaces.
 */
export interface RequestAttributes {
  readonly verb: string;
  readonly apiGroup: string;
  readonly resource: string;
  readonly namespace?: string;
  readonly name?: string;
}

/** One rule of a Role or ClusterRole, where it applies (a namespace, or everywhere) and where it was written. */
export interface Grant {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames: readonly string[];
  /** the namespace a RoleBinding limits the rule to; undefined for a ClusterRoleBinding (cluster-wide) */
  readonly namespace?: string;
  /** `Role kube-system/edgekeeper rule 2`, for messages */
  readonly source: string;
}

/** The manifest cannot be read as RBAC objects, or binds the subject to a role it does not define. */
export class RbacManifestError extends Error {
  override readonly name = 'RbacManifestError';
}

interface RbacObject {
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  rules?: { apiGroups?: string[]; resources?: string[]; verbs?: string[]; resourceNames?: string[] }[];
  roleRef?: { kind?: string; name?: string };
  subjects?: { kind?: string; name?: string; namespace?: string }[];
}

/**
 * The grants the manifest gives a ServiceAccount, resolved as the RBAC authorizer resolves them: a
 * ClusterRoleBinding applies its ClusterRole everywhere; a RoleBinding applies its Role, or a ClusterRole, only in
 * the binding's namespace.
 */
export function grantsFor(
  manifestText: string,
  subject: { readonly name: string; readonly namespace: string } = EDGEKEEPER_SUBJECT,
): Grant[] {
  const objects = loadAll(manifestText).filter((o): o is RbacObject => typeof o === 'object' && o !== null);
  const roles = new Map<string, RbacObject>();
  for (const o of objects) {
    if (o.kind === 'ClusterRole') roles.set(`ClusterRole//${o.metadata?.name}`, o);
    if (o.kind === 'Role') roles.set(`Role/${o.metadata?.namespace}/${o.metadata?.name}`, o);
  }
  const grants: Grant[] = [];
  for (const binding of objects) {
    if (binding.kind !== 'ClusterRoleBinding' && binding.kind !== 'RoleBinding') continue;
    const bound = (binding.subjects ?? []).some(
      (s) => s.kind === 'ServiceAccount' && s.name === subject.name && s.namespace === subject.namespace,
    );
    if (!bound) continue;
    const namespace = binding.kind === 'RoleBinding' ? binding.metadata?.namespace : undefined;
    const refKind = binding.roleRef?.kind;
    const key =
      refKind === 'Role' ? `Role/${namespace}/${binding.roleRef?.name}` : `ClusterRole//${binding.roleRef?.name}`;
    const role = roles.get(key);
    if (!role || (refKind === 'Role' && binding.kind !== 'RoleBinding')) {
      throw new RbacManifestError(
        `${binding.kind} ${binding.metadata?.name}: roleRef ${refKind} ${binding.roleRef?.name} is not defined in the manifest`,
      );
    }
    const where =
      refKind === 'Role' ? `Role ${namespace}/${role.metadata?.name}` : `ClusterRole ${role.metadata?.name}`;
    (role.rules ?? []).forEach((rule, i) => {
      grants.push({
        apiGroups: rule.apiGroups ?? [],
        resources: rule.resources ?? [],
        verbs: rule.verbs ?? [],
        resourceNames: rule.resourceNames ?? [],
        ...(namespace === undefined ? {} : { namespace }),
        source: `${where} rule ${i + 1}${namespace !== undefined && refKind === 'ClusterRole' ? ` in ${namespace}` : ''}`,
      });
    });
  }
  return grants;
}

/** Reads {@link RBAC_MANIFEST} (or another file) and resolves the grants of the edgekeeper ServiceAccount. */
export function loadGrants(path: string = RBAC_MANIFEST): Grant[] {
  return grantsFor(readFileSync(path, 'utf8'));
}

const matches = (allowed: readonly string[], value: string) => allowed.includes('*') || allowed.includes(value);

/** Whether a grant allows the request, with the RBAC authorizer's rules for namespaces and resourceNames. */
export function allows(grant: Grant, request: RequestAttributes): boolean {
  if (grant.namespace !== undefined && grant.namespace !== request.namespace) return false;
  if (!matches(grant.verbs, request.verb)) return false;
  if (!matches(grant.apiGroups, request.apiGroup)) return false;
  if (!matches(grant.resources, request.resource)) return false;
  // A rule with names never matches a request without one (list, create, deletecollection).
  if (grant.resourceNames.length > 0) return request.name !== undefined && grant.resourceNames.includes(request.name);
  return true;
}

/** The 403 the API server answers when RBAC denies a request, worded as the API server words it. */
export function forbidden(user: string, request: RequestAttributes): ApiError {
  const [resource, subresource] = request.resource.split('/');
  const qualified = request.apiGroup === '' ? resource : `${resource}.${request.apiGroup}`;
  const subject = request.name === undefined ? qualified : `${qualified} "${request.name}"`;
  const scope = request.namespace === undefined ? 'at the cluster scope' : `in the namespace "${request.namespace}"`;
  return new ApiError(
    403,
    'Forbidden',
    `${subject} is forbidden: User "${user}" cannot ${request.verb} resource "${request.resource}" in API group "${request.apiGroup}" ${scope}`,
    {
      ...(request.name === undefined ? {} : { name: request.name }),
      group: request.apiGroup,
      kind: subresource === undefined ? resource : request.resource,
    },
  );
}

/** Who sent a request: the admin (test setup, kubectl, cloudcore) may do anything; the others are held to grants. */
/** Who a token is: an identity without grants may do anything (the admin, the cloudcore stand-in), any other only what they allow. */
export type Identity = { readonly user: string } | { readonly user: string; readonly grants: readonly Grant[] };

/**
 * Authorizes a request for an identity.
 * @throws ApiError 403 Forbidden when no grant of a non-admin identity allows it
 */
export function authorize(identity: Identity, request: RequestAttributes): void {
  if (!('grants' in identity)) return;
  if (!identity.grants.some((grant) => allows(grant, request))) throw forbidden(identity.user, request);
}

/**
 * A grant unrolled into single permissions: one per verb × group × resource × name (or no name), the unit the
 * coverage check compares with the calls seen.
 */
export interface Permission {
  readonly source: string;
  readonly verb: string;
  readonly apiGroup: string;
  readonly resource: string;
  readonly namespace?: string;
  readonly name?: string;
}

/** Every single permission of the grants. */
export function permissionsOf(grants: readonly Grant[]): Permission[] {
  return grants.flatMap((grant) =>
    grant.verbs.flatMap((verb) =>
      grant.apiGroups.flatMap((apiGroup) =>
        grant.resources.flatMap((resource) =>
          (grant.resourceNames.length > 0 ? grant.resourceNames : [undefined]).map((name) => ({
            source: grant.source,
            verb,
            apiGroup,
            resource,
            ...(grant.namespace === undefined ? {} : { namespace: grant.namespace }),
            ...(name === undefined ? {} : { name }),
          })),
        ),
      ),
    ),
  );
}

/**
 * The permissions no request used. A permission is used by a request it allows (so a permission without names is
 * used by any request on its resource; one with names by a request naming that object).
 */
export function unusedPermissions(grants: readonly Grant[], used: readonly RequestAttributes[]): Permission[] {
  return permissionsOf(grants).filter(
    (p) =>
      !used.some((request) =>
        allows(
          {
            apiGroups: [p.apiGroup],
            resources: [p.resource],
            verbs: [p.verb],
            resourceNames: p.name === undefined ? [] : [p.name],
            ...(p.namespace === undefined ? {} : { namespace: p.namespace }),
            source: p.source,
          },
          request,
        ),
      ),
  );
}

/** `delete namespaces "kubeedge" (ClusterRole edgekeeper rule 7)`: a permission as a coverage failure names it. */
export function formatPermission(p: Permission): string {
  const resource = p.apiGroup === '' ? p.resource : `${p.resource}.${p.apiGroup}`;
  const name = p.name === undefined ? '' : ` "${p.name}"`;
  const where = p.namespace === undefined ? '' : ` in ${p.namespace}`;
  return `${p.verb} ${resource}${name}${where} (${p.source})`;
}
