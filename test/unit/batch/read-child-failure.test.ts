import { readChildFailure } from '../../../functions/read-child-failure/core';
import { CHILD_NAME_CHARACTERS, childExecutionName, readBatchItems } from '../../../functions/shared/batch';

describe('readChildFailure', () => {
  it("reads a failed child's own error out of the .sync cause, and its Lambda message out of that", () => {
    const lambdaCause = JSON.stringify({
      errorType: 'JoinPreflightFailedError',
      errorMessage: 'preflight failed: docker 18.09.9 is older than 19.3.0\nstderr (last 20 lines):\n...',
      trace: ['at x'],
    });
    const cause = JSON.stringify({
      ExecutionArn: 'arn:x',
      Status: 'FAILED',
      Error: 'JoinPreflightFailedError',
      Cause: lambdaCause,
    });
    expect(readChildFailure(3, { Error: 'States.TaskFailed', Cause: cause })).toEqual({
      index: 3,
      started: true,
      error: { name: 'JoinPreflightFailedError', message: 'preflight failed: docker 18.09.9 is older than 19.3.0' },
    });
  });

  it('names a child that timed out or was aborted without an error of its own', () => {
    const timedOut = JSON.stringify({ Status: 'TIMED_OUT' });
    expect(readChildFailure(0, { Error: 'States.TaskFailed', Cause: timedOut }).error).toEqual({
      name: 'States.Timeout',
      message: 'TIMED_OUT',
    });
    const aborted = JSON.stringify({ Status: 'ABORTED' });
    expect(readChildFailure(0, { Error: 'States.TaskFailed', Cause: aborted }).error?.name).toBe('ExecutionAborted');
  });

  it('reports a child that never started with the error that kept it from starting', () => {
    expect(
      readChildFailure(1, { Error: 'StepFunctions.ExecutionLimitExceeded', Cause: 'too many executions' }),
    ).toEqual({
      index: 1,
      started: false,
      error: { name: 'StepFunctions.ExecutionLimitExceeded', message: 'too many executions' },
    });
  });

  it('cuts a long message to its first line, at most 160 characters', () => {
    const cause = JSON.stringify({ Status: 'FAILED', Error: 'HostScriptFailedError', Cause: 'z'.repeat(500) });
    const { error } = readChildFailure(0, { Error: 'States.TaskFailed', Cause: cause });
    expect(error?.message).toHaveLength(160);
    expect(error?.message.endsWith('…')).toBe(true);
  });
});

describe('child execution names', () => {
  it('are the request id when it is a valid name, else <batch>-<index>, within 71 characters', () => {
    expect(childExecutionName('b', 4, 'evt-42')).toBe('evt-42');
    expect(childExecutionName('b', 4, 'not valid!')).toBe('b-4');
    expect(childExecutionName('b', 4)).toBe('b-4');
    const long = 'x'.repeat(80);
    const name = childExecutionName(long, 299);
    expect(name.length).toBeLessThanOrEqual(CHILD_NAME_CHARACTERS);
    expect(name).toMatch(/^x+-[0-9a-f]{10}-299$/);
    // two long batch names that share their start still name different children
    expect(childExecutionName(`${long}a`, 1)).not.toBe(childExecutionName(`${long}b`, 1));
  });

  it('read a request whose id is not a valid name as a request with a problem', () => {
    const [item] = readBatchItems('onboard-node', 'b', [
      { id: 'has space', nodeName: 'edge-1', nodeIp: '10.0.0.1', instanceId: 'mi-0ed9e000000000001' },
    ]);
    expect(item.problems).toEqual([
      { field: 'id', value: 'has space', reason: 'must be 1 to 64 letters, digits, - or _ (it names the execution)' },
    ]);
  });

  it('refuse manual joins and dry runs in a batch, and give a removal its mode', () => {
    const [manual, dry, removal] = [
      ...readBatchItems('onboard-node', 'b', [
        { nodeName: 'edge-1', nodeIp: '10.0.0.1' },
        { nodeName: 'edge-2', nodeIp: '10.0.0.2', instanceId: 'mi-0ed9e000000000002', dryRun: true },
      ]),
      ...readBatchItems('remove-node', 'b', [{ nodeName: 'edge-3', drain: true }]),
    ];
    expect(manual.problems?.map((problem) => problem.field)).toEqual(['instanceId']);
    expect(dry.problems?.map((problem) => problem.field)).toEqual(['dryRun']);
    expect(removal.input).toEqual({ nodeName: 'edge-3', drain: true, mode: 'remove' });
  });
});
