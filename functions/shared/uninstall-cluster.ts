import { exists } from './cluster-reads';
import { EDGE_ROLE_LABEL, KUBEEDGE_NAMESPACE, LOCK_NAMESPACE } from './domain';
import { EdgekeeperError } from './errors';
import type { SecretLike } from './helm-release';
import { isConflict, isNotFound, type KubeClients, translateKubeError } from './k8s';
import type {
  DeleteOutcome,
  NamespaceWaitPorts,
  UninstallDeletePorts,
  UninstallPlan,
  UninstallPlanPorts,
  UninstallRecordPort,
} from './uninstall-plan';
import * as z from './zod';

/**
 * The uninstall's ports over the Kubernetes API (the cores are in uninstall-plan.ts). The uninstall record is a
 * ConfigMap beside the lock Leases (a namespace the uninstall never deletes) holding the plan of an uninstall in
 * progress, written before anything is deleted and removed once the namespace is gone.
 */
export const UNINSTALL_RECORD = 'edgekeeper-uninstall-plan';

/** The record exists but does not hold a plan: it was edited by hand, or written by an incompatible version. */
export class UninstallRecordCorruptError extends EdgekeeperError {
  override readonly name = 'UninstallRecordCorruptError';
}

const ObjectRef = z.object({
  apiVersion: z.string(),
  kind: z.string(),
  name: z.string(),
  namespace: z.optional(z.string()),
});
/** An UninstallPlan as JSON carries it: the record's content, and the plan the workflow passes between steps. */
export const RecordedPlan = z.object({
  nodesToRemoveFirst: z.array(z.string()),
  release: z.object({
    name: z.string(),
    namespace: z.string(),
    revision: z.number(),
    status: z.string(),
    chart: z.optional(z.string()),
  }),
  objects: z.array(ObjectRef),
  releaseSecrets: z.object({ namespace: z.string(), names: z.array(z.string()) }),
  namespace: z.string(),
});

/** The record over the real API; a rerun may write the same plan again. */
export function uninstallRecordPort({ core }: KubeClients): UninstallRecordPort {
  const where = `ConfigMap ${LOCK_NAMESPACE}/${UNINSTALL_RECORD}`;
  const body = (plan: UninstallPlan) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: UNINSTALL_RECORD,
      namespace: LOCK_NAMESPACE,
      labels: { 'app.kubernetes.io/managed-by': 'edgekeeper' },
    },
    data: { plan: JSON.stringify(plan) },
  });
  return {
    async readRecord() {
      let text: string | undefined;
      try {
        text = (await core.readNamespacedConfigMap({ name: UNINSTALL_RECORD, namespace: LOCK_NAMESPACE })).data?.plan;
      } catch (error) {
        if (isNotFound(error)) return null;
        throw translateKubeError(error, `reading ${where}`);
      }
      return parseRecord(text ?? '', where);
    },
    async writeRecord(plan) {
      try {
        await core.createNamespacedConfigMap({ namespace: LOCK_NAMESPACE, body: body(plan) });
      } catch (error) {
        if (!isConflict(error)) throw translateKubeError(error, `writing ${where}`);
        await core
          .replaceNamespacedConfigMap({ name: UNINSTALL_RECORD, namespace: LOCK_NAMESPACE, body: body(plan) })
          .catch((replaceError: unknown) => {
            throw translateKubeError(replaceError, `writing ${where}`);
          });
      }
    },
    async forgetRecord() {
      try {
        await core.deleteNamespacedConfigMap({ name: UNINSTALL_RECORD, namespace: LOCK_NAMESPACE });
      } catch (error) {
        if (!isNotFound(error)) throw translateKubeError(error, `deleting ${where}`);
      }
    },
  };
}

/** @throws UninstallRecordCorruptError naming the ConfigMap and what is wrong */
export function parseRecord(text: string, where = UNINSTALL_RECORD): UninstallPlan {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UninstallRecordCorruptError(`${where} holds no JSON plan: ${(error as Error).message}`);
  }
  const parsed = RecordedPlan.safeParse(json);
  if (!parsed.success) {
    throw new UninstallRecordCorruptError(`${where} holds no uninstall plan: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

/** What planning reads: edge nodes, Helm's storage Secrets and the namespace, and the record. */
export function uninstallPlanPorts(kube: KubeClients): UninstallPlanPorts {
  const namespace = KUBEEDGE_NAMESPACE;
  const list = async <T>(doing: string, call: () => Promise<{ items: T[] }>): Promise<T[]> => {
    try {
      return (await call()).items;
    } catch (error) {
      throw translateKubeError(error, doing);
    }
  };
  return {
    readRecord: uninstallRecordPort(kube).readRecord,
    edgeNodes: async () =>
      (await list('listing edge nodes', () => kube.core.listNode({ labelSelector: EDGE_ROLE_LABEL }))).map(
        (node) => node.metadata?.name ?? '',
      ),
    releaseSecrets: async () =>
      (await list(`listing Helm Secrets in ${namespace}`, () =>
        kube.core.listNamespacedSecret({ namespace, labelSelector: 'owner=helm' }),
      )) as SecretLike[],
    namespaceExists: () => exists(() => kube.core.readNamespace({ name: namespace }), `reading namespace ${namespace}`),
  };
}

/** The deletes, any object kind through the generic object API; a 404 means already gone. */
export function uninstallDeletePorts(kube: KubeClients): UninstallDeletePorts {
  const remove = async (describe: string, call: () => Promise<unknown>): Promise<DeleteOutcome> => {
    try {
      await call();
      return 'deleted';
    } catch (error) {
      if (isNotFound(error)) return 'absent';
      throw translateKubeError(error, `deleting ${describe}`);
    }
  };
  return {
    writeRecord: uninstallRecordPort(kube).writeRecord,
    deleteObject: ({ apiVersion, kind, name, namespace }) =>
      remove(`${kind} ${name}`, () =>
        kube.objects.delete({ apiVersion, kind, metadata: namespace ? { name, namespace } : { name } }),
      ),
    deleteSecret: (namespace, name) =>
      remove(`Secret ${name}`, () => kube.core.deleteNamespacedSecret({ name, namespace })),
    deleteNamespace: (name) => remove(`namespace ${name}`, () => kube.core.deleteNamespace({ name })),
  };
}

/** Whether a namespace still exists, and forgetting the record once it does not. */
export function namespaceWaitPorts(kube: KubeClients): NamespaceWaitPorts {
  return {
    forgetRecord: uninstallRecordPort(kube).forgetRecord,
    namespaceExists: (name) => exists(() => kube.core.readNamespace({ name }), `reading namespace ${name}`),
  };
}
