import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { StepName } from '../../functions/registry';
import { currentEnvironment, readSettings } from '../../functions/shared/settings';
import { type PublishedEvent, runWorkflow, type WorkflowEvent } from '../../local/runtime';
import { asHandlers, failWith, NamedError, type StepInput, type StepResult, type Stubs } from './stubs';

const request = { nodeName: 'edge-1', nodeIp: '10.20.0.11', instanceId: 'mi-0123456789abcdef0' };
const STARTED = '2026-01-01T00:00:00.000Z';
const settings: StepResult<'ValidateOnboardRequest'>['join']['settings'] = {
  nodeName: 'edge-1',
  nodeIp: '10.20.0.11',
  profile: 'fork',
  version: 'v1.6.2',
  region: 'zh',
  downloadUrl: 'https://kubeedge.pek3b.qingstor.com/bin/v1.6.2/$arch/keadm-v1.6.2-linux-$arch.tar.gz',
  cloudcore: {
    address: '203.0.113.10',
    ports: { cloudhub: 10000, quic: 10001, https: 10002, stream: 10003, tunnel: 10004 },
  },
  taint: true,
  labels: {},
};
/** The node as the readiness check saw it Ready: what finishing patches. */
const SEEN = { resourceVersion: '4711', labels: { 'node-role.kubernetes.io/edge': '' }, annotations: {}, taints: [] };
const DAEMONSETS: StepResult<'KeepDaemonSetsOffEdge'> = {
  patched: [{ namespace: 'kube-system', name: 'calico-node' }],
  skipped: [{ namespace: 'kubeedge', name: 'edgemesh-agent', reason: 'meant for edge nodes' }],
};
const ROUTING_DONE: StepResult<'RouteNodeStreams'> = {
  status: 'Done',
  outcome: { step: 'routing', result: 'done', detail: 'add on 2 cloud host(s)' },
};
/** The onboarding's own execution id, and its rollback child's: `<name>-rollback`. */
const EXECUTION = /^arn:aws:states:[^:]+:\d+:execution:[^:]+:op-1$/;
const ROLLBACK_EXECUTION = /^arn:aws:states:[^:]+:\d+:execution:[^:]+:op-1-rollback$/;

interface Call {
  readonly name: StepName;
  readonly input: StepInput;
}

/**
 * Stand-ins for every step of a successful onboarding, each typed by its real handler's result; each test
 * replaces the ones it breaks. The rollback's steps (remove-node) are here too: a failed join runs them.
 */
function happyHandlers(
  calls: Call[],
  options: { alreadyJoined?: boolean; dryRun?: boolean } = {},
): Required<
  Omit<
    Stubs,
    | 'PlanUninstall'
    | 'DeleteKubeEdge'
    | 'CheckNamespaceGone'
    // drift-check's steps: onboarding never runs them
    | 'DriftCheckCluster'
    | 'DriftCheckHosts'
    | 'DriftRemediate'
    | 'DriftReport'
    // the batch workflows' steps: onboarding never runs them
    | 'CheckBatch'
    | 'PlanBatchWave'
    | 'ReadChildFailure'
  >
