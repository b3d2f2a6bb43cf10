import { formatPermission, type Grant, loadGrants, unusedPermissions } from '../../local/sandbox/cluster/rbac';
import { readAccessLogs } from '../../local/sandbox/cluster/request-log';

/**
 * The other half of the RBAC contract. The sandbox answers 403 to any call deploy/rbac.yaml does not grant the
 * edgekeeper ServiceAccount, so the suite passing proves the manifest grants enough; this proves it grants nothing
 * more: every permission (verb × resource × namespace × name) must have been used by a request of the steps,
 * recorded by each sandbox of the run under the access log directory.
 * @returns one line per permission no request used, e.g. `update configmaps "edgekeeper-uninstall-plan" in
 *   kube-system (Role kube-system/edgekeeper rule 2)`; empty when the manifest is exactly what the suite used
 */
export function unusedGrants(logDir: string, grants: readonly Grant[] = loadGrants()): string[] {
  return unusedPermissions(grants, readAccessLogs(logDir)).map(formatPermission);
}
