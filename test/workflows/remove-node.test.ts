import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { StepName } from '../../functions/registry';
import { currentEnvironment, readSettings } from '../../functions/shared/settings';
import { type PublishedEvent, runWorkflow, type WorkflowEvent } from '../../local/runtime';
import { asHandlers, failWith, NamedError, type StepInput, type StepResult, type Stubs } from './stubs';

type Input = StepInput;

const INSTANCE = 'mi-0123456789abcdef0';
/** The callback task that waits for the reset script's end; without an event, each visit times out into the check. */
const WAIT = 'Wait for the reset script';
const STARTED = '2026-01-01T00:00:00.000Z';
const SKIP: StepResult<'InspectNode'>['hostReset'] = {
  action: 'skip',
  reason: `host ${INSTANCE} is offline (SSM PingStatus ConnectionLost); cluster side only`,
  notCleaned: ['mosquitto', '/var/lib/kubeedge'],
};
const RESET_REPORT: StepResult<'CheckHostCommand'>['report'] = {
  keadm: 'reset',
  edgecore: 'stopped',
  mosquitto: 'removed',
  edgemesh: 'absent',
  removed: ['/var/lib/kubeedge', '/etc/kubeedge'],
  unmounted: ['/var/lib/edged/pods/x/volumes/secret'],
};
const ROUTING_OFF: StepResult<'RouteNodeStreams'> = {
  status: 'Done',
  outcome: { step: 'routing', result: 'skipped', detail: 'logs/exec routing is off' },
};
/** This execution's id, as Step Functions gives it to the lock steps. */
const EXECUTION = expect.stringMatching(/^arn:aws:states:[^:]+:\d+:execution:[^:]+:op-1$/);
const PLAN: NonNullable<StepResult<'PlanUninstall'>['plan']> = {
  nodesToRemoveFirst: [] as string[],
  release: { name: 'kubeedge', namespace: 'kubeedge', revision: 1, status: 'deployed' },
  objects: [{ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: 'cloudcore' }],
  releaseSecrets: { namespace: 'kubeedge', names: ['sh.helm.release.v1.kubeedge.v1'] },
  namespace: 'kubeedge',
};

interface Call {
  readonly name: StepName;
  readonly input: Input;
}

/**
 * Stand-ins for every step of a successful removal or uninstall, each typed by its real handler's result; each test
 * replaces the ones it breaks. `drainTurns` / `resetPolls` / `namespacePolls` / `routingChecks` say how many turns
 * each loop takes.
 */
function happyHandlers(
  calls: Call[],
  loops: {
    drainTurns?: number;
    resetPolls?: number;
    namespacePolls?: number;
    routingChecks?: number;
    hostReset?: StepResult<'InspectNode'>['hostReset'];
    notice?: string;
  } = {},
): Required<
  Pick<
    Stubs,
    | 'InspectNode'
    | 'LockNode'
    | 'ReleaseNodeLock'
    | 'DrainNode'
    | 'SendResetScript'
    | 'AwaitHostCommand'
    | 'CheckHostCommand'
    | 'DeleteNode'
    | 'RouteNodeStreams'
    | 'PlanUninstall'
    | 'DeleteKubeEdge'
    | 'CheckNamespaceGone'
  >
