/**
 * How the local runtime hands SSM's command events to the `.waitForTaskToken` tasks that wait for them: the real
 * runtime, local/callbacks, the sandbox's DynamoDB and event stream, the real ResumeOnCommandEvent handler and
 * AwaitHostCommand's core. Only the host is missing: the invocation status AwaitHostCommand reads is the test's, and
 * the workflow is onboard-node's "Wait for the host script" state alone (a definition with just that state).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AwaitOutcome, type AwaitRequest, awaitHostCommand } from '../../../functions/await-host-command/core';
import type { ResumeOutcome } from '../../../functions/resume-on-command-event/core';
import { handler as resumeOnCommandEvent } from '../../../functions/resume-on-command-event/handler';
import { dynamodbCommandWaits, waitKey } from '../../../functions/shared/command-waits';
import { LOCAL_LOG_ENV } from '../../../functions/shared/powertools';
import { readSettings, settingsEnvironment } from '../../../functions/shared/settings';
import { stepFunctionsTaskCallbacks } from '../../../functions/shared/task-callbacks';
import { COMMAND_EVENTS_ENV, taskTokens } from '../../../local/callbacks';
import { runWorkflow, type WorkflowResult } from '../../../local/runtime';
import { commandInvocationEvent, type EndedInvocation } from '../../../local/sandbox/aws/command-events';
import { COMMAND_WAITS_TABLE } from '../../../local/sandbox/aws/dynamodb';
import { type AwsEndpoint, startAwsEndpoint } from '../../../local/sandbox/aws/endpoint';
import { FaultPlan } from '../../../local/sandbox/faults';

/** onboard-node's wait state, as the only state of a workflow: its Resource, Parameters and TimeoutSeconds. */
jest.mock('../../../lib/asl', () => {
  const actual = jest.requireActual<typeof import('../../../lib/asl')>('../../../lib/asl');
  const wait = JSON.parse(actual.readAslFile('onboard-node').text).States['Wait for the host script'];
  const text = JSON.stringify({
    StartAt: 'Wait for the host script',
    States: {
      'Wait for the host script': {
        Type: 'Task',
        Resource: wait.Resource,
        Parameters: wait.Parameters,
        TimeoutSeconds: wait.TimeoutSeconds,
        End: true,
      },
    },
  });
  const file = { name: 'wait-for-host-script', path: 'wait-for-host-script.asl.json', text };
  return {
    ...actual,
    listAslFiles: () => [...actual.listAslFiles(), file],
    readAslFile: (name: string) => (name === file.name ? file : actual.readAslFile(name)),
  };
});

const WORKFLOW = 'wait-for-host-script';
const TABLE = COMMAND_WAITS_TABLE.name;
const REGION = 'local';

/** Resolves once `condition` holds, looking between event-loop turns (the test's own timeout bounds it). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

function ended(commandId: string, instanceId: string, status: string): EndedInvocation {
  return { commandId, instanceId, documentName: 'AWS-RunShellScript', requestedAt: new Date(), status };
}

/**
 * What a process running the wait loads, whose module state is the process's own: the runtime with its task tokens,
 * callback endpoint and event subscriptions, and the step code with its settings and SDK clients.
 */
interface ProcessModules {
  readonly runWorkflow: typeof runWorkflow;
  readonly taskTokens: typeof taskTokens;
  readonly readSettings: typeof readSettings;
  readonly awaitHostCommand: typeof awaitHostCommand;
  readonly dynamodbCommandWaits: typeof dynamodbCommandWaits;
  readonly stepFunctionsTaskCallbacks: typeof stepFunctionsTaskCallbacks;
  readonly resumeOnCommandEvent: typeof resumeOnCommandEvent;
}

const THIS_PROCESS: ProcessModules = {
  runWorkflow,
  taskTokens,
  readSettings,
  awaitHostCommand,
  dynamodbCommandWaits,
  stepFunctionsTaskCallbacks,
  resumeOnCommandEvent,
};

/** Another process's modules: fresh copies of all of them, as a second `edgekeeper` process on the sandbox has. */
function anotherProcess(): ProcessModules {
  let modules: ProcessModules | undefined;
  jest.isolateModules(() => {
    modules = {
      runWorkflow: require('../../../local/runtime').runWorkflow,
      taskTokens: require('../../../local/callbacks').taskTokens,
      readSettings: require('../../../functions/shared/settings').readSettings,
      awaitHostCommand: require('../../../functions/await-host-command/core').awaitHostCommand,
      dynamodbCommandWaits: require('../../../functions/shared/command-waits').dynamodbCommandWaits,
      stepFunctionsTaskCallbacks: require('../../../functions/shared/task-callbacks').stepFunctionsTaskCallbacks,
      resumeOnCommandEvent: require('../../../functions/resume-on-command-event/handler').handler,
    };
  });
  if (!modules) throw new Error('the modules did not load');
  return modules;
}

