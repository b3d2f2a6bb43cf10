import {
  checkHostCommand,
  type HostCommandPoll,
  type HostCommandPort,
  HostScriptFailedError,
  HostScriptTimedOutError,
  JoinPreflightFailedError,
  judgeInvocation,
} from '../../../functions/check-host-command/core';
import { HostUnreachableError, type Invocation } from '../../../functions/shared/host-commands';
import { caught, thrown } from '../../support/thrown';

const STARTED = Date.parse('2025-03-01T10:00:00.000Z');
const TIMEOUT_SECONDS = 900;
const afterSeconds = (seconds: number) => STARTED + seconds * 1000;

function invocation(status: string, overrides: Partial<Invocation> = {}): Invocation {
  return { status, responseCode: -1, stdout: '', stderr: '', ...overrides };
}

function judge(found: Invocation | null, { attempt = 0, nowMs = afterSeconds(10) } = {}) {
  return judgeInvocation(
    found,
    { instanceId: 'mi-0123456789abcdef0', attempt, startedAtMs: STARTED },
    nowMs,
    TIMEOUT_SECONDS,
    (failed) => new HostScriptFailedError(`step join failed (exit ${failed.responseCode}): ${failed.stderr}`),
  );
}

describe('judgeInvocation', () => {
  it.each(['Pending', 'InProgress', 'Delayed', 'Cancelling'])('keeps waiting while SSM reports %s', (status) => {
    // Act
    const verdict = judge(invocation(status));

    // Assess
    expect(verdict).toEqual({ status: 'InProgress', waitSeconds: 2 });
  });

  it('treats an invocation SSM has not created yet as Pending', () => {
    // Act
    const verdict = judge(null, { attempt: 1 });

    // Assess
    expect(verdict).toEqual({ status: 'InProgress', waitSeconds: 4 });
  });

  it('backs off 2, 4, 8, 16 s and then polls every 30 s', () => {
    // Act
    const waits = [0, 1, 2, 3, 4, 5, 12].map((attempt) => judge(invocation('InProgress'), { attempt }));

    // Assess
    expect(waits.map((verdict) => (verdict.status === 'InProgress' ? verdict.waitSeconds : verdict.status))).toEqual([
      2, 4, 8, 16, 30, 30, 30,
    ]);
  });

  it('never waits past the deadline', () => {
    // Act
    const verdict = judge(invocation('InProgress'), { attempt: 9, nowMs: afterSeconds(TIMEOUT_SECONDS - 7) });

    // Assess
    expect(verdict).toEqual({ status: 'InProgress', waitSeconds: 7 });
  });

  it('waits at least one second when less than two seconds are left', () => {
    // Act
    const verdict = judge(invocation('Pending'), { attempt: 4, nowMs: afterSeconds(TIMEOUT_SECONDS) - 1500 });

    // Assess
    expect(verdict).toEqual({ status: 'InProgress', waitSeconds: 1 });
  });

  it.each([
    ['exactly at', 0],
    ['past', 60],
  ])('says TimedOut for a command still running %s the deadline', (_when, extraSeconds) => {
    // Act
    const verdict = judge(invocation('InProgress'), {
      attempt: 20,
      nowMs: afterSeconds(TIMEOUT_SECONDS + extraSeconds),
    });

    // Assess
    expect(verdict).toEqual({ status: 'TimedOut' });
  });

  it('says TimedOut when the invocation never appeared before the deadline', () => {
    // Act
    const verdict = judge(null, { nowMs: afterSeconds(TIMEOUT_SECONDS + 1) });

    // Assess
    expect(verdict).toEqual({ status: 'TimedOut' });
  });

  it('returns the invocation of a successful run, even one that ended after the deadline', () => {
    // Prepare
    const done = invocation('Success', { responseCode: 0, stdout: 'node edge-1 joined' });

    // Act
    const verdicts = [judge(done), judge(done, { nowMs: afterSeconds(TIMEOUT_SECONDS + 60) })];

    // Assess
    expect(verdicts).toEqual([
      { status: 'Success', invocation: done },
      { status: 'Success', invocation: done },
    ]);
  });

  it('fails with HostScriptFailedError carrying the explanation of a failed run', () => {
    // Prepare
    const failed = invocation('Failed', { responseCode: 12, stderr: 'cloudcore 203.0.113.9:10000 unreachable' });

    // Act
    const error = thrown(() => judge(failed));

    // Assess
    expect(error).toBeInstanceOf(HostScriptFailedError);
    expect(error.name).toBe('HostScriptFailedError');
    expect(error.message).toBe('step join failed (exit 12): cloudcore 203.0.113.9:10000 unreachable');
  });

  it.each(['TimedOut', 'ExecutionTimedOut'])('fails with HostScriptTimedOutError when SSM reports %s', (status) => {
    // Act
    const error = thrown(() => judge(invocation(status)));

    // Assess
    expect(error).toBeInstanceOf(HostScriptTimedOutError);
    expect(error.name).toBe('HostScriptTimedOutError');
    expect(error.message).toBe('the script on mi-0123456789abcdef0 ran longer than 900 s and was stopped');
  });

  it('fails with HostScriptFailedError when someone cancelled the command', () => {
    // Act
    const error = thrown(() => judge(invocation('Cancelled')));

    // Assess
    expect(error.name).toBe('HostScriptFailedError');
    expect(error.message).toBe('the script on mi-0123456789abcdef0 was cancelled');
  });

  it.each(['Undeliverable', 'DeliveryTimedOut', 'Terminated'])(
    'fails with HostUnreachableError naming the instance when SSM reports %s',
    (status) => {
      // Act
      const error = thrown(() => judge(invocation(status)));

      // Assess
      expect(error).toBeInstanceOf(HostUnreachableError);
      expect(error.name).toBe('HostUnreachableError');
      expect(error.message).toBe(
        `instanceId mi-0123456789abcdef0 did not receive the command (${status}): ` +
          'the host is offline or its SSM agent is stopped',
      );
    },
  );

  it('fails with HostScriptFailedError naming a status it does not know', () => {
    // Act
    const error = thrown(() => judge(invocation('Exploded')));

    // Assess
    expect(error.name).toBe('HostScriptFailedError');
    expect(error.message).toBe('the script on mi-0123456789abcdef0 ended with status Exploded');
  });

  it('reports a final failure even after the deadline instead of a timeout', () => {
    // Act
    const error = thrown(() =>
      judge(invocation('Failed', { responseCode: 3, stderr: 'boom' }), { nowMs: afterSeconds(TIMEOUT_SECONDS * 2) }),
    );

    // Assess
    expect(error.name).toBe('HostScriptFailedError');
    expect(error.message).toBe('step join failed (exit 3): boom');
  });
});

