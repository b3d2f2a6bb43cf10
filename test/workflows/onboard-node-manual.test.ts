import type { StepName } from '../../functions/registry';
import { type PublishedEvent, runWorkflow } from '../../local/runtime';
import { asHandlers, failWith, type StepInput, type StepResult, type Stubs } from './stubs';

/*
 * onboard-node's manual branch: a device that is not an SSM instance, joined by a person who runs the join command
 * the caller rendered outside the workflow. No step sends anything to a host; a failure deletes at most the node
 * the command registered, and always releases the lock.
 */

const request = { nodeName: 'edge-m', nodeIp: '10.20.0.71' };
const STARTED = '2026-01-01T00:00:00.000Z';
const settings: StepResult<'ValidateOnboardRequest'>['join']['settings'] = {
  nodeName: 'edge-m',
  nodeIp: '10.20.0.71',
  profile: 'fork',
  version: 'v1.6.1',
  region: 'zh',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the host script's placeholder, not a template
  downloadUrl: 'https://kubeedge.pek3b.qingstor.com/bin/v1.6.1/${arch}/keadm-v1.6.1-linux-${arch}.tar.gz',
  cloudcore: {
    address: '203.0.113.10',
    ports: { cloudhub: 10000, quic: 10001, https: 10002, stream: 10003, tunnel: 10004 },
  },
  taint: true,
  labels: {},
};
const DAEMONSETS: StepResult<'KeepDaemonSetsOffEdge'> = {
  patched: [{ namespace: 'kube-system', name: 'calico-node' }],
  skipped: [],
};
const DELETED: StepResult<'DeleteNode'> = {
  outcome: { step: 'delete-node', result: 'done', detail: 'deleted node edge-m' },
};
const EXECUTION = /^arn:aws:states:[^:]+:\d+:execution:[^:]+:op-m$/;

interface Call {
  readonly name: StepName;
  readonly input: StepInput;
}

/** Every step a manual join uses, succeeding; the node registers on the second check. */
function manualHandlers(calls: Call[]): Stubs {
  let checks = 0;
  const step =
    <N extends StepName>(name: N, result: (input: StepInput) => StepResult<N>) =>
    async (input: StepInput): Promise<StepResult<N>> => {
      calls.push({ name, input });
      return result(input);
    };
  return {
    ValidateOnboardRequest: step('ValidateOnboardRequest', () => ({
      request: { ...request, mode: 'manual' as const, instanceId: null, taint: true, labels: {}, dryRun: false },
      alreadyJoined: false,
      adopting: false,
      join: { settings },
    })),
    LockNode: step('LockNode', () => ({
      lock: 'acquired' as const,
      keys: [{ key: 'node' as const, value: 'edge-m', lease: 'edgekeeper-node-edge-m', outcome: 'acquired' as const }],
    })),
    ReleaseNodeLock: step('ReleaseNodeLock', () => ({
      lock: 'released' as const,
      released: ['edgekeeper-node-edge-m'],
    })),
    CheckNodeReady: step('CheckNodeReady', () => ({
      ready: ++checks >= 2,
      missing: checks >= 2 ? [] : ['node edge-m does not exist'],
      waitSeconds: 1,
      startedAt: STARTED,
      attempt: checks,
      node: checks >= 2 ? { resourceVersion: '7', labels: {}, annotations: {}, taints: [] } : null,
    })),
    FinishNode: step('FinishNode', () => ({
      nodeName: 'edge-m',
      patched: true,
      labelsSet: [],
      labelsRemoved: [],
      taint: 'unchanged' as const,
    })),
    RouteNodeStreams: step('RouteNodeStreams', () => ({
      status: 'Done' as const,
      outcome: { step: 'routing' as const, result: 'skipped' as const, detail: 'routing is off' },
    })),
    KeepDaemonSetsOffEdge: step('KeepDaemonSetsOffEdge', () => DAEMONSETS),
    DeleteNode: step('DeleteNode', () => DELETED),
  };
}

async function onboard(replace: Stubs = {}, signal?: AbortSignal) {
  const calls: Call[] = [];
  const published: PublishedEvent[] = [];
  // a step outside the manual join fails the test loudly if the workflow reaches it
  const outside = failWith('UnexpectedStepError', 'a manual join must not reach this step');
  const result = await runWorkflow({
    workflow: 'onboard-node',
    input: request,
    executionName: 'op-m',
    waits: 'compressed',
    compressedWaitMs: 1,
    handlers: asHandlers({
      SendJoinScript: outside,
      CheckHostCommand: outside,
      InspectNode: outside,
      SendResetScript: outside,
      RenderHostScript: outside,
      ...manualHandlers(calls),
      ...replace,
    }),
    onPublish: (event) => published.push(event),
    signal,
  });
  const entered = result.events
    .filter((e) => e.type === 'StateEntered' && e.execution === 'op-m')
    .map((e) => e.state)
    .filter((state) => !state?.endsWith('?'));
  const called = (name: StepName) => calls.filter((c) => c.name === name).map((c) => c.input);
  const children = result.events.filter((e) => e.execution !== 'op-m');
  return { result, entered, called, published, children };
}