> {
  const step =
    <N extends StepName>(name: N, result: (input: Input) => StepResult<N>) =>
    async (input: Input): Promise<StepResult<N>> => {
      calls.push({ name, input });
      return result(input);
    };
  return {
    InspectNode: step('InspectNode', (input) => {
      // the real handler defaults mode to remove, and a rollback always drains
      const asked = { mode: 'remove', drain: false, force: false, ...(input.request as Input) } as {
        mode: 'remove' | 'rollback';
        nodeName: string;
        drain: boolean;
        force: boolean;
        hostChanged?: boolean;
      };
      return {
        request: {
          ...asked,
          drain: asked.drain || asked.mode === 'rollback',
          forceHost: null,
          hostChanged: asked.hostChanged ?? true,
        },
        nodeExists: true,
        instanceId: INSTANCE,
        nodeIp: '10.20.0.11',
        hostReset: loops.hostReset ?? { action: 'reset' },
        notice: loops.notice ?? null,
        keadm: { profile: 'fork', version: 'v1.6.1' },
      };
    }),
    LockNode: step('LockNode', () => ({ lock: 'acquired', keys: [] })),
    ReleaseNodeLock: step('ReleaseNodeLock', () => ({ lock: 'released', released: [] })),
    DrainNode: step('DrainNode', (input) => {
      const attempt = (input.attempt as number) + 1;
      const done = attempt >= (loops.drainTurns ?? 1);
      return {
        done,
        waitSeconds: done ? 0 : 5,
        startedAt: (input.startedAt as string | null) ?? STARTED,
        attempt,
        outcome:
          loops.drainTurns === undefined
            ? { step: 'drain', result: 'nothing-to-do' }
            : { step: 'drain', result: 'done', detail: 'cordoned and evicted default/web-1' },
      };
    }),
    SendResetScript: step('SendResetScript', (input) => ({
      commandId: 'reset-1',
      instanceId: String(input.instanceId),
      startedAt: STARTED,
      attempt: 0,
      waitSeconds: 2,
    })),
    // no event comes here: each wait times out (compressed to 1 ms) and the check polls
    AwaitHostCommand: step('AwaitHostCommand', (input) => ({
      commandId: String(input.commandId),
      instanceId: String(input.instanceId),
      outcome: 'waiting',
    })),
    CheckHostCommand: step('CheckHostCommand', (input) => {
      const attempt = (input.attempt as number) + 1;
      const done = attempt >= (loops.resetPolls ?? 1);
      return {
        commandId: String(input.commandId),
        instanceId: String(input.instanceId),
        startedAt: String(input.startedAt),
        attempt,
        waitSeconds: done ? 0 : 3,
        status: done ? 'Success' : 'InProgress',
        report: done ? RESET_REPORT : null,
      };
    }),
    DeleteNode: step('DeleteNode', (input) => ({
      outcome: { step: 'delete-node', result: 'done', detail: `deleted node ${input.nodeName}` },
    })),
    RouteNodeStreams: step('RouteNodeStreams', (input) => {
      const command = input.command as { attempt: number } | undefined;
      const checks = command ? command.attempt + 1 : 0;
      if (checks >= (loops.routingChecks ?? 0)) return ROUTING_OFF;
      return {
        status: 'InProgress',
        command: { action: 'remove', commandId: 'route-1', startedAt: STARTED, attempt: checks },
        waitSeconds: 1,
      };
    }),
    PlanUninstall: step('PlanUninstall', () => ({ installed: true, plan: PLAN, resumed: false })),
    DeleteKubeEdge: step('DeleteKubeEdge', (input) => ({
      release: 'kubeedge/kubeedge',
      removedNodes: input.removedNodes as string[],
      deleted: ['ClusterRole/cloudcore'],
      alreadyGone: [],
      releaseSecrets: ['sh.helm.release.v1.kubeedge.v1'],
      namespace: 'kubeedge',
    })),
    CheckNamespaceGone: step('CheckNamespaceGone', (input) => {
      const attempt = (input.attempt as number) + 1;
      const gone = attempt >= (loops.namespacePolls ?? 1);
      return { gone, waitSeconds: gone ? 0 : 4, startedAt: (input.startedAt as string | null) ?? STARTED, attempt };
    }),
  };
}

async function run(
  input: object,
  options: {
    replace?: Stubs;
    loops?: Parameters<typeof happyHandlers>[1];
    failPublishing?: boolean;
    callbackTimeoutMs?: number;
  } = {},
) {
  const calls: Call[] = [];
  const published: PublishedEvent[] = [];
  const result = await runWorkflow({
    workflow: 'remove-node',
    input,
    executionName: 'op-1',
    waits: 'compressed',
    compressedWaitMs: 1,
    ...(options.callbackTimeoutMs === undefined ? {} : { compressedCallbackTimeoutMs: options.callbackTimeoutMs }),
    handlers: asHandlers({ ...happyHandlers(calls, options.loops), ...options.replace }),
    onPublish: (event) => {
      if (options.failPublishing) throw new NamedError('EventBridge.InternalException', 'PutEvents failed');
      published.push(event);
    },
  });
  const own = result.events.filter((e) => e.execution === 'op-1');
  const entered = own.filter((e) => e.type === 'StateEntered').map((e) => e.state);
  const ofType = (type: string) => own.filter((e: WorkflowEvent) => e.type === type).map((e) => e.state);
  /** the states whose errors were caught, besides the reset script's waits, which no event ends here */
  const caught = () => ofType('StateCaught').filter((state) => state !== WAIT);
  const called = (name: StepName) => calls.filter((c) => c.name === name).map((c) => c.input);
  return { result, calls, published, entered, ofType, caught, called };
}

/** What the lock steps receive for edge-1 from this execution. */
const LOCK = {
  operationId: 'op-1',
  purpose: 'remove',
  executionId: EXECUTION,
  nodeName: 'edge-1',
  instanceId: INSTANCE,
  nodeIp: '10.20.0.11',
};