/** SSM's side: one invocation per poll, and a record of the commands cancelled. */
class FakeCommands implements HostCommandPort {
  cancelled: string[] = [];
  constructor(private readonly invocation: Invocation | null) {}
  async readInvocation() {
    return this.invocation;
  }
  async cancelCommand(commandId: string) {
    this.cancelled.push(commandId);
  }
}

const POLL: HostCommandPoll = {
  commandId: 'cmd-1',
  instanceId: 'mi-0123456789abcdef0',
  startedAt: new Date(STARTED).toISOString(),
  attempt: 0,
  script: 'join',
};
const CLOCK = { nowMs: afterSeconds(10), timeoutSeconds: TIMEOUT_SECONDS };

function joinFailed(responseCode: number, stderr: string): Invocation {
  return invocation('Failed', { responseCode, stderr, stdout: 'edgekeeper: preflight: architecture amd64\n' });
}

describe('checkHostCommand of a join', () => {
  it('tells the workflow to wait, carrying the poll forward', async () => {
    // Act
    const check = await checkHostCommand(new FakeCommands(invocation('InProgress')), POLL, CLOCK);

    // Assess
    expect(check).toEqual({
      commandId: 'cmd-1',
      instanceId: 'mi-0123456789abcdef0',
      startedAt: POLL.startedAt,
      attempt: 1,
      status: 'InProgress',
      waitSeconds: 2,
      report: null,
    });
  });

  it('goes on when the script succeeded, also when it answered already-joined', async () => {
    // Prepare
    const done = invocation('Success', {
      responseCode: 0,
      stdout: 'edgekeeper: done: already-joined: edgecore already runs for node edge-1\n',
    });

    // Act
    const check = await checkHostCommand(new FakeCommands(done), POLL, CLOCK);

    // Assess
    expect(check).toMatchObject({ status: 'Success', waitSeconds: 0, report: null });
  });

  it.each([
    [
      2,
      "edgekeeper: setup: error: cannot read the join token parameter /edgekeeper/join-token/op-1 with this host's AWS credentials",
    ],
    [12, 'edgekeeper: preflight: error: docker 18.09.9 is older than 19.3.0'],
    [15, 'edgekeeper: preflight: error: edgecore already runs on this host for another node: remove that node first'],
    [1, 'edgekeeper: preflight: error: unexpected failure (exit 2) at line 90: docker version'],
  ])('fails with JoinPreflightFailedError (host unchanged) for exit %i of a read-only step', async (code, line) => {
    // Act
    const error = await caught(checkHostCommand(new FakeCommands(joinFailed(code, line)), POLL, CLOCK));

    // Assess
    expect(error).toBeInstanceOf(JoinPreflightFailedError);
    expect(error.name).toBe('JoinPreflightFailedError');
    expect((error as JoinPreflightFailedError).hostChanged).toBe(false);
    expect(error.message).toMatch(/^(setup|preflight) failed: /);
  });

  it.each([
    [17, 'edgekeeper: edgemesh: error: sysctl -p /etc/sysctl.d/90-edgekeeper-edgemesh.conf failed'],
    [20, 'edgekeeper: download: error: download of https://example.com/keadm.tar.gz failed'],
    [21, 'edgekeeper: join: error: keadm join failed for node edge-1'],
    [1, 'edgekeeper: download: error: unexpected failure (exit 1) at line 241: tar xvf'],
    [1, ''],
    [137, ''],
  ])('fails with HostScriptFailedError (host may have changed) for exit %i', async (code, line) => {
    // Act
    const error = await caught(checkHostCommand(new FakeCommands(joinFailed(code, line)), POLL, CLOCK));

    // Assess
    expect(error.name).toBe('HostScriptFailedError');
  });

  it('names the failing step and the reason in the message', async () => {
    // Act
    const error = await caught(
      checkHostCommand(
        new FakeCommands(
          joinFailed(
            15,
            'edgekeeper: preflight: error: edgecore already runs on this host for another node: remove that node first',
          ),
        ),
        POLL,
        CLOCK,
      ),
    );

    // Assess
    expect(error.message.split('\n')[0]).toBe(
      'preflight failed: edgecore already runs on this host for another node: remove that node first',
    );
  });

  it('cancels a script that ran past the host command timeout and fails with HostScriptTimedOutError', async () => {
    // Prepare
    const commands = new FakeCommands(invocation('InProgress'));

    // Act
    const error = await caught(
      checkHostCommand(commands, { ...POLL, attempt: 30 }, { ...CLOCK, nowMs: afterSeconds(TIMEOUT_SECONDS + 1) }),
    );

    // Assess
    expect(error.name).toBe('HostScriptTimedOutError');
    expect(error.message).toBe('the script on mi-0123456789abcdef0 ran longer than 900 s and was cancelled');
    expect(commands.cancelled).toEqual(['cmd-1']);
  });
});