/** One local run of the wait, and what its steps did: AwaitHostCommand's outcomes and ResumeOnCommandEvent's. */
class Runs {
  /** the SSM status AwaitHostCommand reads, by `<commandId>/<instanceId>`; absent: still running */
  readonly statuses = new Map<string, string>();
  readonly awaited: AwaitOutcome[] = [];
  /** the command of each event ResumeOnCommandEvent was handed, as it was handed it */
  readonly handed: unknown[] = [];
  readonly resumed: ResumeOutcome[] = [];

  constructor(
    private readonly environment: Record<string, string>,
    readonly modules: ProcessModules = THIS_PROCESS,
  ) {}

  run(operationId: string, commandId: string, instanceId: string): Promise<WorkflowResult> {
    const { readSettings, awaitHostCommand, dynamodbCommandWaits, stepFunctionsTaskCallbacks, resumeOnCommandEvent } =
      this.modules;
    return this.modules.runWorkflow({
      workflow: WORKFLOW,
      input: { command: { commandId, instanceId } },
      executionName: operationId,
      environment: this.environment,
      handlers: {
        // AwaitHostCommand's handler without its SSM read: the same core, table and callbacks
        AwaitHostCommand: async (event) => {
          const settings = readSettings();
          const outcome = await awaitHostCommand(
            {
              waits: dynamodbCommandWaits(settings, TABLE),
              readInvocationStatus: async (command, instance) =>
                this.statuses.get(waitKey(command, instance)) ?? 'InProgress',
              callbacks: stepFunctionsTaskCallbacks(settings),
            },
            event as AwaitRequest,
            { now: new Date(), waitSeconds: 30 },
          );
          this.awaited.push(outcome);
          return outcome;
        },
        ResumeOnCommandEvent: async (event) => {
          this.handed.push((event as { detail?: Record<string, unknown> }).detail?.['command-id']);
          const outcome = await resumeOnCommandEvent(event);
          this.resumed.push(outcome);
          return outcome;
        },
      },
    });
  }
}

function environmentFor(aws: AwsEndpoint, commandEvents: string): Record<string, string> {
  return {
    ...settingsEnvironment({ dynamodbEndpoint: aws.url, commandWaitsTable: TABLE }),
    [COMMAND_EVENTS_ENV]: commandEvents,
    [LOCAL_LOG_ENV]: 'off',
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'sandbox',
    AWS_SECRET_ACCESS_KEY: 'sandbox',
  };
}

let faults: FaultPlan;
let aws: AwsEndpoint;
beforeEach(async () => {
  faults = new FaultPlan();
  aws = await startAwsEndpoint({ region: REGION, faults });
});
afterEach(async () => {
  await aws.stop();
});

describe('command events in the local runtime', () => {
  it('resume each of two waiting executions exactly once, by the event of its own command', async () => {
    const runs = new Runs(environmentFor(aws, aws.commandEventsUrl));
    const first = runs.run('op-a', 'c-a', 'mi-a');
    const second = runs.run('op-b', 'c-b', 'mi-b');
    await until(() => runs.awaited.length === 2);
    expect(runs.awaited.map((a) => a.outcome)).toEqual(['waiting', 'waiting']);
    expect(taskTokens.open).toBe(2);

    // the second command fails first, and EventBridge delivers its event twice (at least once, same id)
    faults.interceptCommandEvents({ action: 'duplicate', commandId: 'c-b' });
    aws.commandEvents.invocationEnded(ended('c-b', 'mi-b', 'Failed'));
    expect(await second).toMatchObject({ status: 'SUCCEEDED', output: { status: 'Failed' } });
    await until(() => runs.resumed.length >= 2);
    // the copy found nothing to take; the first execution still waits, untouched
    expect(runs.resumed.map((r) => `${r.commandId} ${r.outcome}`).sort()).toEqual(['c-b no-wait', 'c-b resumed']);
    expect(taskTokens.open).toBe(1);

    aws.commandEvents.invocationEnded(ended('c-a', 'mi-a', 'Success'));
    expect(await first).toMatchObject({ status: 'SUCCEEDED', output: { status: 'Success' } });
    await until(() => runs.resumed.length >= 3);
    expect(runs.resumed[2]).toMatchObject({ commandId: 'c-a', instanceId: 'mi-a', outcome: 'resumed' });

    // one handler run per event sent, not one per waiting execution: the runtime is one rule with one target
    expect(aws.commandEvents.history()).toHaveLength(3);
    expect(runs.resumed).toHaveLength(3);
    expect(aws.tables.items(TABLE)).toEqual([]);
    expect(taskTokens.open).toBe(0);
  });

  it('delivers an event that comes while the subscription to the event stream opens', async () => {
    // the command ends as its wait subscribes: the stream's first event comes with the response's headers, so the
    // runtime reads it before the subscription has resolved
    const event = commandInvocationEvent(ended('c-1', 'mi-1', 'Success'), REGION);
    const subscribers = new Set<http.ServerResponse>();
    const stream = http.createServer((_req, res) => {
      subscribers.add(res);
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(`${JSON.stringify(event)}\n`);
    });
    await new Promise<void>((resolve) => stream.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = stream.address() as AddressInfo;
      const runs = new Runs(environmentFor(aws, `http://127.0.0.1:${port}/command-events`));
      runs.statuses.set(waitKey('c-1', 'mi-1'), 'Success');

      const result = await runs.run('op-1', 'c-1', 'mi-1');

      expect(result).toMatchObject({ status: 'SUCCEEDED', output: { status: 'Success' } });
      await until(() => runs.resumed.length >= 1);
      expect(runs.resumed[0]).toMatchObject({ commandId: 'c-1', instanceId: 'mi-1', status: 'Success' });
      // the event and AwaitHostCommand's own read race for the wait: exactly one of them completed the task
      expect([runs.resumed[0].outcome, runs.awaited[0].outcome]).toEqual(
        runs.resumed[0].outcome === 'resumed' ? ['resumed', 'resumed-by-event'] : ['no-wait', 'completed'],
      );
      expect(aws.tables.items(TABLE)).toEqual([]);
    } finally {
      for (const subscriber of subscribers) subscriber.destroy();
      await new Promise((resolve) => stream.close(resolve));
    }
  });
});

