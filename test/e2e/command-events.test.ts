/**
 * Event-driven completion of the host scripts, on the sandbox with the real ASL and the real handlers: the sandbox's
 * SSM endpoint sends "EC2 Command Invocation Status-change Notification" when the join or reset script ends, the
 * local runtime hands it to ResumeOnCommandEvent (as the EventBridge rule does deployed), which sends the waiting
 * task's token back. Lost and duplicated events come from the sandbox's fault hooks. The removals at the end remove
 * nodes the onboardings before them joined.
 */
import type { WorkflowEvent, WorkflowResult } from '../../local/runtime';
import { E2E, HOSTS, type OnboardRun } from './harness';
import { CLEAN_HOST, hostState, type RemovalRun, removeNode } from './removal-helpers';

const WAIT = 'Wait for the host script';
const CHECK = 'Check the host script';
/** Long enough that only the event (or the command having ended already) ends the wait: the state's own 30 s. */
const EVENT_WINS_MS = 60_000;
/** a sandbox start, or an onboarding; generous, as other test runs may share the machine */
const SLOW_MS = 240_000;

let e2e: E2E;

beforeAll(async () => {
  e2e = await E2E.start({ prefix: 'edgekeeper-e2e-events-' });
}, SLOW_MS);

afterAll(async () => {
  await e2e?.stop();
});

async function onboard(nodeName: string, instanceId: string, callbackTimeoutMs: number): Promise<OnboardRun> {
  const nodeIp = e2e.instance(instanceId).ipAddress;
  return e2e.onboard({ nodeName, nodeIp, instanceId }, { callbackTimeoutMs });
}

/** The onboarding's own events of one state (not its rollback's), or the removal's with `workflow`. */
function ofState(
  run: OnboardRun | RemovalRun,
  state: string,
  type: string,
  workflow = 'onboard-node',
): WorkflowEvent[] {
  return run.result.events.filter((e) => e.workflow === workflow && e.state === state && e.type === type);
}

/** The host command the run sent: the join script's, or the reset script's with `workflow` remove-node. */
function sentCommandId(run: OnboardRun | RemovalRun, workflow = 'onboard-node'): string {
  const state = workflow === 'onboard-node' ? 'Send the join script to the host' : 'Send the reset script to the host';
  const sent = ofState(run, state, 'StateExited', workflow)[0];
  return (sent.output as { command: { commandId: string } }).command.commandId;
}

/** What ResumeOnCommandEvent logged for a command: its outcome per event handled. */
function resumeOutcomes(commandId: string): string[] {
  return e2e
    .handlerLogs()
    .split('\n')
    .filter((line) => line.includes('"command event handled"') && line.includes(commandId))
    .map((line) => (JSON.parse(line) as { outcome: string }).outcome);
}

/** States that failed during the run, with their error names. */
function failures(run: { readonly result: WorkflowResult }): { state?: string; error?: string }[] {
  return run.result.events
    .filter((e) => e.type === 'StateFailed')
    .map((e) => ({ state: e.state, error: e.error?.name }));
}

describe('the host script’s end event', () => {
  it(
    'moves the workflow on when it arrives: the wait ends without a timeout and the script is checked once',
    async () => {
      const run = await onboard('edge-1', HOSTS.ubuntuAmd64, EVENT_WINS_MS);

      expect({ status: run.result.status, error: run.result.error }).toEqual({ status: 'SUCCEEDED', error: null });
      const commandId = sentCommandId(run);
      expect(failures(run)).toEqual([]);
      expect(ofState(run, WAIT, 'StateEntered')).toHaveLength(1);
      expect(ofState(run, CHECK, 'StateEntered')).toHaveLength(1);
      // the sandbox sent SSM's event for the join command, and the event resumed the workflow
      const sent = e2e.handle.aws.commandEvents.history().filter((e) => e.detail['command-id'] === commandId);
      expect(sent.map((e) => e.detail.status)).toEqual(['Success']);
      expect(sent[0]).toMatchObject({
        source: 'aws.ssm',
        'detail-type': 'EC2 Command Invocation Status-change Notification',
        detail: { 'instance-id': HOSTS.ubuntuAmd64, 'document-name': 'AWS-RunShellScript' },
      });
      expect(resumeOutcomes(commandId)).toEqual(['resumed']);
      // the wait was taken: nothing is left in the table
      expect(e2e.handle.aws.tables.items(e2e.info.dynamodb.commandWaitsTable)).toEqual([]);
      // the task token, a secret, reached neither the execution history nor the steps' logs
      const token = /edgekeeper-local-[A-Za-z0-9_-]{43}/;
      expect(JSON.stringify(run.result)).not.toMatch(token);
      expect(e2e.handlerLogs()).not.toMatch(token);
    },
    SLOW_MS,
  );

  it(
    'is not needed: when it is lost, the wait times out, the check polls, and the onboarding succeeds',
    async () => {
      const stopDropping = e2e.handle.faults.interceptCommandEvents({
        action: 'drop',
        times: Number.POSITIVE_INFINITY,
      });
      let run: OnboardRun;
      try {
        run = await onboard('edge-2', HOSTS.ubuntuArm64Containerd, 300);
      } finally {
        stopDropping();
      }

      expect({ status: run.result.status, error: run.result.error }).toEqual({ status: 'SUCCEEDED', error: null });
      const commandId = sentCommandId(run);
      const dropped = e2e.handle.faults.interceptedCommandEvents().filter((e) => e.commandId === commandId);
      expect(dropped.map((e) => [e.action, e.status])).toEqual([['drop', 'Success']]);
      expect(resumeOutcomes(commandId)).toEqual([]);
      // at least one wait timed out into the check, which polled while the script ran
      expect(
        failures(run)
          .filter((f) => f.state === WAIT)
          .map((f) => f.error),
      ).toContain('States.Timeout');
      expect(failures(run).filter((f) => f.state !== WAIT)).toEqual([]);
      expect(ofState(run, CHECK, 'StateEntered').length).toBeGreaterThan(1);
    },
    SLOW_MS,
  );

  it(
    'changes nothing when it comes twice: the onboarding succeeds and nothing fails',
    async () => {
      const stopDuplicating = e2e.handle.faults.interceptCommandEvents({
        action: 'duplicate',
        times: Number.POSITIVE_INFINITY,
      });
      let run: OnboardRun;
      try {
        run = await onboard('edge-3', HOSTS.centosArmv7, EVENT_WINS_MS);
      } finally {
        stopDuplicating();
      }

      expect({ status: run.result.status, error: run.result.error }).toEqual({ status: 'SUCCEEDED', error: null });
      const commandId = sentCommandId(run);
      const sent = e2e.handle.aws.commandEvents.history().filter((e) => e.detail['command-id'] === commandId);
      expect(sent).toHaveLength(2);
      expect(sent[1].id).toBe(sent[0].id);
      expect(failures(run)).toEqual([]);
      expect(ofState(run, WAIT, 'StateEntered')).toHaveLength(1);
      expect(ofState(run, CHECK, 'StateEntered')).toHaveLength(1);
      // one event resumed the workflow; the other found no wait left
      expect(resumeOutcomes(commandId).sort()).toEqual(['no-wait', 'resumed']);
    },
    SLOW_MS,
  );
});