> {
  let joinChecks = 0;
  let readinessChecks = 0;
  let routingChecks = 0;
  const step =
    <N extends StepName>(name: N, result: (input: StepInput) => StepResult<N>) =>
    async (input: StepInput): Promise<StepResult<N>> => {
      calls.push({ name, input });
      return result(input);
    };
  return {
    ValidateOnboardRequest: step('ValidateOnboardRequest', (input) => ({
      request: {
        ...request,
        ...(input.request as object),
        mode: 'ssm',
        taint: true,
        labels: {},
        dryRun: options.dryRun ?? false,
      },
      alreadyJoined: options.alreadyJoined ?? false,
      adopting: false,
      join: { settings },
    })),
    LockNode: step('LockNode', (input) => ({
      lock: String(input.executionId).endsWith('-rollback') ? 'adopted' : 'acquired',
      keys: [{ key: 'node', value: 'edge-1', lease: 'edgekeeper-node-edge-1', outcome: 'acquired' }],
    })),
    ReleaseNodeLock: step('ReleaseNodeLock', (input) =>
      input.handOver
        ? { lock: 'handed-over', child: 'op-1-rollback', leases: ['edgekeeper-node-edge-1'] }
        : String(input.executionId).endsWith('-rollback')
          ? { lock: 'kept-for-parent', released: [] }
          : { lock: 'released', released: ['edgekeeper-node-edge-1'] },
    ),
    RenderHostScript: step('RenderHostScript', () => ({ script: '#!/bin/bash\necho join\n' })),
    SendJoinScript: step('SendJoinScript', () => ({
      commandId: 'c-1',
      instanceId: request.instanceId,
      startedAt: STARTED,
      attempt: 0,
      waitSeconds: 1,
    })),
    CheckHostCommand: step('CheckHostCommand', (input) => {
      const reset = input.script === 'reset';
      const done = reset || ++joinChecks >= 2;
      return {
        commandId: String(input.commandId),
        instanceId: String(input.instanceId),
        startedAt: String(input.startedAt),
        attempt: Number(input.attempt) + 1,
        waitSeconds: 1,
        status: done ? 'Success' : 'InProgress',
        report: reset
          ? {
              keadm: 'reset',
              edgecore: 'stopped',
              mosquitto: 'removed',
              edgemesh: 'absent',
              removed: ['/etc/kubeedge'],
              unmounted: [],
            }
          : null,
      };
    }),
    // no event comes here: each wait times out (compressed to 1 ms) and the check polls
    AwaitHostCommand: step('AwaitHostCommand', (input) => ({
      commandId: String(input.commandId),
      instanceId: String(input.instanceId),
      outcome: 'waiting',
    })),
    ResumeOnCommandEvent: step('ResumeOnCommandEvent', () => ({ outcome: 'no-wait' })),
    CheckNodeReady: step('CheckNodeReady', () => ({
      ready: ++readinessChecks >= 2,
      missing: readinessChecks >= 2 ? [] : ['Ready=True'],
      waitSeconds: 1,
      startedAt: STARTED,
      attempt: readinessChecks,
      node: readinessChecks >= 2 ? SEEN : null,
    })),
    FinishNode: step('FinishNode', () => ({
      nodeName: 'edge-1',
      patched: true,
      labelsSet: [],
      labelsRemoved: [],
      taint: 'unchanged',
    })),
    KeepDaemonSetsOffEdge: step('KeepDaemonSetsOffEdge', () => DAEMONSETS),
    // the routing command is sent, then checked once after a Wait
    RouteNodeStreams: step('RouteNodeStreams', (input) =>
      input.command === undefined && ++routingChecks === 1 && input.action === 'add'
        ? {
            status: 'InProgress',
            command: { action: 'add', commandId: 'r-1', startedAt: STARTED, attempt: 0 },
            waitSeconds: 1,
          }
        : ROUTING_DONE,
    ),
    // the rollback: remove-node in rollback mode
    InspectNode: step('InspectNode', (input) => {
      const asked = input.request as { hostChanged?: boolean };
      return {
        request: {
          mode: 'rollback',
          nodeName: 'edge-1',
          instanceId: request.instanceId,
          nodeIp: request.nodeIp,
          drain: true,
          force: true,
          forceHost: null,
          hostChanged: asked.hostChanged ?? true,
        },
        nodeExists: false,
        instanceId: request.instanceId,
        nodeIp: request.nodeIp,
        hostReset:
          asked.hostChanged === false
            ? { action: 'skip', reason: 'the join changed nothing on the host', notCleaned: [] }
            : { action: 'reset' },
        notice: null,
        keadm: { profile: 'fork', version: 'v1.6.2' },
      };
    }),
    DrainNode: step('DrainNode', () => ({
      done: true,
      waitSeconds: 0,
      startedAt: STARTED,
      attempt: 1,
      outcome: { step: 'drain', result: 'nothing-to-do' },
    })),
    SendResetScript: step('SendResetScript', () => ({
      commandId: 'c-2',
      instanceId: request.instanceId,
      startedAt: STARTED,
      attempt: 0,
      waitSeconds: 1,
    })),
    DeleteNode: step('DeleteNode', () => ({ outcome: { step: 'delete-node', result: 'nothing-to-do', detail: '' } })),
  };
}