const removal = { nodeName: 'edge-1' };

describe('remove-node workflow: remove and rollback', () => {
  it('treats a request without mode as a removal and runs every step in order', async () => {
    const { result, entered, published, calls, called } = await run(removal);
    expect(result.status).toBe('SUCCEEDED');
    expect(entered).toEqual([
      'Which mode?',
      'Inspect the node',
      'Lock the node',
      'Start draining',
      'Clear workloads off the node',
      'Drained?',
      'Reset the host?',
      'Send the reset script to the host',
      'Wait for the reset script',
      'Check the reset script',
      'Reset finished?',
      'Delete the node',
      'Remove the logs and exec routing',
      'Routing removed?',
      'Release the lock',
      'Publish Edge Node Removed',
      'Report the removal',
    ]);
    expect(entered).not.toContain('Plan the uninstall');
    expect(published).toEqual([
      {
        source: 'edgekeeper',
        detailType: 'Edge Node Removed',
        eventBusName: 'edgekeeper-events',
        detail: { operationId: 'op-1', nodeName: 'edge-1', mode: 'remove', instanceId: INSTANCE },
      },
    ]);
    expect(result.output).toEqual({
      nodeName: 'edge-1',
      mode: 'remove',
      instanceId: INSTANCE,
      drain: { step: 'drain', result: 'nothing-to-do' },
      host: { action: 'reset' },
      hostReset: RESET_REPORT,
      node: { step: 'delete-node', result: 'done', detail: 'deleted node edge-1' },
      routing: { step: 'routing', result: 'skipped', detail: 'logs/exec routing is off' },
      notice: null,
    });
    // the routing of the node's IP is removed once the node is gone
    expect(called('RouteNodeStreams')).toEqual([
      { operationId: 'op-1', nodeName: 'edge-1', nodeIp: '10.20.0.11', action: 'remove', wait: false },
    ]);
    // the lock is taken and released by this execution (its id, never a request field) for the node's name,
    // instance and IP; the reset script is sent to the inspected host
    expect(called('LockNode')).toEqual([LOCK]);
    expect(called('ReleaseNodeLock')).toEqual([LOCK]);
    expect(called('SendResetScript')).toEqual([
      {
        operationId: 'op-1',
        nodeName: 'edge-1',
        instanceId: INSTANCE,
        keadm: { profile: 'fork', version: 'v1.6.1' },
        forceHost: null,
      },
    ]);
    expect(called('CheckHostCommand')[0]).toMatchObject({ script: 'reset', nodeName: 'edge-1', commandId: 'reset-1' });
    expect(called('DrainNode')[0]).toEqual({
      operationId: 'op-1',
      nodeName: 'edge-1',
      drain: false,
      startedAt: null,
      attempt: 0,
    });
    expect(calls.every((call) => call.input.operationId === 'op-1')).toBe(true);
    expect(calls.map((c) => c.name)).not.toContain('PlanUninstall');
  });

  it('takes the same path for an explicit remove, passing drain and force through', async () => {
    const { result, called } = await run({ mode: 'remove', nodeName: 'edge-1', drain: true, force: true });
    expect(result.status).toBe('SUCCEEDED');
    expect(called('InspectNode')[0]).toEqual({
      operationId: 'op-1',
      request: { mode: 'remove', nodeName: 'edge-1', drain: true, force: true },
    });
    expect(called('DrainNode')[0]).toMatchObject({ drain: true });
  });

  it('rolls back with its own execution as the lock holder and says so in the event and the output', async () => {
    const input = { mode: 'rollback', nodeName: 'edge-1', instanceId: INSTANCE, force: true, hostChanged: true };
    const { result, published, called } = await run(input);
    expect(result.status).toBe('SUCCEEDED');
    // the lock step adopts the parent's lock from this execution's own name; nothing in the input names a holder
    expect(called('LockNode')).toEqual([LOCK]);
    expect(called('ReleaseNodeLock')).toEqual([LOCK]);
    expect(called('InspectNode')).toEqual([{ operationId: 'op-1', request: input }]);
    // a rollback always drains: the failed join's node must not keep pods bound to it
    expect(called('DrainNode')[0]).toMatchObject({ drain: true });
    expect(published.map((e) => e.detail)).toEqual([
      { operationId: 'op-1', nodeName: 'edge-1', mode: 'rollback', instanceId: INSTANCE },
    ]);
    expect(result.output).toMatchObject({ nodeName: 'edge-1', mode: 'rollback' });
  });

  it('waits for evictions and clears the node again until the drain is done', async () => {
    const { result, entered, called } = await run({ nodeName: 'edge-1', drain: true }, { loops: { drainTurns: 3 } });
    expect(result.status).toBe('SUCCEEDED');
    const drainPart = entered.slice(entered.indexOf('Start draining'), entered.indexOf('Reset the host?'));
    expect(drainPart).toEqual([
      'Start draining',
      'Clear workloads off the node',
      'Drained?',
      'Wait for evictions',
      'Clear workloads off the node',
      'Drained?',
      'Wait for evictions',
      'Clear workloads off the node',
      'Drained?',
    ]);
    // each turn carries on from the previous one: same start, next attempt
    expect(called('DrainNode').map((i) => [i.startedAt, i.attempt])).toEqual([
      [null, 0],
      [STARTED, 1],
      [STARTED, 2],
    ]);
    expect(result.output).toMatchObject({
      drain: { step: 'drain', result: 'done', detail: 'cordoned and evicted default/web-1' },
    });
  });

  it('skips the host reset when the inspection says so (offline host, force) and reports what stays on it', async () => {
    const { result, entered, calls, published } = await run(
      { nodeName: 'edge-1', force: true },
      { loops: { hostReset: SKIP } },
    );
    expect(result.status).toBe('SUCCEEDED');
    expect(entered).toContain('Skip the host reset');
    expect(entered).not.toContain('Send the reset script to the host');
    expect(calls.map((c) => c.name)).not.toContain('SendResetScript');
    expect(calls.map((c) => c.name)).not.toContain('CheckHostCommand');
    expect(entered.slice(entered.indexOf('Skip the host reset'))).toEqual([
      'Skip the host reset',
      'Delete the node',
      'Remove the logs and exec routing',
      'Routing removed?',
      'Release the lock',
      'Publish Edge Node Removed',
      'Report the removal',
    ]);
    expect(result.output).toMatchObject({ host: SKIP, hostReset: null, node: { result: 'done' } });
    expect(published.map((e) => e.detailType)).toEqual(['Edge Node Removed']);
  });

  it('reports the inspection’s notice when the removal does less than usual', async () => {
    const notice = 'node edge-1 was already gone: cleaning only what edgekeeper left for it (locks, routing)';
    const { result } = await run(removal, { loops: { notice } });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({ notice });
  });

  it('checks the routing removal again after a pause until every cloud host applied it', async () => {
    const { result, entered, called } = await run(removal, { loops: { routingChecks: 1 } });
    expect(result.status).toBe('SUCCEEDED');
    expect(
      entered.slice(entered.indexOf('Remove the logs and exec routing'), entered.indexOf('Release the lock')),
    ).toEqual([
      'Remove the logs and exec routing',
      'Routing removed?',
      'Wait for the routing removal',
      'Check the routing removal',
      'Routing removed?',
    ]);
    expect(called('RouteNodeStreams')[1]).toEqual({
      operationId: 'op-1',
      nodeName: 'edge-1',
      nodeIp: '10.20.0.11',
      action: 'remove',
      command: { action: 'remove', commandId: 'route-1', startedAt: STARTED, attempt: 0 },
    });
  });

  it('still succeeds when the Edge Node Removed event cannot be published', async () => {
    const { result, caught, entered } = await run(removal, { failPublishing: true });
    expect(result.status).toBe('SUCCEEDED');
    expect(caught()).toEqual(['Publish Edge Node Removed']);
    expect(entered.slice(-2)).toEqual(['Publish Edge Node Removed', 'Report the removal']);
    expect(result.output).toMatchObject({ nodeName: 'edge-1', mode: 'remove' });
  });

  it('polls the reset script until it finishes when no event ends its waits', async () => {
    const { result, entered, called, ofType } = await run(removal, { loops: { resetPolls: 3 } });
    expect(result.status).toBe('SUCCEEDED');
    expect(
      entered.slice(entered.indexOf('Send the reset script to the host'), entered.indexOf('Delete the node')),
    ).toEqual([
      'Send the reset script to the host',
      'Wait for the reset script',
      'Check the reset script',
      'Reset finished?',
      'Wait for the reset script',
      'Check the reset script',
      'Reset finished?',
      'Wait for the reset script',
      'Check the reset script',
      'Reset finished?',
    ]);
    expect(called('CheckHostCommand').map((i) => i.attempt)).toEqual([0, 1, 2]);
    expect(result.output).toMatchObject({ hostReset: RESET_REPORT });
    // each wait registered the reset command and, no event coming, timed out into the check
    expect(called('AwaitHostCommand')).toEqual(
      Array(3).fill({ operationId: 'op-1', commandId: 'reset-1', instanceId: INSTANCE, taskToken: expect.any(String) }),
    );
    expect(ofType('StateCaught').filter((state) => state === WAIT)).toHaveLength(3);
  });

  it('retries a transient error and then goes on', async () => {
    let attempts = 0;
    const happy = happyHandlers([]);
    const { result, ofType } = await run(removal, {
      replace: {
        DeleteNode: async (input) => {
          attempts += 1;
          if (attempts === 1) throw new NamedError('TransientServiceError', 'deleting node edge-1: HTTP 503');
          return happy.DeleteNode?.(input);
        },
      },
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(ofType('StateRetried')).toEqual(['Delete the node']);
    expect(attempts).toBe(2);
  });

  it('fails with the inspection error without locking or releasing anything, and publishes the failure', async () => {
    const message = `host ${INSTANCE} of node edge-1 is offline (SSM PingStatus ConnectionLost): not cleaned: mosquitto`;
    const { result, entered, published, calls } = await run(removal, {
      replace: { InspectNode: failWith('HostCannotBeResetError', message) },
    });
    expect(result).toMatchObject({ status: 'FAILED', error: { name: 'HostCannotBeResetError', message } });
    expect(entered).toEqual([
      'Which mode?',
      'Inspect the node',
      'Nothing to release',
      'Which failure event?',
      'Publish Edge Node Removal Failed',
      'Fail with the original error',
    ]);
    expect(calls.map((c) => c.name)).toEqual([]);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ detailType: 'Edge Node Removal Failed' });
    expect(published[0].detail).toEqual({
      operationId: 'op-1',
      request: removal,
      error: 'HostCannotBeResetError',
      cause: expect.any(String),
      lock: { result: 'not-held' },
    });
    expect(JSON.parse((published[0].detail as { cause: string }).cause)).toMatchObject({ errorMessage: message });
  });

  it('does not release a lock it failed to take (another operation holds it)', async () => {
    const message = 'nodeName edge-1 is locked by operation op-0 since … until …; try again after it finishes';
    const { result, entered, calls } = await run(removal, {
      replace: { LockNode: failWith('NodeLockedError', message) },
    });
    expect(result.error).toEqual({ name: 'NodeLockedError', message });
    expect(entered.filter((s) => s?.startsWith('Release'))).toEqual([]);
    expect(calls.map((c) => c.name)).toEqual(['InspectNode']);
  });

  it.each([
    ['DrainNode', 'Clear workloads off the node', 'WorkloadPodsPresentError', 'node edge-1 runs 1 workload pod'],
    ['SendResetScript', 'Send the reset script to the host', 'HostUnreachableError', 'instanceId gone'],
    ['CheckHostCommand', 'Check the reset script', 'HostResetIncompleteError', 'left /var/lib/edged'],
    ['DeleteNode', 'Delete the node', 'ApiError', 'deleting node edge-1: HTTP 403'],
  ] as const)(
    'when %s fails (%s): releases the lock, publishes the failure, fails with the original %s',
    async (step, state, name, message) => {
      const { result, entered, published, called, caught, calls } = await run(removal, {
        replace: { [step]: failWith(name, message) },
      });
      expect(result).toMatchObject({ status: 'FAILED', output: null, error: { name, message } });
      expect(caught()).toEqual([state]);
      expect(entered.slice(entered.indexOf(state))).toEqual([
        state,
        'Release the lock after failure',
        'Which failure event?',
        'Publish Edge Node Removal Failed',
        'Fail with the original error',
      ]);
      expect(called('ReleaseNodeLock')).toEqual([LOCK]);
      expect(published.map((e) => e.detailType)).toEqual(['Edge Node Removal Failed']);
      expect(published[0].detail).toMatchObject({ request: removal, error: name, lock: { result: 'released' } });
      // nothing after the failing step ran
      const after = {
        DrainNode: 'SendResetScript',
        SendResetScript: 'CheckHostCommand',
        CheckHostCommand: 'DeleteNode',
      };
      if (step in after) expect(calls.map((c) => c.name)).not.toContain(after[step as keyof typeof after]);
      if (step !== 'DeleteNode') expect(calls.map((c) => c.name)).not.toContain('DeleteNode');
    },
  );

  it('still fails with the original error when releasing the lock fails too', async () => {
    const { result, entered, caught, published } = await run(removal, {
      replace: {
        DeleteNode: failWith('ApiError', 'deleting node edge-1: HTTP 403'),
        ReleaseNodeLock: failWith('ApiError', 'the API server is gone'),
      },
    });
    expect(result.error).toEqual({ name: 'ApiError', message: 'deleting node edge-1: HTTP 403' });
    expect(caught()).toEqual(['Delete the node', 'Release the lock after failure']);
    expect(entered.slice(-2)).toEqual(['Publish Edge Node Removal Failed', 'Fail with the original error']);
    expect(published.map((e) => e.detailType)).toEqual(['Edge Node Removal Failed']);
    const detail = published[0].detail as { cause: string; lock: { Error: string; Cause: string } };
    expect(JSON.parse(detail.cause)).toMatchObject({ errorMessage: 'deleting node edge-1: HTTP 403' });
    // the event says the lock was not released, and why
    expect(detail.lock.Error).toBe('ApiError');
    expect(JSON.parse(detail.lock.Cause)).toMatchObject({ errorMessage: 'the API server is gone' });
  });

  it('publishes a failed rollback as Edge Node Rollback Failed, not as a failed removal', async () => {
    const input = { mode: 'rollback', nodeName: 'edge-1', instanceId: INSTANCE, force: true };
    const { result, published } = await run(input, {
      replace: { DeleteNode: failWith('ApiError', 'deleting node edge-1: HTTP 403') },
    });
    expect(result.error).toEqual({ name: 'ApiError', message: 'deleting node edge-1: HTTP 403' });
    expect(published.map((e) => e.detailType)).toEqual(['Edge Node Rollback Failed']);
    expect(published[0].detail).toMatchObject({ request: input, error: 'ApiError', lock: { result: 'released' } });
  });
});

