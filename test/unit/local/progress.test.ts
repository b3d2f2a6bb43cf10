import { CALLBACK_TIMEOUT_MESSAGE } from '../../../local/callbacks/timeout';
import { formatDuration, progressPrinter } from '../../../local/cli/progress';
import { causeMessage, type WorkflowEvent } from '../../../local/runtime';

const PARENT = 'arn:aws:states:eu-west-1:123456789012:execution:edgekeeper-remove-node:op-1';
const CHILD = 'arn:aws:states:eu-west-1:123456789012:execution:edgekeeper-onboard-node:op-1-onboard-node';

function event(
  type: string,
  state: string | undefined,
  timestamp: number,
  extra: Partial<WorkflowEvent> = {},
): WorkflowEvent {
  return { type, workflow: 'onboard-node', execution: PARENT, state, timestamp, ...extra };
}

const task = (type: string, state: string, at: number, extra: Partial<WorkflowEvent> = {}) =>
  event(type, state, at, { stateType: 'Task', ...extra });

/** Feeds the events to a printer and returns the lines it wrote. */
function printed(events: readonly WorkflowEvent[], color = false): string[] {
  const lines: string[] = [];
  const print = progressPrinter((line) => lines.push(line), color);
  for (const next of events) print(next);
  return lines;
}