describe('checkHostCommand of a reset', () => {
  const report = {
    version: 1,
    clean: true,
    keadm: 'reset',
    edgecore: 'stopped',
    mosquitto: 'removed',
    edgemesh: 'restored',
    removed: ['/etc/kubeedge'],
    unmounted: ['/var/lib/edged/pods/a'],
    lazyUnmounted: ['/var/lib/edged/pods/b'],
    leftovers: [],
  };
  const resetPoll: HostCommandPoll = { ...POLL, script: 'reset', nodeName: 'edge-1' };

  it('reports what a clean reset removed and unmounted', async () => {
    // Prepare
    const done = invocation('Success', {
      responseCode: 0,
      stdout: `EDGEKEEPER_RESET_REPORT ${JSON.stringify(report)}\n`,
    });

    // Act
    const check = await checkHostCommand(new FakeCommands(done), resetPoll, CLOCK);

    // Assess
    expect(check.report).toEqual({
      keadm: 'reset',
      edgecore: 'stopped',
      mosquitto: 'removed',
      edgemesh: 'restored',
      removed: ['/etc/kubeedge'],
      unmounted: ['/var/lib/edged/pods/a', '/var/lib/edged/pods/b'],
    });
  });

  it('explains a reset that did not run as root, never as a preflight failure', async () => {
    // Act
    const error = await caught(
      checkHostCommand(new FakeCommands(invocation('Failed', { responseCode: 4 })), resetPoll, CLOCK),
    );

    // Assess
    expect(error.name).toBe('HostScriptFailedError');
    expect(error.message).toBe(
      'the reset script on mi-0123456789abcdef0 must run as root (SSM runs scripts as root unless the agent was changed)',
    );
  });

  it('ends the message of a broken reset with its stderr tail', async () => {
    // Act
    const error = await caught(
      checkHostCommand(
        new FakeCommands(invocation('Failed', { responseCode: 9, stderr: 'umount: busy\n' })),
        resetPoll,
        CLOCK,
      ),
    );

    // Assess
    expect(error.message).toBe('the reset script on mi-0123456789abcdef0 failed with exit code 9: umount: busy');
  });
});