describe('remove-node workflow: waiting for the reset script', () => {
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
    const { result, entered, ofType } = await run(removal, {
      replace: { AwaitHostCommand: resumeSoon(tokens) },
      loops: { resetPolls: 2 },
      // longer than the test: only the token ends a wait
      callbackTimeoutMs: 60_000,
    });

    expect(result.status).toBe('SUCCEEDED');
    // the stub check says InProgress once, so the removal waits twice, each time until the token comes back
    expect(entered.filter((s) => s === WAIT || s === 'Check the reset script')).toEqual([
      WAIT,
      'Check the reset script',
      WAIT,
      'Check the reset script',
    ]);
    expect(ofType('StateFailed')).toEqual([]);
    expect(ofType('StateCaught')).toEqual([]);
    expect(new Set(tokens).size).toBe(2);
    const history = JSON.stringify(result.events);
    for (const token of tokens) expect(history).not.toContain(token);
    expect(result.output).toMatchObject({ hostReset: RESET_REPORT });
  });

  it('polls with backoff when the wait cannot be set up', async () => {
    const { result, entered, called } = await run(removal, {
      replace: {
        AwaitHostCommand: failWith('SettingsError', 'EDGEKEEPER_COMMAND_WAITS_TABLE: must be a DynamoDB table name'),
      },
      loops: { resetPolls: 2 },
    });

    expect(result.status).toBe('SUCCEEDED');
    expect(entered.filter((s) => s?.includes('reset script') && s !== 'Send the reset script to the host')).toEqual([
      WAIT,
      'Pause before checking the reset script',
      'Check the reset script',
      WAIT,
      'Pause before checking the reset script',
      'Check the reset script',
    ]);
    expect(called('CheckHostCommand').map((i) => i.attempt)).toEqual([0, 1]);
    expect(result.output).toMatchObject({ hostReset: RESET_REPORT });
  });
});

