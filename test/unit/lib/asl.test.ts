import {
  fillSettings,
  functionPlaceholder,
  pascalCase,
  placeholdersOf,
  STEPS_ALLOWANCE_SECONDS,
  stateMachinePlaceholder,
  substitute,
  timeoutPlaceholder,
  workflowTimeouts,
} from '../../../lib/asl';

/** `${name}` as it appears in an ASL file (a helper keeps the literal out of plain strings). */
const ph = (name: string) => `\${${name}}`;

const DEFINITION = JSON.stringify({
  StartAt: 'Lock the node',
  States: {
    'Lock the node': { Type: 'Task', Resource: ph('LockNodeFunctionArn'), Next: 'Remove' },
    Remove: {
      Type: 'Task',
      Resource: 'arn:aws:states:::states:startExecution.sync:2',
      Parameters: { StateMachineArn: ph('RemoveNodeStateMachineArn') },
      Next: 'Release',
    },
    Release: {
      Type: 'Task',
      Resource: ph('ReleaseNodeLockFunctionArn'),
      Comment: `again ${ph('LockNodeFunctionArn')}`,
    },
  },
});

describe('placeholdersOf', () => {
  it('lists each placeholder once, sorted', () => {
    // Act
    const names = placeholdersOf(DEFINITION);

    // Assess
    expect(names).toEqual(['LockNodeFunctionArn', 'ReleaseNodeLockFunctionArn', 'RemoveNodeStateMachineArn']);
  });

  it('ignores JSONPath, intrinsic functions and malformed placeholders', () => {
    // Prepare
    const text = `{"a.$":"$.nodeName","b.$":"States.Format('{}', $.x)","c":"${ph('1abc')}","d":"$Plain","e":"${ph('a-b')}"}`;

    // Act
    const names = placeholdersOf(text);

    // Assess
    expect(names).toEqual([]);
  });
});

describe('substitute', () => {
  it('fills every placeholder, each occurrence, as Step Functions definitionSubstitutions would', () => {
    // Prepare
    const values = {
      LockNodeFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:lock',
      ReleaseNodeLockFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:release',
      RemoveNodeStateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:remove',
    };

    // Act
    const text = substitute(DEFINITION, values);

    // Assess
    const states = JSON.parse(text).States;
    expect(states['Lock the node'].Resource).toBe(values.LockNodeFunctionArn);
    expect(states.Release.Comment).toBe(`again ${values.LockNodeFunctionArn}`);
    expect(states.Remove.Parameters.StateMachineArn).toBe(values.RemoveNodeStateMachineArn);
    expect(placeholdersOf(text)).toEqual([]);
  });

  it('inserts values literally, even ones that look like replacement patterns', () => {
    // Act
    const text = substitute(`"${ph('A')}"`, { A: "$& $1 $$ $` $'" });

    // Assess
    expect(text).toBe('"$& $1 $$ $` $\'"');
  });

  it('fails naming the first placeholder that has no value', () => {
    // Act
    const act = () => substitute(DEFINITION, { LockNodeFunctionArn: 'arn:lock' });

    // Assess
    expect(act).toThrow(new Error(`no substitution for ${ph('RemoveNodeStateMachineArn')}`));
  });

  it('leaves text without placeholders unchanged', () => {
    expect(substitute('{"StartAt":"A"}', {})).toBe('{"StartAt":"A"}');
  });
});

describe('number placeholders', () => {
  const definition = JSON.stringify({ TimeoutSeconds: ph('OnboardNodeTimeoutSeconds'), Comment: ph('Name') });

  it('fill a whole JSON string with a bare number, so the file stays JSON and the result has a number', () => {
    // Act
    const text = substitute(definition, { OnboardNodeTimeoutSeconds: '4500', Name: 'x' });

    // Assess
    expect(JSON.parse(text)).toEqual({ TimeoutSeconds: 4500, Comment: 'x' });
  });

  it('refuse a value that is not a whole number of seconds, naming the placeholder and the value', () => {
    // Act
    const act = () => substitute(definition, { OnboardNodeTimeoutSeconds: '45 s', Name: 'x' });

    // Assess
    expect(act).toThrow(new Error(`${ph('OnboardNodeTimeoutSeconds')} must be a whole number of seconds, got "45 s"`));
  });
});

