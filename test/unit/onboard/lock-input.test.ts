import { LockStepInput } from '../../../functions/lock-node/input';
import { InvalidRequestError } from '../../../functions/shared/errors';
import { parseRemoveNodeInput } from '../../../functions/shared/remove-input';
import { parseInput } from '../../../functions/shared/step';
import { thrown } from '../../support/thrown';
import { onboardArn } from './fake-leases';

const EXECUTION = onboardArn('op-1');

describe('the lock steps’ input', () => {
  it('takes the holder from the execution id the workflow gives, and ignores a holder in the input', () => {
    const input = parseInput(LockStepInput, {
      operationId: 'op-1',
      executionId: EXECUTION,
      purpose: 'onboard',
      nodeName: 'edge-1',
      instanceId: 'i-0123456789abcdef0',
      nodeIp: '10.0.0.5',
      lockHolder: onboardArn('op-0'),
    });
    expect(input).toEqual({
      operationId: 'op-1',
      executionId: EXECUTION,
      purpose: 'onboard',
      nodeName: 'edge-1',
      instanceId: 'i-0123456789abcdef0',
      nodeIp: '10.0.0.5',
    });
  });

  it('accepts an uninstall, which locks no node', () => {
    expect(parseInput(LockStepInput, { operationId: 'u-1', executionId: EXECUTION, purpose: 'uninstall' })).toEqual({
      operationId: 'u-1',
      executionId: EXECUTION,
      purpose: 'uninstall',
    });
  });

  it('accepts a removal that knows neither the instance nor the IP (null, as InspectNode answers)', () => {
    const input = parseInput(LockStepInput, {
      operationId: 'op-1',
      executionId: EXECUTION,
      purpose: 'remove',
      nodeName: 'edge-1',
      instanceId: null,
      nodeIp: null,
    });
    expect(input).toMatchObject({ instanceId: null, nodeIp: null });
  });

  it('refuses an execution id that is not an execution ARN, naming the field', () => {
    const error = thrown(() =>
      parseInput(LockStepInput, { operationId: 'op-1', executionId: 'op-1', purpose: 'remove', nodeName: 'edge-1' }),
    );
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.message).toContain('executionId');
    expect(error.message).toContain('must be the execution ARN ($$.Execution.Id)');
  });
});

describe('the remove-node input', () => {
  it('refuses a lockHolder: a rollback finds its parent from its own execution name, not from input', () => {
    const error = thrown(() =>
      parseRemoveNodeInput({ mode: 'rollback', nodeName: 'edge-1', force: true, lockHolder: 'op-7' }),
    );
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.message).toContain('lockHolder');
  });
});
