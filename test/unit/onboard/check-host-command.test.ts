import {
  HostScriptFailedError,
  HostScriptTimedOutError,
  judgeInvocation,
} from '../../../functions/check-host-command/core';
import { HostUnreachableError, type Invocation } from '../../../functions/shared/host-commands';
import { thrown } from '../../support/thrown';

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
    (failed) => `step join failed (exit ${failed.responseCode}): ${failed.stderr}`,
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