describe('remove-node workflow: uninstall', () => {
  const uninstall = { mode: 'uninstall' };

  it('has nothing to do when KubeEdge is not installed', async () => {
    const { result, entered, calls, published } = await run(uninstall, {
      replace: { PlanUninstall: async () => ({ installed: false, plan: null, resumed: false }) },
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toEqual({ uninstalled: false, reason: 'KubeEdge is not installed in this cluster' });
    expect(entered).toEqual([
      'Which mode?',
      'Lock the cluster',
      'Plan the uninstall',
      'KubeEdge installed?',
      'Release the cluster lock: nothing to do',
      'Report nothing to uninstall',
    ]);
    const clusterLock = [{ operationId: 'op-1', purpose: 'uninstall', executionId: EXECUTION }];
    expect(calls.map((c) => [c.name, c.input])).toEqual([
      ['LockNode', clusterLock[0]],
      ['ReleaseNodeLock', clusterLock[0]],
    ]);
    expect(published).toEqual([]);
  });

  it('deletes the release and waits for the namespace when no edge node is left', async () => {
    const { result, entered, called, published, calls } = await run(uninstall, { loops: { namespacePolls: 3 } });
    expect(result.status).toBe('SUCCEEDED');
    expect(called('PlanUninstall')).toEqual([{ operationId: 'op-1', request: uninstall }]);
    expect(entered).toEqual([
      'Which mode?',
      'Lock the cluster',
      'Plan the uninstall',
      'KubeEdge installed?',
      'Remove the remaining edge nodes',
      'Delete the KubeEdge release',
      'Start waiting for the namespace',
      'Check the namespace is gone',
      'Namespace gone?',
      'Wait for the namespace',
      'Check the namespace is gone',
      'Namespace gone?',
      'Wait for the namespace',
      'Check the namespace is gone',
      'Namespace gone?',
      'Release the cluster lock',
      'Publish KubeEdge Uninstalled',
      'Report the uninstall',
    ]);
    // the whole uninstall runs under the cluster-wide lock, which onboarding respects
    const clusterLock = { operationId: 'op-1', purpose: 'uninstall', executionId: EXECUTION };
    expect(called('LockNode')).toEqual([clusterLock]);
    expect(called('ReleaseNodeLock')).toEqual([clusterLock]);
    const names = calls.map((c) => c.name);
    expect(names.indexOf('LockNode')).toBeLessThan(names.indexOf('PlanUninstall'));
    expect(names.indexOf('ReleaseNodeLock')).toBeGreaterThan(names.lastIndexOf('CheckNamespaceGone'));
    expect(result.events.every((e) => e.execution === 'op-1')).toBe(true);
    expect(calls.map((c) => c.name)).not.toContain('InspectNode');
    expect(called('DeleteKubeEdge')).toEqual([{ operationId: 'op-1', plan: PLAN, removedNodes: [] }]);
    expect(called('CheckNamespaceGone').map((i) => [i.namespace, i.startedAt, i.attempt])).toEqual([
      ['kubeedge', null, 0],
      ['kubeedge', STARTED, 1],
      ['kubeedge', STARTED, 2],
    ]);
    expect(published).toEqual([
      {
        source: 'edgekeeper',
        detailType: 'KubeEdge Uninstalled',
        eventBusName: 'edgekeeper-events',
        detail: { operationId: 'op-1', release: 'kubeedge/kubeedge' },
      },
    ]);
    expect(result.output).toEqual({
      uninstalled: true,
      report: {
        release: 'kubeedge/kubeedge',
        removedNodes: [],
        deleted: ['ClusterRole/cloudcore'],
        alreadyGone: [],
        releaseSecrets: ['sh.helm.release.v1.kubeedge.v1'],
        namespace: 'kubeedge',
      },
    });
  });

  it('with edge nodes left, removes each with a nested run of this same workflow before deleting anything', async () => {
    const plan = { ...PLAN, nodesToRemoveFirst: ['edge-1', 'edge-2'] };
    const { result, entered, called, published, calls } = await run(
      { mode: 'uninstall', force: true },
      { replace: { PlanUninstall: async () => ({ installed: true, plan, resumed: false }) } },
    );
    expect(result.status).toBe('SUCCEEDED');
    // the nested executions are remove-node runs of their own, not states of the parent
    const nested = result.events.filter((e) => e.execution !== 'op-1');
    expect(new Set(nested.map((e) => e.workflow))).toEqual(new Set(['remove-node']));
    expect(nested.filter((e) => e.type === 'ExecutionStarted')).toHaveLength(2);
    expect(nested.filter((e) => e.type === 'ExecutionSucceeded')).toHaveLength(2);
    expect(nested.filter((e) => e.type === 'StateEntered' && e.state === 'Delete the node')).toHaveLength(2);
    expect(entered).not.toContain('Inspect the node');
    expect(entered.filter((s) => s === 'Remove the edge node')).toHaveLength(2);
    // each node is removed as a forced, draining removal
    expect(called('InspectNode').map((i) => i.request)).toEqual(
      expect.arrayContaining([
        { mode: 'remove', nodeName: 'edge-1', drain: true, force: true },
        { mode: 'remove', nodeName: 'edge-2', drain: true, force: true },
      ]),
    );
    expect(
      called('DeleteNode')
        .map((i) => i.nodeName)
        .sort(),
    ).toEqual(['edge-1', 'edge-2']);
    // every node is gone before the release is touched
    const names = calls.map((c) => c.name);
    expect(names.lastIndexOf('DeleteNode')).toBeLessThan(names.indexOf('DeleteKubeEdge'));
    expect(called('DeleteKubeEdge')[0]).toMatchObject({ removedNodes: ['edge-1', 'edge-2'] });
    expect(published.map((e) => e.detailType)).toEqual([
      'Edge Node Removed',
      'Edge Node Removed',
      'KubeEdge Uninstalled',
    ]);
    expect(
      published
        .slice(0, 2)
        .map((e) => (e.detail as { nodeName: string }).nodeName)
        .sort(),
    ).toEqual(['edge-1', 'edge-2']);
    expect(result.output).toMatchObject({ uninstalled: true, report: { removedNodes: ['edge-1', 'edge-2'] } });
  });

  it('refuses while edge nodes exist without force, deleting nothing', async () => {
    const message =
      '1 edge node exists: edge-1; remove them first or pass force to remove them as part of the uninstall';
    const { result, entered, calls, published } = await run(uninstall, {
      replace: { PlanUninstall: failWith('EdgeNodesExistError', message) },
    });
    expect(result.error).toEqual({ name: 'EdgeNodesExistError', message });
    expect(entered).toEqual([
      'Which mode?',
      'Lock the cluster',
      'Plan the uninstall',
      'Release the cluster lock after failure',
      'Which failure event?',
      'Publish KubeEdge Uninstall Failed',
      'Fail with the original error',
    ]);
    expect(calls.map((c) => c.name)).toEqual(['LockNode', 'ReleaseNodeLock']);
    // a failed uninstall removes no node: it has an event type of its own
    expect(published.map((e) => e.detailType)).toEqual(['KubeEdge Uninstall Failed']);
    expect(published[0].detail).toMatchObject({ request: uninstall, error: 'EdgeNodesExistError' });
  });

  it('stops before deleting the release when a nested removal fails, with the nested error message', async () => {
    const plan = { ...PLAN, nodesToRemoveFirst: ['edge-1'] };
    const { result, entered, calls, published, ofType } = await run(
      { mode: 'uninstall', force: true },
      {
        replace: {
          PlanUninstall: async () => ({ installed: true, plan, resumed: false }),
          DeleteNode: failWith('ApiError', 'deleting node edge-1: HTTP 403'),
        },
      },
    );
    // a failed nested execution arrives as States.TaskFailed; the Map unwraps it to the nested error itself
    expect(result.error).toEqual({ name: 'ApiError', message: 'deleting node edge-1: HTTP 403' });
    expect(ofType('StateCaught')).toEqual(['Remove the edge node', 'Remove the remaining edge nodes']);
    expect(entered.slice(-2)).toEqual(['Publish KubeEdge Uninstall Failed', 'Fail with the original error']);
    expect(calls.map((c) => c.name)).not.toContain('DeleteKubeEdge');
    // the nested run released its node's lock and reported its own failure; the parent released the cluster's
    // lock and reports the uninstall's failure
    expect(calls.filter((c) => c.name === 'ReleaseNodeLock').map((c) => c.input.purpose)).toEqual([
      'remove',
      'uninstall',
    ]);
    expect(published.map((e) => e.detailType)).toEqual(['Edge Node Removal Failed', 'KubeEdge Uninstall Failed']);
    expect(published[1].detail).toMatchObject({ operationId: 'op-1', request: { mode: 'uninstall', force: true } });
  });

  it.each([
    ['DeleteKubeEdge', 'Delete the KubeEdge release', 'ApiError', 'deleting ClusterRole cloudcore: HTTP 403'],
    ['CheckNamespaceGone', 'Check the namespace is gone', 'NamespaceStuckError', 'namespace kubeedge is stuck'],
  ] as const)(
    'fails with the original error when %s fails, publishing the failure',
    async (step, state, name, message) => {
      const { result, entered, published, ofType } = await run(uninstall, {
        replace: { [step]: failWith(name, message) },
      });
      expect(result.error).toEqual({ name, message });
      expect(ofType('StateCaught')).toEqual([state]);
      expect(entered.slice(-4)).toEqual([
        'Release the cluster lock after failure',
        'Which failure event?',
        'Publish KubeEdge Uninstall Failed',
        'Fail with the original error',
      ]);
      expect(entered).not.toContain('Publish KubeEdge Uninstalled');
      expect(published.map((e) => e.detailType)).toEqual(['KubeEdge Uninstall Failed']);
      expect(published[0].detail).toMatchObject({ request: uninstall, error: name, lock: { result: 'released' } });
    },
  );
});