async function onboard(
  input: object,
  replace: Stubs = {},
  options: { alreadyJoined?: boolean; dryRun?: boolean; failPublishing?: boolean; callbackTimeoutMs?: number } = {},
) {
  const calls: Call[] = [];
  const published: PublishedEvent[] = [];
  const result = await runWorkflow({
    workflow: 'onboard-node',
    input,
    executionName: 'op-1',
    waits: 'compressed',
    compressedWaitMs: 1,
    ...(options.callbackTimeoutMs === undefined ? {} : { compressedCallbackTimeoutMs: options.callbackTimeoutMs }),
    handlers: asHandlers({ ...happyHandlers(calls, options), ...replace }),
    onPublish: (event) => {
      if (options.failPublishing) throw new NamedError('EventBridge.InternalException', 'PutEvents failed');
      published.push(event);
    },
  });
  const entered = result.events.filter((e) => e.type === 'StateEntered' && e.execution === 'op-1').map((e) => e.state);
  const rollback = result.events.filter((e) => e.workflow === 'remove-node');
  const ofType = (type: string) =>
    result.events.filter((e: WorkflowEvent) => e.type === type && e.execution === 'op-1').map((e) => e.state);
  const called = (name: StepName) => calls.filter((c) => c.name === name).map((c) => c.input);
  return { result, calls, called, published, entered, ofType, rollback };
}

