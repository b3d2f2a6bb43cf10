import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetCommandInvocationCommand,
  InvocationDoesNotExist,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import {
  ApiException,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  type V1DaemonSet,
  type V1Lease,
  type V1Node,
} from '@kubernetes/client-node';
import { defaultLogFile, handlerEnvironment } from '../../local/cli/targets';
import { EXECUTIONS_DIR_ENV, executionsDirFor } from '../../local/executions';
import { type PublishedEvent, runWorkflow, type WorkflowResult } from '../../local/runtime';
import { type Sandbox, type SandboxInfo, startSandbox } from '../../local/sandbox/sandbox';

/** Fixed ids of local/sandbox/fixtures/hosts.yaml. */
export const HOSTS = {
  ubuntuAmd64: 'mi-0ed9e000000000001',
  ubuntuArm64Containerd: 'mi-0ed9e000000000002',
  centosArmv7: 'mi-0ed9e000000000003',
  oldDocker: 'mi-0ed9e000000000004',
  offline: 'mi-0ed9e000000000005',
  firewalled: 'mi-0ed9e000000000006',
} as const;

/** Fixed ids of the fixture's cloud (control-plane) hosts, tagged `edgekeeper-role: cloud`; never onboarded. */
export const CLOUD_HOSTS = {
  master: 'mi-0c10d0000000000a1',
  worker: 'mi-0c10d0000000000a2',
} as const;

/** The edge labels and taint every onboarded node must carry. */
export const EDGE_LABELS = ['node-role.kubernetes.io/edge', 'node-role.kubernetes.io/agent'] as const;
export const EDGE_TAINT = { key: 'node-role.kubernetes.io/edge', effect: 'NoSchedule' } as const;
export const EDGE_EXCLUSION = { key: 'node-role.kubernetes.io/edge', operator: 'DoesNotExist' } as const;

/** The onboarding request as the CLI builds it. */
export interface OnboardInput {
  nodeName: string;
  nodeIp: string;
  instanceId: string;
  taint?: boolean;
  kubeedgeVersion?: string;
  region?: 'zh' | 'en';
  labels?: Record<string, string>;
  dryRun?: boolean;
}

/** What one onboarding run left behind: the result the CLI prints and the EventBridge entries it published. */
export interface OnboardRun {
  readonly result: WorkflowResult;
  readonly published: PublishedEvent[];
}

/** A script run on a sandbox host through the SSM endpoint. */
export interface HostResult {
  readonly status: string;
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const TERMINAL = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled', 'Undeliverable', 'DeliveryTimedOut']);

/**
 * One sandbox in a temp dir. Every run is given the handlers' environment (the CLI's for `--sandbox DIR`,
 * {@link E2E.environment}) and the execution registry `<dir>/executions` ({@link E2E.executionsDir}) explicitly,
 * as the CLI gives them: process.env is left alone. The steps log to `<dir>/logs/edgekeeper.log`, where the CLI
 * sends them.
 */
export class E2E {
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly coordination: CoordinationV1Api;
  readonly ssm: SSMClient;
  private readonly runs: OnboardRun[] = [];

  private constructor(
    readonly dir: string,
    private readonly sandbox: Sandbox,
    /** what the handlers read: the sandbox's endpoints, the log file and the registry */
    readonly environment: Record<string, string>,
  ) {
    const kc = new KubeConfig();
    kc.loadFromFile(sandbox.info.kubeconfig);
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.coordination = kc.makeApiClient(CoordinationV1Api);
    this.ssm = new SSMClient({
      endpoint: sandbox.info.ssm.endpoint,
      region: sandbox.info.ssm.region,
      credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
    });
  }

  /**
   * Starts a sandbox. `env` is applied after the sandbox's own handler environment (e.g. a short ready timeout).
   * `sandbox` passes options to the sandbox (fault hooks, offline delivery timeout).
   */
  static async start(
    options: {
      readyDelayMs?: number;
      env?: Record<string, string>;
      prefix?: string;
      sandbox?: Omit<Parameters<typeof startSandbox>[0], 'dir' | 'readyDelayMs'>;
    } = {},
  ): Promise<E2E> {
    const dir = mkdtempSync(join(tmpdir(), options.prefix ?? 'edgekeeper-e2e-'));
    const sandbox = await startSandbox({
      dir,
      ...(options.sandbox ?? {}),
      ...(options.readyDelayMs === undefined ? {} : { readyDelayMs: options.readyDelayMs }),
    });
    const target = { kind: 'sandbox', dir } as const;
    const environment = {
      ...(await handlerEnvironment(target, defaultLogFile(target))),
      [EXECUTIONS_DIR_ENV]: executionsDirFor(target, {}),
      ...(options.env ?? {}),
    };
    return new E2E(dir, sandbox, environment);
  }

  /** The execution registry of this sandbox's runs. */
  get executionsDir(): string {
    return this.environment[EXECUTIONS_DIR_ENV];
  }

  /** The running sandbox: its fault hooks and request log. */
  get handle(): Sandbox {
    return this.sandbox;
  }

  get info(): SandboxInfo {
    return this.sandbox.info;
  }