describe('progressPrinter', () => {
  it('prints the workflow name, then a ✓ with the duration when a Task ends', () => {
    // Act
    const lines = printed([
      event('ExecutionStarted', undefined, 0),
      task('StateEntered', 'Validate the request', 1_000),
      task('StateExited', 'Validate the request', 1_250),
      task('StateEntered', 'Run the join script on the host', 1_300),
      task('StateExited', 'Run the join script on the host', 13_750),
      event('ExecutionSucceeded', undefined, 14_000),
    ]);

    // Assess
    expect(lines).toEqual([
      'onboard-node',
      '  ✓ Validate the request (250 ms)',
      '  ✓ Run the join script on the host (12.4 s)',
    ]);
  });

  it.each(['Choice', 'Pass', 'Wait', 'Succeed', 'Fail'])('prints nothing for a %s state', (stateType) => {
    // Act
    const lines = printed([
      event('StateEntered', 'Is the node ready?', 0, { stateType }),
      event('StateExited', 'Is the node ready?', 5, { stateType }),
    ]);

    // Assess
    expect(lines).toEqual([]);
  });

  it('prints ✗ with the error for a failed step and no ✓ when it then exits', () => {
    // Prepare
    const error = { name: 'HostUnreachableError', message: 'instanceId mi-0123 did not receive the command' };

    // Act
    const lines = printed([
      task('StateEntered', 'Run the join script on the host', 0),
      task('StateFailed', 'Run the join script on the host', 900, { error }),
      task('StateExited', 'Run the join script on the host', 901),
    ]);

    // Assess
    expect(lines).toEqual([
      '  ✗ Run the join script on the host: HostUnreachableError: instanceId mi-0123 did not receive the command',
    ]);
  });

  it('shows a wait for a command event that timed out into its check as a wait, not a failure', () => {
    // Prepare
    const timeout = { name: 'States.Timeout', message: CALLBACK_TIMEOUT_MESSAGE };
    const otherTimeout = { name: 'States.Timeout', message: 'the task did not answer within 60 s' };

    // Act
    const lines = printed([
      task('StateEntered', 'Wait for the host script', 0),
      task('StateFailed', 'Wait for the host script', 30_000, { error: timeout }),
      task('StateExited', 'Wait for the host script', 30_001),
      task('StateEntered', 'Check the host script', 30_010),
      task('StateExited', 'Check the host script', 30_050),
      task('StateEntered', 'Finish the node', 30_100),
      task('StateFailed', 'Finish the node', 90_100, { error: otherTimeout }),
    ]);

    // Assess
    expect(lines).toEqual([
      '  ⧗ Wait for the host script: no end event within 30.0 s, checking instead',
      '  ✓ Check the host script (40 ms)',
      '  ✗ Finish the node: States.Timeout: the task did not answer within 60 s',
    ]);
  });

  it('prints ↻ on a retry and ✓ when the retried step then succeeds', () => {
    // Prepare
    const error = { name: 'TransientServiceError', message: 'reading node edge-1: HTTP 503' };

    // Act
    const lines = printed([
      task('StateEntered', 'Finish the node', 0),
      task('StateFailed', 'Finish the node', 100, { error }),
      task('StateRetried', 'Finish the node', 101),
      task('StateExited', 'Finish the node', 2_100),
    ]);

    // Assess
    expect(lines).toEqual([
      '  ✗ Finish the node: TransientServiceError: reading node edge-1: HTTP 503',
      '  ↻ Finish the node: retrying after a transient error',
      '  ✓ Finish the node (2.1 s)',
    ]);
  });

  it('prints a polling loop once, then how many checks it took when the workflow moves on', () => {
    // Act
    const lines = printed([
      task('StateEntered', 'Check the node', 0),
      task('StateExited', 'Check the node', 40),
      event('StateEntered', 'Is the node ready?', 41, { stateType: 'Choice' }),
      event('StateEntered', 'Wait before checking again', 42, { stateType: 'Wait' }),
      task('StateEntered', 'Check the node', 4_000),
      task('StateExited', 'Check the node', 4_070),
      task('StateEntered', 'Check the node', 8_000),
      task('StateExited', 'Check the node', 8_060),
      task('StateEntered', 'Finish the node', 8_100),
      task('StateExited', 'Finish the node', 8_300),
    ]);

    // Assess
    expect(lines).toEqual(['  ✓ Check the node (40 ms)', '    ↳ 3 checks over 8.1 s', '  ✓ Finish the node (200 ms)']);
  });

  it('keeps a 30-minute manual join wait to two lines, however many checks it takes', () => {
    // Prepare: a check every 10 s, with the Choice and Wait states of the loop between checks
    const loop = Array.from({ length: 180 }, (_, at) => [
      task('StateEntered', 'Check the manual join', at * 10_000),
      task('StateExited', 'Check the manual join', at * 10_000 + 50),
      event('StateEntered', 'Manual join done?', at * 10_000 + 51, { stateType: 'Choice' }),
      event('StateEntered', 'Wait for the manual join', at * 10_000 + 52, { stateType: 'Wait' }),
    ]).flat();

    // Act
    const lines = printed([
      ...loop,
      task('StateEntered', 'Finish the node', 1_800_000),
      task('StateExited', 'Finish the node', 1_800_300),
    ]);

    // Assess
    expect(lines).toEqual([
      '  ✓ Check the manual join (50 ms)',
      '    ↳ 180 checks over 1790.0 s',
      '  ✓ Finish the node (300 ms)',
    ]);
  });

  it('ends a polling loop summary when the workflow ends', () => {
    // Act
    const lines = printed([
      task('StateEntered', 'Check the node', 0),
      task('StateExited', 'Check the node', 10),
      task('StateEntered', 'Check the node', 2_000),
      task('StateExited', 'Check the node', 2_010),
      event('ExecutionSucceeded', undefined, 2_020),
    ]);

    // Assess
    expect(lines).toEqual(['  ✓ Check the node (10 ms)', '    ↳ 2 checks over 2.0 s']);
  });

  it('shows only the first line of a multi-line error (the stderr tail belongs in --json)', () => {
    // Prepare
    const error = { name: 'HostScriptFailedError', message: 'step join failed (exit 12)\nstderr:\nline 1\nline 2' };

    // Act
    const lines = printed([
      task('StateEntered', 'Run the join script', 0),
      task('StateFailed', 'Run the join script', 5, { error }),
    ]);

    // Assess
    expect(lines).toEqual(['  ✗ Run the join script: HostScriptFailedError: step join failed (exit 12)']);
  });

  it('indents a nested execution under its parent', () => {
    // Prepare
    const child = { execution: CHILD, workflow: 'onboard-node' };

    // Act
    const lines = printed([
      event('ExecutionStarted', undefined, 0, { workflow: 'remove-node' }),
      task('StateEntered', 'Roll back the join', 10, { workflow: 'remove-node' }),
      event('ExecutionStarted', undefined, 20, child),
      task('StateEntered', 'Lock the node', 30, child),
      task('StateExited', 'Lock the node', 80, child),
      task('StateExited', 'Roll back the join', 1_510, { workflow: 'remove-node' }),
    ]);

    // Assess
    expect(lines).toEqual([
      'remove-node',
      '  onboard-node',
      '    ✓ Lock the node (50 ms)',
      '  ✓ Roll back the join (1.5 s)',
    ]);
  });

  it('keeps the same state name in parent and child apart', () => {
    // Prepare
    const error = { name: 'NodeLockedError', message: 'nodeName edge-1 is locked' };

    // Act
    const lines = printed([
      task('StateEntered', 'Lock the node', 0),
      event('ExecutionStarted', undefined, 5, { execution: CHILD }),
      task('StateEntered', 'Lock the node', 10, { execution: CHILD }),
      task('StateFailed', 'Lock the node', 20, { execution: CHILD, error }),
      task('StateExited', 'Lock the node', 30),
    ]);

    // Assess
    expect(lines).toEqual([
      '  onboard-node',
      '    ✗ Lock the node: NodeLockedError: nodeName edge-1 is locked',
      '  ✓ Lock the node (30 ms)',
    ]);
  });

  it('colours the marks only when asked', () => {
    // Act
    const lines = printed([task('StateEntered', 'Lock the node', 0), task('StateExited', 'Lock the node', 5)], true);

    // Assess
    expect(lines).toEqual(['  \u001b[32m✓\u001b[0m Lock the node \u001b[2m(5 ms)\u001b[0m']);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0 ms'],
    [999, '999 ms'],
    [1_000, '1.0 s'],
    [61_250, '61.3 s'],
  ])('shows %i ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('causeMessage', () => {
  it('takes the errorMessage out of a Lambda error Cause', () => {
    // Prepare
    const cause = JSON.stringify({
      errorType: 'NodeNameInUseError',
      errorMessage: 'nodeName edge-1 is already used',
      trace: ['NodeNameInUseError: nodeName edge-1 is already used', '    at validate (core.ts:10:5)'],
    });

    // Act & Assess
    expect(causeMessage(cause)).toBe('nodeName edge-1 is already used');
  });

  it('unwraps the Cause of a failed child execution down to the Lambda message', () => {
    // Prepare
    const lambda = JSON.stringify({ errorType: 'NodeLockedError', errorMessage: 'nodeName edge-1 is locked' });
    const child = JSON.stringify({ ExecutionArn: CHILD, Status: 'FAILED', Error: 'NodeLockedError', Cause: lambda });

    // Act & Assess
    expect(causeMessage(child)).toBe('nodeName edge-1 is locked');
  });

  it.each([
    ['plain text', 'the node did not become ready', 'the node did not become ready'],
    ['JSON without a message', '{"reason":"x"}', '{"reason":"x"}'],
    ['JSON null', 'null', 'null'],
    ['a JSON string', '"quoted"', '"quoted"'],
    ['no cause', undefined, ''],
    ['an object', { reason: 'x' }, '{"reason":"x"}'],
  ])('returns %s as readable text', (_case, cause, message) => {
    expect(causeMessage(cause)).toBe(message);
  });
});