describe('onboard-node workflow', () => {
  it('runs every step in order on the happy path and publishes Edge Node Joined', async () => {
    const { result, entered, published, called, calls } = await onboard(request);
    expect(result.status).toBe('SUCCEEDED');
    expect(entered.filter((s) => !s?.endsWith('?'))).toEqual([
      'Validate the request',
      'Lock the node',
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
      'Wait for the routing',
      'Check the routing',
      'Keep cloud DaemonSets off edge nodes',
      'Release the lock',
      'Publish Edge Node Joined',
      'Report the joined node',
    ]);
    expect(published.map((e) => e.detailType)).toEqual(['Edge Node Joined']);
    expect(published[0].detail).toEqual({ operationId: 'op-1', ...request });
    expect(result.output).toEqual({ ...request, alreadyJoined: false, daemonSets: DAEMONSETS });
    // the node's routing is added with the join's cloudcore address, then checked after a pause
    expect(called('RouteNodeStreams')).toEqual([
      { operationId: 'op-1', ...routingOf('add'), cloudcore: settings.cloudcore, wait: false },
      {
        operationId: 'op-1',
        ...routingOf('add'),
        command: { action: 'add', commandId: 'r-1', startedAt: STARTED, attempt: 0 },
      },
    ]);
    // the lock is this execution's: its id comes from Step Functions, with every key of the node
    const lock = {
      operationId: 'op-1',
      purpose: 'onboard',
      executionId: expect.stringMatching(EXECUTION),
      ...request,
    };
    expect(called('LockNode')).toEqual([lock]);
    // the release gets the Leases as the lock step took them, to delete them without listing first
    expect(called('ReleaseNodeLock')).toEqual([
      {
        ...lock,
        taken: [{ key: 'node', value: 'edge-1', lease: 'edgekeeper-node-edge-1', outcome: 'acquired' }],
      },
    ]);
    expect(called('ValidateOnboardRequest')).toEqual([
      { operationId: 'op-1', request, execution: { id: expect.stringMatching(EXECUTION) } },
    ]);
    // finishing patches the node as the readiness check saw it Ready, without reading it again
    expect(called('FinishNode')).toEqual([expect.objectContaining({ seen: SEEN })]);
    // every step sees the operation id, which ties its logs to this execution
    expect(calls.every((call) => call.input.operationId === 'op-1')).toBe(true);
  });

  it('returns the plan on a dry run and never sends anything to the host', async () => {
    const { result, entered, called } = await onboard(request, {}, { dryRun: true });
    expect(result.status).toBe('SUCCEEDED');
    expect(entered).not.toContain('Send the join script to the host');
    expect(entered).toContain('Release the lock after the plan');
    expect(called('KeepDaemonSetsOffEdge')).toEqual([{ operationId: 'op-1', dryRun: true }]);
    expect(result.output).toEqual({
      dryRun: true,
      nodeName: 'edge-1',
      settings,
      script: '#!/bin/bash\necho join\n',
      daemonSetsToPatch: DAEMONSETS.patched,
      daemonSetsSkipped: DAEMONSETS.skipped,
    });
  });

  it('does not join twice a node the same request already onboarded, and applies its labels and taint again', async () => {
    const { result, entered, called } = await onboard(request, {}, { alreadyJoined: true });
    expect(result.status).toBe('SUCCEEDED');
    expect(entered).not.toContain('Send the join script to the host');
    expect(entered).not.toContain('Check node readiness');
    expect(called('FinishNode')).toEqual([
      // no readiness check saw the node: finishing reads it
      { operationId: 'op-1', nodeName: 'edge-1', instanceId: request.instanceId, settings, seen: null },
    ]);
    expect(entered).toContain('Keep cloud DaemonSets off edge nodes');
    expect(result.output).toMatchObject({ alreadyJoined: true });
  });

  it('never rolls back a node a rerun found joined, when converging it fails', async () => {
    const { result, entered, rollback, published } = await onboard(
      request,
      { FinishNode: failWith('TransientServiceError', 'patching node edge-1: HTTP 503') },
      { alreadyJoined: true },
    );
    expect(result.error).toEqual({ name: 'TransientServiceError', message: 'patching node edge-1: HTTP 503' });
    expect(rollback).toEqual([]);
    expect(entered.slice(entered.indexOf('Nothing to roll back'))).toEqual([
      'Nothing to roll back',
      'Release the lock after failure',
      'Publish Edge Node Join Failed',
      'Fail with the original error',
    ]);
    expect(published[0].detail).toMatchObject({ rollback: { result: 'not-needed' }, lock: { result: 'released' } });
  });

  it('fails with the validation error, without locking, and says nothing was undone or held', async () => {
    const message = 'nodeIp 10.0.0.7 is already the InternalIP of node worker-2';
    const { result, entered, published, calls } = await onboard(request, {
      ValidateOnboardRequest: failWith('InvalidRequestError', message),
    });
    expect(result).toMatchObject({ status: 'FAILED', error: { name: 'InvalidRequestError', message } });
    expect(entered).toEqual([
      'Validate the request',
      'Nothing to undo',
      'Publish Edge Node Join Failed',
      'Fail with the original error',
    ]);
    expect(calls).toEqual([]);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ source: 'edgekeeper', detailType: 'Edge Node Join Failed' });
    expect(published[0].detail).toEqual({
      operationId: 'op-1',
      request,
      error: 'InvalidRequestError',
      cause: expect.any(String),
      rollback: { result: 'not-needed' },
      lock: { result: 'not-held' },
    });
    expect(JSON.parse((published[0].detail as { cause: string }).cause)).toMatchObject({ errorMessage: message });
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
      LockNode: async () => {
        attempts += 1;
        if (attempts === 1) throw new NamedError('TransientServiceError', 'creating Lease: HTTP 503');
        return {
          lock: 'acquired',
          keys: [{ key: 'node', value: 'edge-1', lease: 'edgekeeper-node-edge-1', outcome: 'acquired' }],
        };
      },
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(ofType('StateRetried')).toEqual(['Lock the node']);
  });

  it('fails on a cloudcore configuration the join cannot use before locking: validation resolves the settings', async () => {
    const message = 'cloudcore.yaml has no modules.cloudHub.advertiseAddress';
    const { result, entered, calls } = await onboard(request, {
      ValidateOnboardRequest: failWith('CloudcoreConfigError', message),
    });
    expect(result.error).toEqual({ name: 'CloudcoreConfigError', message });
    expect(entered).toEqual([
      'Validate the request',
      'Nothing to undo',
      'Publish Edge Node Join Failed',
      'Fail with the original error',
    ]);
    expect(calls).toEqual([]);
  });

  it('releases the lock when the lock step fails after it may have taken Leases, and rolls nothing back', async () => {
    const { result, entered, rollback, published } = await onboard(request, {
      LockNode: failWith('ClusterAccessDeniedError', 'creating Lease edgekeeper-ip-10.20.0.11: HTTP 403'),
    });
    expect(result.error?.name).toBe('ClusterAccessDeniedError');
    expect(entered.slice(entered.indexOf('Lock the node'))).toEqual([
      'Lock the node',
      'Nothing to roll back',
      'Release the lock after failure',
      'Publish Edge Node Join Failed',
      'Fail with the original error',
    ]);
    expect(rollback).toEqual([]);
    expect(published[0].detail).toMatchObject({
      error: 'ClusterAccessDeniedError',
      rollback: { result: 'not-needed' },
      lock: { result: 'released' },
    });
  });

  it.each([
    ['SendJoinScript', 'HostOfflineError', 'instanceId mi-0123456789abcdef0 is not online'],
    ['CheckHostCommand', 'HostScriptFailedError', 'keadm join failed: exit code 21'],
    ['CheckNodeReady', 'NodeNotReadyError', 'node edge-1 was not ready after 600 s: missing Ready=True'],
    ['FinishNode', 'InvalidRequestError', 'labels rejected'],
    ['RouteNodeStreams', 'RoutingFailedError', 'no cloud host carries the SSM tag edgekeeper-role=cloud'],
    ['KeepDaemonSetsOffEdge', 'DaemonSetPatchError', 'kube-system/calico-node kept conflicting'],
  ] as const)('rolls back when %s fails, then fails with the original %s', async (step, name, message) => {
    const failing = failWith(name, message);
    // the rollback polls its reset script and removes routing with the same steps: only the join's use fails here
    const happy = happyHandlers([]);
    const replacement: Stubs =
      step === 'CheckHostCommand'
        ? { CheckHostCommand: async (input) => (input.script === 'reset' ? happy.CheckHostCommand(input) : failing()) }
        : step === 'RouteNodeStreams'
          ? { RouteNodeStreams: async (input) => (input.action === 'remove' ? ROUTING_DONE : failing()) }
          : { [step]: failing };
    const { result, entered, published, called, rollback } = await onboard(request, replacement);
    expect(result.error).toEqual({ name, message });
    // the rollback ran remove-node as this execution's `-rollback` child, forced so an offline host cannot block it,
    // resetting the host the join may have changed
    expect(called('InspectNode')).toEqual([
      {
        operationId: 'op-1-rollback',
        request: { mode: 'rollback', ...request, force: true, hostChanged: true },
      },
    ]);
    expect(new Set(rollback.map((e) => e.execution))).toEqual(new Set(['op-1-rollback']));
    expect(called('LockNode').map((input) => input.executionId)).toEqual([
      expect.stringMatching(EXECUTION),
      expect.stringMatching(ROLLBACK_EXECUTION),
    ]);
    expect(rollback.filter((e) => e.type === 'StateEntered').map((e) => e.state)).toContain(
      'Send the reset script to the host',
    );
    // the child works under this execution's Leases because they were handed to it, by name, first
    expect(called('ReleaseNodeLock')[0]).toMatchObject({
      executionId: expect.stringMatching(EXECUTION),
      handOver: true,
    });
    const tail = entered.slice(entered.indexOf('Hand the lock to the rollback'));
    expect(tail).toEqual([
      'Hand the lock to the rollback',
      'Roll back the join',
      'Did the rollback reset the host?',
      'Release the lock after failure',
      'Publish Edge Node Join Failed',
      'Fail with the original error',
    ]);
    expect(published.map((e) => e.detailType)).toEqual(['Edge Node Removed', 'Edge Node Join Failed']);
    // the failure event carries the original error, what the rollback did and whether the lock was released
    expect(published[1].detail).toEqual({
      operationId: 'op-1',
      request,
      error: name,
      cause: expect.any(String),
      rollback: { result: 'done', output: expect.objectContaining({ mode: 'rollback', host: { action: 'reset' } }) },
      lock: { result: 'released' },
    });
  });

  it('rolls back a join refused by its preflight without resetting the host, which the preflight did not change', async () => {
    const happy = happyHandlers([]);
    const { result, called, rollback, published } = await onboard(request, {
      CheckHostCommand: async (input) =>
        input.script === 'reset'
          ? happy.CheckHostCommand(input)
          : failWith('JoinPreflightFailedError', 'preflight: edgecore already runs on this host for another node')(),
    });
    expect(result.error?.name).toBe('JoinPreflightFailedError');
    expect(called('InspectNode')).toEqual([
      { operationId: 'op-1-rollback', request: { mode: 'rollback', ...request, force: true, hostChanged: false } },
    ]);
    const rolledBack = rollback.filter((e) => e.type === 'StateEntered').map((e) => e.state);
    expect(rolledBack).toContain('Skip the host reset');
    expect(rolledBack).not.toContain('Send the reset script to the host');
    expect(published[1].detail).toMatchObject({
      error: 'JoinPreflightFailedError',
      rollback: { result: 'done', output: { host: { action: 'skip' } } },
    });
  });

  it.each(['HostUnreachableError', 'InvalidJoinTokenError'])(
    'rolls back a send refused with %s without resetting the host, which nothing reached',
    async (name) => {
      const { result, called } = await onboard(request, {
        SendJoinScript: failWith(name, 'refused before sending'),
      });
      expect(result.error?.name).toBe(name);
      expect(called('InspectNode')).toEqual([
        { operationId: 'op-1-rollback', request: { mode: 'rollback', ...request, force: true, hostChanged: false } },
      ]);
      expect(called('SendResetScript')).toEqual([]);
    },
  );

  it('releases what a lock step that failed midway may have taken', async () => {
    const { result, entered, called } = await onboard(request, {
      LockNode: failWith('States.Timeout', 'the lock step timed out'),
    });
    expect(result.error?.name).toBe('States.Timeout');
    expect(entered).toContain('Release the lock after failure');
    expect(called('ReleaseNodeLock')).toHaveLength(1);
    expect(called('SendJoinScript')).toEqual([]);
  });

  it('still fails with the original error when the rollback fails too, and the event carries the rollback’s error', async () => {
    const { result, entered, published } = await onboard(request, {
      CheckNodeReady: failWith('NodeNotReadyError', 'node edge-1 is not ready'),
      InspectNode: failWith('InstanceIdMismatchError', 'instance ids differ'),
    });
    expect(result.error).toEqual({ name: 'NodeNotReadyError', message: 'node edge-1 is not ready' });
    // the host may still be joined: the Leases stay as the record of what edge-1 owns, for a removal to find
    expect(entered).toContain('Keep the ownership record');
    expect(entered).not.toContain('Release the lock after failure');
    expect(published.map((e) => e.detailType)).toEqual(['Edge Node Rollback Failed', 'Edge Node Join Failed']);
    const { rollback, lock, error } = published[1].detail as {
      rollback: { Error: string; Cause: string };
      lock: unknown;
      error: string;
    };
    expect(error).toBe('NodeNotReadyError');
    // a failed child execution arrives as States.TaskFailed; its own error is inside the cause
    expect(rollback.Error).toBe('States.TaskFailed');
    expect(JSON.parse(rollback.Cause)).toMatchObject({ Status: 'FAILED', Error: 'InstanceIdMismatchError' });
    expect(lock).toEqual({ result: 'kept', reason: expect.stringContaining('remove this node name') });
  });

  it('still reports the original error when releasing the lock fails too, and says the release failed', async () => {
    const { result, ofType, published } = await onboard(request, {
      SendJoinScript: failWith('HostOfflineError', 'host offline'),
      ReleaseNodeLock: failWith('ApiError', 'the API server is gone'),
    });
    expect(result.error).toEqual({ name: 'HostOfflineError', message: 'host offline' });
    expect(ofType('StateCaught')).toContain('Release the lock after failure');
    expect(published.map((e) => e.detailType)).toEqual(['Edge Node Removed', 'Edge Node Join Failed']);
    const { lock } = published[1].detail as { lock: { Error: string; Cause: string } };
    expect(lock.Error).toBe('ApiError');
    expect(JSON.parse(lock.Cause)).toMatchObject({ errorMessage: 'the API server is gone' });
  });

  it('still succeeds when the Edge Node Joined event cannot be published', async () => {
    const { result, entered, ofType } = await onboard(request, {}, { failPublishing: true });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toEqual({ ...request, alreadyJoined: false, daemonSets: DAEMONSETS });
    // besides the host script's waits, which no event ends here: each times out into the check
    expect(ofType('StateCaught').filter((state) => state !== 'Wait for the host script')).toEqual([
      'Publish Edge Node Joined',
    ]);
    expect(entered.slice(-2)).toEqual(['Publish Edge Node Joined', 'Report the joined node']);
  });
});