describe('the reset script’s end event', () => {
  const REMOVAL = 'remove-node';
  const RESET_WAIT = 'Wait for the reset script';
  const RESET_CHECK = 'Check the reset script';

  it(
    'moves the removal on when it arrives: the wait ends without a timeout and the script is checked once',
    async () => {
      // edge-1 was joined on this host by the first test above
      const run = await removeNode(e2e, { nodeName: 'edge-1' }, { callbackTimeoutMs: EVENT_WINS_MS });

      expect({ status: run.result.status, error: run.result.error }).toEqual({ status: 'SUCCEEDED', error: null });
      const commandId = sentCommandId(run, REMOVAL);
      expect(failures(run)).toEqual([]);
      expect(ofState(run, RESET_WAIT, 'StateEntered', REMOVAL)).toHaveLength(1);
      expect(ofState(run, RESET_CHECK, 'StateEntered', REMOVAL)).toHaveLength(1);
      const sent = e2e.handle.aws.commandEvents.history().filter((e) => e.detail['command-id'] === commandId);
      expect(sent.map((e) => e.detail.status)).toEqual(['Success']);
      expect(sent[0].detail['instance-id']).toBe(HOSTS.ubuntuAmd64);
      expect(resumeOutcomes(commandId)).toEqual(['resumed']);
      // the wait was taken (the lost-event onboarding above left its last wait to the table's TTL)
      const waits = e2e.handle.aws.tables.items(e2e.info.dynamodb.commandWaitsTable);
      expect(waits.filter((item) => JSON.stringify(item).includes(commandId))).toEqual([]);
      expect(await hostState(e2e, HOSTS.ubuntuAmd64)).toEqual(CLEAN_HOST);
      const token = /edgekeeper-local-[A-Za-z0-9_-]{43}/;
      expect(JSON.stringify(run.result)).not.toMatch(token);
      expect(e2e.handlerLogs()).not.toMatch(token);
    },
    SLOW_MS,
  );

  it(
    'is not needed: when it is lost, the removal polls the reset script and succeeds',
    async () => {
      const stopDropping = e2e.handle.faults.interceptCommandEvents({
        action: 'drop',
        times: Number.POSITIVE_INFINITY,
      });
      let run: RemovalRun;
      try {
        // edge-2 was joined on this host by the second test above
        run = await removeNode(e2e, { nodeName: 'edge-2' }, { callbackTimeoutMs: 50 });
      } finally {
        stopDropping();
      }

      expect({ status: run.result.status, error: run.result.error }).toEqual({ status: 'SUCCEEDED', error: null });
      const commandId = sentCommandId(run, REMOVAL);
      const dropped = e2e.handle.faults.interceptedCommandEvents().filter((e) => e.commandId === commandId);
      expect(dropped.map((e) => [e.action, e.status])).toEqual([['drop', 'Success']]);
      expect(resumeOutcomes(commandId)).toEqual([]);
      // the reset script runs longer than its wait: at least one wait timed out into the check, and every wait
      // ended in a check (the reset script is short, so how many turns it takes is left open)
      expect(
        failures(run)
          .filter((f) => f.state === RESET_WAIT)
          .map((f) => f.error),
      ).toContain('States.Timeout');
      expect(failures(run).filter((f) => f.state !== RESET_WAIT)).toEqual([]);
      expect(ofState(run, RESET_CHECK, 'StateEntered', REMOVAL)).toHaveLength(
        ofState(run, RESET_WAIT, 'StateEntered', REMOVAL).length,
      );
      expect(await hostState(e2e, HOSTS.ubuntuArm64Containerd)).toEqual(CLEAN_HOST);
    },
    SLOW_MS,
  );
});