describe('workflow time limits', () => {
  const settings = {
    hostCommandTimeoutSeconds: 900,
    nodeReadyTimeoutSeconds: 600,
    drainTimeoutSeconds: 300,
    namespaceDeletionTimeoutSeconds: 300,
    manualJoinTimeoutSeconds: 1800,
  };

  it('give onboarding room for its join, its readiness wait and a whole rollback', () => {
    // Act
    const limits = workflowTimeouts(settings);

    // Assess: a rollback is a removal (drain, then the reset script)
    const removal = 300 + 900 + STEPS_ALLOWANCE_SECONDS;
    expect(limits['onboard-node']).toBe(900 + 600 + STEPS_ALLOWANCE_SECONDS + removal);
    expect(limits['remove-node']).toBe(removal + 300 + STEPS_ALLOWANCE_SECONDS);
  });

  it.each([
    // onboarding runs the join script and, in a rollback, the reset script: both may take the host command timeout
    ['hostCommandTimeoutSeconds', { 'onboard-node': 200, 'remove-node': 100 }],
    ['nodeReadyTimeoutSeconds', { 'onboard-node': 100, 'remove-node': 0 }],
    ['drainTimeoutSeconds', { 'onboard-node': 100, 'remove-node': 100 }],
    ['namespaceDeletionTimeoutSeconds', { 'onboard-node': 0, 'remove-node': 100 }],
    // shorter than an SSM join with its rollback (3600 s here): it changes nothing until it is the longer one
    ['manualJoinTimeoutSeconds', { 'onboard-node': 0, 'remove-node': 0 }],
  ] as const)('grow with %s (by 100 s): %j', (setting, growth) => {
    // Act
    const before = workflowTimeouts(settings);
    const after = workflowTimeouts({ ...settings, [setting]: settings[setting] + 100 });

    // Assess
    expect({
      'onboard-node': after['onboard-node'] - before['onboard-node'],
      'remove-node': after['remove-node'] - before['remove-node'],
    }).toEqual(growth);
  });

  it('give a manual join its whole wait when that is longer than an SSM join and its rollback', () => {
    // Act
    const limits = workflowTimeouts({ ...settings, manualJoinTimeoutSeconds: 86_400 });

    // Assess: a failed manual join deletes the node it registered, no removal workflow runs
    expect(limits['onboard-node']).toBe(86_400 + STEPS_ALLOWANCE_SECONDS);
  });

  it('are filled into a definition at synth time, leaving the other placeholders for definitionSubstitutions', () => {
    // Prepare
    const text = JSON.stringify({
      TimeoutSeconds: ph(timeoutPlaceholder('remove-node')),
      States: { Lock: { Resource: ph('LockNodeFunctionArn') } },
    });

    // Act
    const filled = fillSettings(text, settings);

    // Assess
    expect(JSON.parse(filled).TimeoutSeconds).toBe(workflowTimeouts(settings)['remove-node']);
    expect(placeholdersOf(filled)).toEqual(['LockNodeFunctionArn']);
  });
});

describe('pascalCase and the placeholder conventions', () => {
  it.each([
    ['onboard-node', 'OnboardNode'],
    ['remove-node', 'RemoveNode'],
    ['drift', 'Drift'],
    ['uninstall-kubeedge-v2', 'UninstallKubeedgeV2'],
  ])('turns %s into %s', (kebab, pascal) => {
    expect(pascalCase(kebab)).toBe(pascal);
  });

  it('names a workflow ARN and a function ARN placeholder', () => {
    expect(stateMachinePlaceholder('remove-node')).toBe('RemoveNodeStateMachineArn');
    expect(functionPlaceholder('LockNode')).toBe('LockNodeFunctionArn');
    expect(timeoutPlaceholder('onboard-node')).toBe('OnboardNodeTimeoutSeconds');
  });
});