describe('onboard-node, manual join', () => {
  it('waits for the node the person’s command registers, then finishes it like an SSM join', async () => {
    const { result, entered, called, published } = await onboard();

    expect(result.status).toBe('SUCCEEDED');
    expect(entered).toEqual([
      'Validate the request',
      'Lock the node',
      'Start waiting for the manual join',
      'Check the manual join',
      'Wait for the manual join',
      'Check the manual join',
      'Finish the node',
      'Route logs and exec to the node',
      'Keep cloud DaemonSets off edge nodes',
      'Release the lock',
      'Publish Edge Node Joined',
      'Report the joined node',
    ]);
    // the lock takes the name and the IP: there is no instance
    const lock = { operationId: 'op-m', purpose: 'onboard', executionId: expect.stringMatching(EXECUTION) };
    expect(called('LockNode')).toEqual([{ ...lock, ...request, instanceId: null }]);
    // bounded by the manual join timeout, renewing this execution's Leases while it waits
    expect(called('CheckNodeReady')[0]).toEqual({
      operationId: 'op-m',
      ...request,
      settings,
      startedAt: null,
      attempt: 0,
      timeout: 'manualJoin',
      executionId: expect.stringMatching(EXECUTION),
    });
    // finishing patches the node as the last check saw it
    expect(called('FinishNode')).toEqual([
      {
        operationId: 'op-m',
        nodeName: 'edge-m',
        instanceId: null,
        settings,
        seen: { resourceVersion: '7', labels: {}, annotations: {}, taints: [] },
      },
    ]);
    expect(result.output).toEqual({ ...request, instanceId: null, alreadyJoined: false, daemonSets: DAEMONSETS });
    expect(published.map((event) => event.detailType)).toEqual(['Edge Node Joined']);
  });

  it('on timeout deletes the node only if it registered with this name and IP, releases the lock and fails', async () => {
    const { result, entered, called, published, children } = await onboard({
      CheckNodeReady: failWith('NodeNotReadyError', 'node edge-m is not ready after the deadline'),
    });

    expect(result.error).toEqual({ name: 'NodeNotReadyError', message: 'node edge-m is not ready after the deadline' });
    expect(entered.slice(entered.indexOf('Check the manual join'))).toEqual([
      'Check the manual join',
      'Remove the node the manual join registered',
      'Release the lock after failure',
      'Publish Edge Node Join Failed',
      'Fail with the original error',
    ]);
    // no rollback child: there is no host to reset
    expect(children).toEqual([]);
    expect(called('DeleteNode')).toEqual([
      { operationId: 'op-m', nodeName: 'edge-m', onlyWithInternalIp: '10.20.0.71' },
    ]);
    expect(called('ReleaseNodeLock')).toHaveLength(1);
    expect(published.map((event) => event.detailType)).toEqual(['Edge Node Join Failed']);
    expect(published[0].detail).toMatchObject({
      error: 'NodeNotReadyError',
      rollback: { result: 'done', detail: 'deleted node edge-m' },
      lock: { result: 'released' },
    });
  });

  it('stops at once while it waits for the person, deleting what registered and releasing the lock', async () => {
    // the person never runs the command; Ctrl-C arrives during the wait, which could last the whole timeout
    const stop = new AbortController();
    let checks = 0;
    const { result, entered, called } = await onboard(
      {
        CheckNodeReady: async () => {
          if (++checks === 2) stop.abort('SIGINT');
          return {
            ready: false,
            missing: ['node edge-m does not exist'],
            waitSeconds: 1,
            startedAt: STARTED,
            attempt: checks,
            node: null,
          };
        },
      },
      stop.signal,
    );

    expect(result.status).toBe('ABORTED');
    expect(result.stop?.before).toBe('Check the manual join');
    expect(checks).toBe(2);
    expect(entered.slice(entered.lastIndexOf('Check the manual join'))).toEqual([
      'Check the manual join',
      'Remove the node the manual join registered',
      'Release the lock after failure',
      'Publish Edge Node Join Failed',
      'Fail with the original error',
    ]);
    expect(called('DeleteNode')).toHaveLength(1);
    expect(called('ReleaseNodeLock')).toHaveLength(1);
  });

  it('undoes the same way when a step after the node registered fails', async () => {
    const { result, entered, called } = await onboard({
      KeepDaemonSetsOffEdge: failWith('DaemonSetPatchError', 'kube-system/calico-node kept conflicting'),
    });

    expect(result.error?.name).toBe('DaemonSetPatchError');
    expect(entered.slice(entered.indexOf('Keep cloud DaemonSets off edge nodes'))).toEqual([
      'Keep cloud DaemonSets off edge nodes',
      'Remove the node the manual join registered',
      'Release the lock after failure',
      'Publish Edge Node Join Failed',
      'Fail with the original error',
    ]);
    expect(called('DeleteNode')).toHaveLength(1);
  });

  it('still releases the lock and fails with the original error when deleting the node fails', async () => {
    const { result, called, published } = await onboard({
      CheckNodeReady: failWith('NodeNotReadyError', 'node edge-m is not ready after the deadline'),
      DeleteNode: failWith('ClusterAccessDeniedError', 'deleting node edge-m: forbidden'),
    });

    expect(result.error?.name).toBe('NodeNotReadyError');
    expect(called('ReleaseNodeLock')).toHaveLength(1);
    expect(published[0].detail).toMatchObject({
      rollback: { Error: 'ClusterAccessDeniedError' },
      lock: { result: 'released' },
    });
  });
});
