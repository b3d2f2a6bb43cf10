import type { StepName } from '../../functions/registry';
import { type PublishedEvent, runWorkflow, type WorkflowEvent } from '../../local/runtime';

type Handler = (input: unknown) => Promise<unknown>;

class NamedError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

const request = { nodeName: 'edge-1', nodeIp: '10.20.0.11', instanceId: 'mi-0123456789abcdef0' };
const settings = {
  nodeName: 'edge-1',
  profile: 'fork',
  version: 'v1.6.2',
  cloudcore: {
    address: '203.0.113.10',
    ports: { cloudhub: 10000, quic: 10001, https: 10002, stream: 10003, tunnel: 10004 },
  },
};

/** Stand-ins for every step of a successful onboarding; each test replaces the ones it breaks. */
function happyHandlers(calls: { name: string; input: unknown }[]): Partial<Record<StepName, Handler>> {
  let commandChecks = 0;
  let readinessChecks = 0;
  const step =
    (name: StepName, result: (input: Record<string, unknown>) => unknown): Handler =>
    async (input) => {
      calls.push({ name, input });
      return result(input as Record<string, unknown>);
    };
  return {
    ValidateOnboardRequest: step('ValidateOnboardRequest', (input) => ({
      request: { ...(input.request as object), taint: true, labels: {}, dryRun: false },
      alreadyJoined: false,
    })),
    LockNode: step('LockNode', () => ({ lock: 'acquired' })),
    ReleaseNodeLock: step('ReleaseNodeLock', () => ({ lock: 'released' })),
    ResolveJoinSettings: step('ResolveJoinSettings', () => ({ settings })),
    RenderHostScript: step('RenderHostScript', () => ({ script: '#!/bin/bash\necho join\n' })),
    SendJoinScript: step('SendJoinScript', () => ({
      commandId: 'c-1',
      instanceId: request.instanceId,
      startedAt: '2026-01-01T00:00:00.000Z',
      attempt: 0,
      waitSeconds: 1,
    })),
    CheckHostCommand: step('CheckHostCommand', (input) => ({
      ...(input as object),
      attempt: ++commandChecks,
      waitSeconds: 1,
      status:
        commandChecks < 2 || input.script === 'reset'
          ? input.script === 'reset'
            ? 'Success'
            : 'InProgress'
          : 'Success',
      report: input.script === 'reset' ? { removed: [], unmounted: [] } : null,
    })),
    CheckNodeReady: step('CheckNodeReady', () => ({
      ready: ++readinessChecks >= 2,
      missing: readinessChecks >= 2 ? [] : ['Ready=True'],
      waitSeconds: 1,
      startedAt: '2026-01-01T00:00:00.000Z',
      attempt: readinessChecks,
    })),
    FinishNode: step('FinishNode', () => ({ labelled: true })),
    KeepDaemonSetsOffEdge: step('KeepDaemonSetsOffEdge', () => ({
      patched: [{ namespace: 'kube-system', name: 'calico-node' }],
      skipped: [{ namespace: 'kubeedge', name: 'edgemesh-agent', reason: 'meant-for-edge' }],
    })),
    // the rollback: remove-node in rollback mode, for a join that left nothing on the host yet
    InspectNode: step('InspectNode', (input) => ({
      request: { ...(input.request as object), drain: true },
      lockHolder: (input.request as { lockHolder: string }).lockHolder,
      instanceId: request.instanceId,
      nodeIp: request.nodeIp,
      hostReset: { action: 'reset' },
      keadm: { profile: 'fork', version: 'v1.6.1' },
    })),
    DrainNode: step('DrainNode', () => ({
      done: true,
      waitSeconds: 0,
      startedAt: '2026-01-01T00:00:00.000Z',
      attempt: 1,
      outcome: { step: 'drain', result: 'nothing-to-do' },
    })),
    SendResetScript: step('SendResetScript', () => ({
      commandId: 'c-2',
      instanceId: request.instanceId,
      startedAt: '2026-01-01T00:00:00.000Z',
      attempt: 0,
      waitSeconds: 1,
    })),
    DeleteNode: step('DeleteNode', () => ({ outcome: { step: 'delete-node', result: 'nothing-to-do' } })),
    RouteNodeStreams: step('RouteNodeStreams', (input) => ({
      outcome: { step: 'routing', result: 'done', detail: `${input.action} on 2 cloud host(s)` },
    })),
  };
}