  /** The admin's kubeconfig: test setup and kubectl. */
  get kubeconfig(): string {
    return this.sandbox.info.kubeconfig;
  }

  /** ServiceAccount kube-system/edgekeeper's kubeconfig, held to deploy/rbac.yaml: what the steps use. */
  get stepsKubeconfig(): string {
    return this.sandbox.info.edgekeeperKubeconfig;
  }

  /** The instance of the sandbox fixture with this id. */
  instance(instanceId: string): SandboxInfo['instances'][number] {
    const found = this.info.instances.find((i) => i.instanceId === instanceId);
    if (!found) throw new Error(`the sandbox has no instance ${instanceId}`);
    return found;
  }

  /**
   * Runs the onboarding workflow in-process with the real handlers, pauses compressed to 50 ms. `env` overrides
   * settings for this run only (e.g. a short ready timeout). `callbackTimeoutMs` is how long the wait for the host
   * script's event lasts before the check polls (default: compressed like the pauses).
   */
  async onboard(
    input: OnboardInput,
    options: { executionName?: string; env?: Record<string, string>; callbackTimeoutMs?: number } = {},
  ): Promise<OnboardRun> {
    const published: PublishedEvent[] = [];
    const result = await runWorkflow({
      workflow: 'onboard-node',
      input: { taint: true, labels: {}, dryRun: false, ...input },
      waits: 'compressed',
      compressedWaitMs: 50,
      ...(options.callbackTimeoutMs === undefined ? {} : { compressedCallbackTimeoutMs: options.callbackTimeoutMs }),
      onPublish: (event) => published.push(event),
      environment: { ...this.environment, ...(options.env ?? {}) },
      executionsDir: this.executionsDir,
      ...(options.executionName === undefined ? {} : { executionName: options.executionName }),
    });
    const run = { result, published };
    this.runs.push(run);
    return run;
  }

  /** Every run of this harness so far. */
  allRuns(): readonly OnboardRun[] {
    return this.runs;
  }

  /** Runs a bash script inside a sandbox host through the SSM endpoint, as an operator would. */
  async hostRun(instanceId: string, script: string): Promise<HostResult> {
    const sent = await this.ssm.send(
      new SendCommandCommand({
        DocumentName: 'AWS-RunShellScript',
        InstanceIds: [instanceId],
        Parameters: { commands: [script] },
      }),
    );
    const commandId = sent.Command?.CommandId;
    if (!commandId) throw new Error('SendCommand returned no command id');
    for (;;) {
      try {
        const answer = await this.ssm.send(
          new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }),
        );
        const status = answer.Status ?? 'Pending';
        if (TERMINAL.has(status)) {
          return {
            status,
            code: answer.ResponseCode ?? -1,
            stdout: answer.StandardOutputContent ?? '',
            stderr: answer.StandardErrorContent ?? '',
          };
        }
      } catch (error) {
        if (!(error instanceof InvocationDoesNotExist)) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The KubeEdge join token, decoded, and its base64 form as stored in `kubeedge/tokensecret`. */
  async joinToken(): Promise<{ token: string; base64: string }> {
    const secret = await this.core.readNamespacedSecret({ name: 'tokensecret', namespace: 'kubeedge' });
    const base64 = secret.data?.tokendata ?? '';
    return { token: Buffer.from(base64, 'base64').toString('utf8'), base64 };
  }

  /** Everything the handlers logged so far. */
  handlerLogs(): string {
    try {
      return readFileSync(join(this.dir, 'logs', 'edgekeeper.log'), 'utf8');
    } catch {
      return '';
    }
  }

  async node(name: string): Promise<V1Node | undefined> {
    try {
      return await this.core.readNode({ name });
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return undefined;
      throw error;
    }
  }

  /** The onboarding lock of a node name (`kube-system/edgekeeper-node-<name>`), if any. */
  async lease(nodeName: string): Promise<V1Lease | undefined> {
    const { items } = await this.coordination.listNamespacedLease({ namespace: 'kube-system' });
    return items.find((lease) => lease.metadata?.name === `edgekeeper-node-${nodeName}`);
  }

  async daemonSet(namespace: string, name: string): Promise<V1DaemonSet> {
    return this.apps.readNamespacedDaemonSet({ namespace, name });
  }

  /** `namespace/name` of the DaemonSet owning each pod scheduled on the node. */
  async daemonSetPodsOn(nodeName: string): Promise<string[]> {
    const { items } = await this.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${nodeName}` });
    return items.flatMap((pod) =>
      (pod.metadata?.ownerReferences ?? [])
        .filter((owner) => owner.kind === 'DaemonSet')
        .map((owner) => `${pod.metadata?.namespace}/${owner.name}`),
    );
  }

  async stop(): Promise<void> {
    this.ssm.destroy();
    await this.sandbox.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The node's Ready condition status, or undefined. */
export function readyStatus(node: V1Node | undefined): string | undefined {
  return node?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
}

/** The node's InternalIP addresses. */
export function internalIps(node: V1Node | undefined): string[] {
  return (node?.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address);
}

/** The required node affinity terms of a DaemonSet's pod template. */
export function requiredTerms(ds: V1DaemonSet) {
  return ds.spec?.template.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
    ?.nodeSelectorTerms;
}
