import type { V1Node } from '@kubernetes/client-node';
import {
  EngineThrottledError,
  type ListFilter,
  type Operation,
  type OperationEvent,
  type OperationSummary,
  operationIdOf,
  parseOperationId,
  type StartRequest,
  type StartResult,
  sameInput,
  type WorkflowEngine,
} from '../../../functions/api/engine';
import type { NodeSource } from '../../../functions/api/nodes';
import type { ApiDeps, ApiRequest, ApiResponse } from '../../../functions/api/router';
import { completeSettings } from '../../../functions/shared/settings';

/**
 * An engine that keeps executions in memory, with Step Functions' naming rule: a name that exists is found, not
 * started again. Tests set an execution's state with `finish`, or make every call fail with `failWith`; `startAs`
 * is what a started execution shows at once (a manual join already waiting for its node, say).
 */
export class FakeEngine implements WorkflowEngine {
  readonly started: StartRequest[] = [];

  constructor(private readonly startAs: Partial<Operation> = {}) {}

  private readonly operations = new Map<string, { input: unknown; operation: Operation }>();
  /** the event logs tests set with `log`; a started operation's is empty */
  private readonly logs = new Map<string, OperationEvent[]>();
  private failure: Error | undefined;
  private clock = Date.parse('2026-12-02T08:00:00Z');

  failWith(error: Error): void {
    this.failure = error;
  }

  async start(request: StartRequest): Promise<StartResult> {
    this.check();
    const operationId = operationIdOf(request.workflow, request.name);
    const existing = this.operations.get(operationId);
    if (existing) return { operationId, existed: true, sameInput: sameInput(existing.input, request.input) };
    this.started.push(request);
    const input = request.input as { nodeName?: string; mode?: string };
    this.clock += 1000;
    this.operations.set(operationId, {
      input: request.input,
      operation: {
        operationId,
        workflow: request.workflow,
        status: 'RUNNING',
        node: input.nodeName ?? null,
        mode: request.workflow === 'remove-node' ? (input.mode ?? 'remove') : null,
        startedAt: new Date(this.clock).toISOString(),
        stoppedAt: null,
        currentStep: 'Validate the request',
        steps: [],
        output: null,
        error: null,
        ...this.startAs,
      },
    });
    return { operationId, existed: false, sameInput: true };
  }

  /** Replaces what describe answers for an operation (it must have been started). */
  finish(operationId: string, changes: Partial<Operation>): void {
    const entry = this.operations.get(operationId);
    if (!entry) throw new Error(`no operation ${operationId}`);
    entry.operation = { ...entry.operation, ...changes };
  }

  /** Sets what events answers for an operation (it must have been started). */
  log(operationId: string, events: OperationEvent[]): void {
    if (!this.operations.has(operationId)) throw new Error(`no operation ${operationId}`);
    this.logs.set(operationId, events);
  }

  async events(operationId: string): Promise<OperationEvent[] | null> {
    this.check();
    if (!this.operations.has(operationId)) return null;
    return this.logs.get(operationId) ?? [];
  }

  async describe(operationId: string): Promise<Operation | null> {
    this.check();
    if (!parseOperationId(operationId)) return null;
    return this.operations.get(operationId)?.operation ?? null;
  }

  async list({ node, limit }: ListFilter): Promise<OperationSummary[]> {
    this.check();
    return [...this.operations.values()]
      .map(({ operation }) => operation)
      .filter((operation) => node === undefined || operation.node === node)
      .sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt))
      .slice(0, limit);
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }
}

export const throttled = () => new EngineThrottledError('Step Functions throttled starting an execution', 2);

/** A node as the cluster shows it. */
export function node(
  name: string,
  options: {
    readonly edge?: boolean;
    readonly ip?: string;
    readonly ready?: boolean;
    readonly kubeletVersion?: string;
    readonly annotations?: Record<string, string>;
    readonly labels?: Record<string, string>;
  } = {},
): V1Node {
  const edge = options.edge ?? true;
  return {
    metadata: {
      name,
      labels: {
        ...(edge ? { 'node-role.kubernetes.io/edge': '', 'node-role.kubernetes.io/agent': '' } : {}),
        ...options.labels,
      },
      annotations: options.annotations ?? {},
    },
    status: {
      addresses: options.ip ? [{ type: 'InternalIP', address: options.ip }] : [],
      conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }],
      nodeInfo: { kubeletVersion: options.kubeletVersion ?? 'v1.19.3-kubeedge-v1.6.1' } as NonNullable<
        V1Node['status']
      >['nodeInfo'],
    },
  };
}

/** The cluster's nodes behind the NodeSource port, paged like the API server (an opaque offset token). */
export function fakeCluster(nodes: readonly V1Node[], failure?: Error): NodeSource & { readonly pages: number[] } {
  const pages: number[] = [];
  return {
    pages,
    async listEdgeNodes({ limit, continue: token }) {
      if (failure) throw failure;
      const edge = nodes.filter((item) => item.metadata?.labels?.['node-role.kubernetes.io/edge'] !== undefined);
      const offset = token ? Number(Buffer.from(token, 'base64url').toString()) : 0;
      pages.push(offset);
      const next = offset + limit;
      return {
        items: edge.slice(offset, next),
        continue: next < edge.length ? Buffer.from(String(next)).toString('base64url') : null,
      };
    },
    async readNode(name) {
      if (failure) throw failure;
      return nodes.find((item) => item.metadata?.name === name) ?? null;
    },
  };
}

export function deps(overrides: Partial<ApiDeps> & { readonly engine: WorkflowEngine }): ApiDeps {
  return { settings: completeSettings({}), cluster: fakeCluster([]), lockHolders: async () => [], ...overrides };
}

/** A request with the defaults a test leaves out. */
export function request(method: string, path: string, extra: Partial<ApiRequest> = {}): ApiRequest {
  return { method, path, query: {}, headers: {}, ...extra };
}

/** The JSON body of a response. */
// biome-ignore lint/suspicious/noExplicitAny: tests read any field of the answer
export function json(response: ApiResponse): any {
  return JSON.parse(response.body);
}