describe('onboard-node workflow: waiting for the host script', () => {
  /** What the event's target does deployed: sends the waiting task's token back, here a moment after the wait began. */
  function resumeSoon(tokens: string[]) {
    return async (input: StepInput): Promise<StepResult<'AwaitHostCommand'>> => {
      const token = String(input.taskToken);
      tokens.push(token);
      const endpoint = readSettings(currentEnvironment()).stepFunctionsEndpoint;
      const client = new SFNClient({
        endpoint,
        region: 'local',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      setTimeout(() => {
        void client
          .send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ status: 'Success' }) }))
          .finally(() => client.destroy());
      }, 20);
      return { commandId: String(input.commandId), instanceId: String(input.instanceId), outcome: 'waiting' };
    };
  }

  it('moves on when the task token comes back, with a fresh token for every wait and none in the history', async () => {
    const tokens: string[] = [];
    const { result, entered, ofType } = await onboard(
      request,
      { AwaitHostCommand: resumeSoon(tokens) },
      // longer than the test: only the token ends a wait
      { callbackTimeoutMs: 60_000 },
    );

    expect(result.status).toBe('SUCCEEDED');
    // the stub check says InProgress once, so the workflow waits twice, each time until the token comes back
    expect(entered.filter((s) => s === 'Wait for the host script' || s === 'Check the host script')).toEqual([
      'Wait for the host script',
      'Check the host script',
      'Wait for the host script',
      'Check the host script',
    ]);
    expect(ofType('StateFailed')).toEqual([]);
    expect(new Set(tokens).size).toBe(2);
    const history = JSON.stringify(result.events);
    for (const token of tokens) expect(history).not.toContain(token);
  });

  it('polls with backoff when the wait cannot be set up', async () => {
    const { result, entered } = await onboard(request, {
      AwaitHostCommand: failWith('SettingsError', 'EDGEKEEPER_COMMAND_WAITS_TABLE: must be a DynamoDB table name'),
    });

    expect(result.status).toBe('SUCCEEDED');
    expect(entered.filter((s) => s?.includes('host script'))).toEqual([
      'Wait for the host script',
      'Pause before checking the host script',
      'Check the host script',
      'Wait for the host script',
      'Pause before checking the host script',
      'Check the host script',
    ]);
  });
});

function routingOf(action: 'add' | 'remove') {
  return { nodeName: 'edge-1', nodeIp: '10.20.0.11', action };
}
