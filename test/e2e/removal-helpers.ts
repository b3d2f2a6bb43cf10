import { execFile } from 'node:child_process';
import { join } from 'node:path';
import {
  ApiException,
  ApiextensionsV1Api,
  KubeConfig,
  PolicyV1Api,
  RbacAuthorizationV1Api,
  type V1Pod,
} from '@kubernetes/client-node';
import { type PublishedEvent, runWorkflow, type WorkflowEvent, type WorkflowResult } from '../../local/runtime';
import type { E2E } from './harness';

const REPO = join(__dirname, '..', '..');

/** The KubeEdge directories a removal must leave empty (or absent) on the host. */
export const KUBEEDGE_DIRS = ['/var/lib/kubeedge', '/var/lib/edged', '/etc/kubeedge'] as const;

/** What one remove-node run (remove, rollback or uninstall) left: its result and what it published. */
export interface RemovalRun {
  readonly result: WorkflowResult;
  readonly published: PublishedEvent[];
}

/**
 * Runs the remove-node workflow in-process with the real handlers against the sandbox of `e2e`, with its
 * environment and execution registry, pauses compressed. `env` overrides settings for this run only.
 * `callbackTimeoutMs` is how long the wait for the reset script's event lasts before the check polls (default: the
 * state's own 30 s, as the sandbox sends the events).
 */
export async function removeNode(
  e2e: E2E,
  input: object,
  options: {
    onEvent?: (event: WorkflowEvent) => void;
    executionName?: string;
    env?: Record<string, string>;
    callbackTimeoutMs?: number;
  } = {},
): Promise<RemovalRun> {
  const published: PublishedEvent[] = [];
  const result = await runWorkflow({
    workflow: 'remove-node',
    input,
    waits: 'compressed',
    compressedWaitMs: 50,
    ...(options.callbackTimeoutMs === undefined ? {} : { compressedCallbackTimeoutMs: options.callbackTimeoutMs }),
    environment: { ...e2e.environment, ...(options.env ?? {}) },
    executionsDir: e2e.executionsDir,
    onPublish: (event) => published.push(event),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.executionName ? { executionName: options.executionName } : {}),
  });
  return { result, published };
}

/** The KubeEdge footprint of an edge host, seen from inside it through SSM (as an operator would look). */
export interface HostState {
  /** every file or directory under the KubeEdge directories */
  readonly files: string[];
  /** mount points at or under the KubeEdge directories, from the host's own mountinfo */
  readonly mounts: string[];
  /** `systemctl is-active edgecore` */
  readonly edgecore: string;
  /** the host's installed packages */
  readonly packages: string[];
}

export async function hostState(e2e: E2E, instanceId: string): Promise<HostState> {
  const dirs = KUBEEDGE_DIRS.join(' ');
  const out = await e2e.hostRun(
    instanceId,
    [
      `echo "files=$(find ${dirs} -mindepth 1 2>/dev/null | tr '\\n' ' ')"`,
      `echo "mounts=$(awk '{print $5}' /proc/self/mountinfo | grep -E '^/(var/lib/kubeedge|var/lib/edged|etc/kubeedge)(/|$)' | tr '\\n' ' ')"`,
      'echo "edgecore=$(systemctl is-active edgecore || true)"',
      `echo "packages=$(cat /var/lib/sandbox/packages.list 2>/dev/null | tr '\\n' ' ')"`,
    ].join('\n'),
  );
  if (out.status !== 'Success') throw new Error(`looking at ${instanceId} failed: ${out.status} ${out.stderr}`);
  const fields = Object.fromEntries(
    out.stdout
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1).trim()]),
  ) as Record<'files' | 'mounts' | 'edgecore' | 'packages', string>;
  const list = (text: string) => text.split(' ').filter(Boolean);
  return {
    files: list(fields.files),
    mounts: list(fields.mounts),
    edgecore: fields.edgecore,
    packages: list(fields.packages).map((p) => p.split(/[=\s]/)[0]),
  };
}

/** A host with nothing of KubeEdge left: what every removal and rollback must leave behind. */
export const CLEAN_HOST = {
  files: [],
  mounts: [],
  edgecore: 'inactive',
  packages: expect.not.arrayContaining(['mosquitto']),
};

