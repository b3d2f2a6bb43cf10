import { functionPlaceholder, pascalCase, placeholdersOf, stateMachinePlaceholder, substitute } from '../../../lib/asl';

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
  });
});