describe('command events on a sandbox that several processes use', () => {
  it("resume only the process that waits: another process's subscription leaves the event alone", async () => {
    // two processes on one sandbox (`serve --sandbox` and a CLI onboarding): each is subscribed to the sandbox's
    // event stream and stores its waits in the sandbox's table, and the sandbox sends every event to both
    const environment = environmentFor(aws, aws.commandEventsUrl);
    const a = new Runs(environment, anotherProcess());
    const b = new Runs(environment, anotherProcess());
    const first = a.run('op-a', 'c-a', 'mi-a');
    const second = b.run('op-b', 'c-b', 'mi-b');
    await until(() => a.awaited.length === 1 && b.awaited.length === 1);
    expect([...a.awaited, ...b.awaited].map((awaited) => awaited.outcome)).toEqual(['waiting', 'waiting']);
    expect([a.modules.taskTokens.open, b.modules.taskTokens.open]).toEqual([1, 1]);

    aws.commandEvents.invocationEnded(ended('c-a', 'mi-a', 'Success'));
    expect(await first).toMatchObject({ status: 'SUCCEEDED', output: { status: 'Success' } });
    aws.commandEvents.invocationEnded(ended('c-b', 'mi-b', 'Failed'));
    expect(await second).toMatchObject({ status: 'SUCCEEDED', output: { status: 'Failed' } });

    // B's stream carried c-a's event before its own, so B had handed it to its handler first, had it done so:
    // each process's handler saw its own command's event alone, and took its own wait from the shared table
    expect(a.handed).toEqual(['c-a']);
    expect(b.handed).toEqual(['c-b']);
    await until(() => a.resumed.length === 1 && b.resumed.length === 1);
    expect(a.resumed[0]).toMatchObject({ commandId: 'c-a', instanceId: 'mi-a', outcome: 'resumed' });
    expect(b.resumed[0]).toMatchObject({ commandId: 'c-b', instanceId: 'mi-b', outcome: 'resumed' });
    expect(aws.tables.items(TABLE)).toEqual([]);
    expect([a.modules.taskTokens.open, b.modules.taskTokens.open]).toEqual([0, 0]);
  });
});

describe('a run stopped at once', () => {
  it('lets go of the wait it was setting up when the stop came, leaving nothing to hold the process', async () => {
    const stopNow = new AbortController();
    const result = await runWorkflow({
      workflow: WORKFLOW,
      input: { command: { commandId: 'c-1', instanceId: 'mi-1' } },
      executionName: 'op-1',
      environment: environmentFor(aws, aws.commandEventsUrl),
      stopNow: stopNow.signal,
      handlers: {
        // the stop comes while AwaitHostCommand stores the wait, before the task waits for its token
        AwaitHostCommand: async (event) => {
          stopNow.abort('SIGINT twice');
          const { commandId, instanceId } = event as AwaitRequest;
          return { commandId, instanceId, outcome: 'waiting' };
        },
      },
    });

    expect(result).toMatchObject({ status: 'ABORTED', stop: { mode: 'immediate' } });
    // the wait did not stay for its 30 s timeout: its token ended, its lease (endpoint and stream) was let go
    expect(taskTokens.open).toBe(0);
  });
});