/** Runs the real CLI (`npx tsx bin/edgekeeper.ts …`) in a child process; never rejects. */
export function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'npx',
      ['tsx', 'bin/edgekeeper.ts', ...args],
      { cwd: REPO, env: { ...process.env }, timeout: 50_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs the real kubectl against the sandbox with its discovery cache in the sandbox dir; never rejects. */
export function kubectl(e2e: E2E, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      '/usr/bin/kubectl',
      ['--cache-dir', join(e2e.dir, 'kube-cache'), ...args],
      { env: { ...process.env, KUBECONFIG: e2e.kubeconfig }, timeout: 20_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function present(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return true;
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) return false;
    throw error;
  }
}

/**
 * Which parts of the KubeEdge installation exist: namespace kubeedge, the release's storage Secret and its
 * cluster-scoped objects (the devices CRD, cloudcore's ClusterRole and ClusterRoleBinding).
 */
export async function kubeedgeInstallation(e2e: E2E): Promise<string[]> {
  const kc = new KubeConfig();
  kc.loadFromFile(e2e.kubeconfig);
  const crds = kc.makeApiClient(ApiextensionsV1Api);
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  const checks: [string, () => Promise<unknown>][] = [
    ['Namespace/kubeedge', () => e2e.core.readNamespace({ name: 'kubeedge' })],
    [
      'Secret/kubeedge/sh.helm.release.v1.kubeedge.v1',
      () => e2e.core.readNamespacedSecret({ namespace: 'kubeedge', name: 'sh.helm.release.v1.kubeedge.v1' }),
    ],
    [
      'CustomResourceDefinition/devices.devices.kubeedge.io',
      () => crds.readCustomResourceDefinition({ name: 'devices.devices.kubeedge.io' }),
    ],
    ['ClusterRole/cloudcore', () => rbac.readClusterRole({ name: 'cloudcore' })],
    ['ClusterRoleBinding/cloudcore', () => rbac.readClusterRoleBinding({ name: 'cloudcore' })],
  ];
  const found: string[] = [];
  for (const [name, read] of checks) if (await present(read)) found.push(name);
  return found;
}

export const WHOLE_INSTALLATION = [
  'Namespace/kubeedge',
  'Secret/kubeedge/sh.helm.release.v1.kubeedge.v1',
  'CustomResourceDefinition/devices.devices.kubeedge.io',
  'ClusterRole/cloudcore',
  'ClusterRoleBinding/cloudcore',
];

/** Creates a running pod bound to `nodeName` (what the scheduler and kubelet would have done). */
export async function runningPod(
  e2e: E2E,
  pod: { name: string; nodeName: string; labels?: Record<string, string> },
): Promise<V1Pod> {
  await e2e.core.createNamespacedPod({
    namespace: 'default',
    body: {
      metadata: { name: pod.name, labels: pod.labels ?? {} },
      spec: { nodeName: pod.nodeName, containers: [{ name: 'main', image: 'nginx:1.25' }] },
    },
  });
  return e2e.core.replaceNamespacedPodStatus({
    namespace: 'default',
    name: pod.name,
    body: {
      metadata: { name: pod.name, namespace: 'default' },
      spec: { nodeName: pod.nodeName, containers: [{ name: 'main', image: 'nginx:1.25' }] },
      status: { phase: 'Running' },
    },
  });
}

/** A PodDisruptionBudget in namespace default. */
export async function disruptionBudget(e2e: E2E, name: string, spec: Record<string, unknown>): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(e2e.kubeconfig);
  await kc.makeApiClient(PolicyV1Api).createNamespacedPodDisruptionBudget({
    namespace: 'default',
    body: { metadata: { name }, spec },
  });
}

/** Names of the pods bound to a node. */
export async function podsOn(e2e: E2E, nodeName: string): Promise<string[]> {
  const { items } = await e2e.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${nodeName}` });
  return items.map((pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`).sort();
}

/** States a given execution entered, in order. */
export function statesEntered(result: WorkflowResult, execution?: string): string[] {
  return result.events
    .filter((e) => e.type === 'StateEntered' && (execution === undefined || e.execution === execution))
    .map((e) => e.state ?? '');
}