async function onboard(input: object, replace: Partial<Record<StepName, Handler>> = {}) {
  const calls: { name: string; input: unknown }[] = [];
  const published: PublishedEvent[] = [];
  const result = await runWorkflow({
    workflow: 'onboard-node',
    input,
    executionName: 'op-1',
    waits: 'compressed',
    compressedWaitMs: 1,
    handlers: { ...happyHandlers(calls), ...replace },
    onPublish: (event) => published.push(event),
  });
  const entered = result.events
    .filter((e) => e.type === 'StateEntered' && e.workflow === 'onboard-node')
    .map((e) => e.state);
  const rollback = result.events.filter((e) => e.workflow === 'remove-node');
  const ofType = (type: string) => result.events.filter((e: WorkflowEvent) => e.type === type).map((e) => e.state);
  return { result, calls, published, entered, ofType, rollback };
}

const failWith =
  (name: string, message: string): Handler =>
  async () => {
    throw new NamedError(name, message);
  };

describe('onboard-node workflow', () => {
  it('runs every step in order on the happy path and publishes Edge Node Joined', async () => {
    const { result, entered, published, calls } = await onboard(request);
    expect(result.status).toBe('SUCCEEDED');
    expect(entered.filter((s) => !s?.endsWith('?'))).toEqual([
      'Validate the request',
      'Lock the node',
      'Resolve join settings',
      'Send the join script to the host',
      'Wait for the host script',
      'Check the host script',
      'Wait for the host script',
      'Check the host script',
      'Start waiting for the node',
      'Check node readiness',
      'Wait for the node',
      'Check node readiness',
      'Finish the node',
      'Route logs and exec to the node',
      'Keep cloud DaemonSets off edge nodes',
      'Release the lock',
      'Publish Edge Node Joined',
      'Report the joined node',
    ]);
    expect(published.map((e) => e.detailType)).toEqual(['Edge Node Joined']);
    expect(published[0].detail).toEqual({ operationId: 'op-1', ...request });
    expect(result.output).toEqual({
      ...request,
      alreadyJoined: false,
      daemonSets: {
        patched: [{ namespace: 'kube-system', name: 'calico-node' }],
        skipped: [{ namespace: 'kubeedge', name: 'edgemesh-agent', reason: 'meant-for-edge' }],
      },
    });
    // the node's routing is added with the join's cloudcore address, before the DaemonSets are patched
    expect(calls.find((c) => c.name === 'RouteNodeStreams')?.input).toEqual({
      operationId: 'op-1',
      nodeName: 'edge-1',
      nodeIp: '10.20.0.11',
      action: 'add',
      cloudcore: settings.cloudcore,
    });
    // every step sees the operation id, which ties its logs to this execution
    expect(calls.every((call) => (call.input as { operationId: string }).operationId === 'op-1')).toBe(true);
  });

  it('returns the plan on a dry run and never sends anything to the host', async () => {
    const { result, entered, calls } = await onboard(request, {
      ValidateOnboardRequest: async (input) => ({
        request: { ...(input as { request: object }).request, taint: true, labels: {}, dryRun: true },
        alreadyJoined: false,
      }),
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(entered).not.toContain('Send the join script to the host');
    expect(entered).toContain('Release the lock after the plan');
    expect(calls.find((c) => c.name === 'KeepDaemonSetsOffEdge')?.input).toMatchObject({ dryRun: true });
    expect(result.output).toMatchObject({ dryRun: true, script: '#!/bin/bash\necho join\n', settings });
  });

  it('does not join twice when the node was already onboarded by the same request', async () => {
    const { result, entered } = await onboard(request, {
      ValidateOnboardRequest: async (input) => ({
        request: { ...(input as { request: object }).request, taint: true, labels: {}, dryRun: false },
        alreadyJoined: true,
      }),
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(entered).not.toContain('Send the join script to the host');
    expect(entered).toContain('Keep cloud DaemonSets off edge nodes');
    expect(result.output).toMatchObject({ alreadyJoined: true });
  });

  it('fails with the validation error, without locking, and publishes Edge Node Join Failed', async () => {
    const message = 'nodeIp 10.0.0.7 is already the InternalIP of node worker-2';
    const { result, entered, published } = await onboard(request, {
      ValidateOnboardRequest: failWith('InvalidRequestError', message),
    });
    expect(result).toMatchObject({ status: 'FAILED', error: { name: 'InvalidRequestError', message } });
    expect(entered).not.toContain('Lock the node');
    expect(published.map((e) => e.detailType)).toEqual(['Edge Node Join Failed']);
    expect(published[0].detail).toMatchObject({ error: 'InvalidRequestError', request });
  });

  it('fails fast when another operation holds the node, without releasing its lock', async () => {
    const { result, entered } = await onboard(request, {
      LockNode: failWith('NodeLockedError', 'nodeName edge-1 is locked by operation op-0'),
    });
    expect(result.error).toEqual({ name: 'NodeLockedError', message: 'nodeName edge-1 is locked by operation op-0' });
    expect(entered.filter((s) => s?.startsWith('Release'))).toEqual([]);
  });

  it('retries a transient error and then goes on', async () => {
    let attempts = 0;
    const { result, ofType } = await onboard(request, {
      ResolveJoinSettings: async () => {
        attempts += 1;
        if (attempts === 1) throw new NamedError('TransientServiceError', 'reading ConfigMap: HTTP 503');
        return { settings };
      },
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(ofType('StateRetried')).toEqual(['Resolve join settings']);
  });

  it('releases the lock when a step before the join fails', async () => {
    const { result, entered } = await onboard(request, {
      ResolveJoinSettings: failWith('CloudcoreConfigError', 'cloudcore.yaml has no modules.cloudHub.advertiseAddress'),
    });
    expect(result.error?.name).toBe('CloudcoreConfigError');
    expect(entered).toContain('Release the lock after failure');
    expect(entered).not.toContain('Send the join script to the host');
  });

  it.each([
    ['SendJoinScript', 'HostOfflineError', 'instanceId mi-0123456789abcdef0 is not online'],
    ['CheckHostCommand', 'HostScriptFailedError', 'preflight failed: docker 18.09.9 is older than 19.3.0'],
    ['CheckNodeReady', 'NodeNotReadyError', 'node edge-1 was not ready after 600 s: missing Ready=True'],
    ['FinishNode', 'InvalidRequestError', 'labels rejected'],
    ['RouteNodeStreams', 'RoutingFailedError', 'no cloud host carries the SSM tag edgekeeper-role=cloud'],
    ['KeepDaemonSetsOffEdge', 'DaemonSetPatchError', 'kube-system/calico-node kept conflicting'],
  ] as const)('rolls back when %s fails, then fails with the original %s', async (step, name, message) => {
    const failing = failWith(name, message);
    // the rollback polls its reset script and removes routing with the same steps: only the join's use fails here
    const happy = happyHandlers([]);
    const replacement: Handler =
      step === 'CheckHostCommand'
        ? async (input) =>
            (input as { script?: string }).script === 'reset'
              ? { ...(input as object), attempt: 1, waitSeconds: 0, status: 'Success', report: { removed: [] } }
              : failing(input)
        : step === 'RouteNodeStreams'
          ? async (input) =>
              (input as { action: string }).action === 'remove' ? happy.RouteNodeStreams?.(input) : failing(input)
          : failing;
    const { result, entered, published, calls, rollback } = await onboard(request, { [step]: replacement });
    expect(result.error).toEqual({ name, message });
    // the rollback ran remove-node under this execution's lock, forced so an offline host cannot block it
    expect(calls.find((c) => c.name === 'InspectNode')?.input).toMatchObject({
      request: {
        mode: 'rollback',
        nodeName: 'edge-1',
        instanceId: request.instanceId,
        force: true,
        lockHolder: 'op-1',
      },
    });
    expect(rollback.filter((e) => e.type === 'StateEntered').map((e) => e.state)).toContain(
      'Send the reset script to the host',
    );
    const tail = entered.slice(entered.indexOf('Roll back the join'));
    expect(tail).toEqual([
      'Roll back the join',
      'Release the lock after failure',
      'Publish Edge Node Join Failed',
      'Fail with the original error',
    ]);
    expect(published.map((e) => e.detailType)).toEqual(['Edge Node Removed', 'Edge Node Join Failed']);
  });

  it('still fails with the original error when the rollback fails too, and says so in the event', async () => {
    const { result, entered, published } = await onboard(request, {
      CheckNodeReady: failWith('NodeNotReadyError', 'node edge-1 is not ready'),
      InspectNode: failWith('InstanceIdMismatchError', 'instance ids differ'),
    });
    expect(result.error).toEqual({ name: 'NodeNotReadyError', message: 'node edge-1 is not ready' });
    expect(entered).toContain('Release the lock after failure');
    expect(published.map((e) => e.detailType)).toEqual(['Edge Node Removal Failed', 'Edge Node Join Failed']);
  });

  it('still reports the original error when releasing the lock fails too', async () => {
    const { result, ofType } = await onboard(request, {
      SendJoinScript: failWith('HostOfflineError', 'host offline'),
      ReleaseNodeLock: failWith('ApiError', 'the API server is gone'),
    });
    expect(result.error).toEqual({ name: 'HostOfflineError', message: 'host offline' });
    expect(ofType('StateCaught')).toContain('Release the lock after failure');
  });
});
