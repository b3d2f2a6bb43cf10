import * as z from 'zod';

// Powertools writes to stdout unless POWERTOOLS_DEV routes it through console; set before the module loads.
process.env.POWERTOOLS_DEV = 'true';
jest.mock('../../../functions/shared/leases', () => ({ renewLocks: jest.fn(async () => []) }));
const { renewLocks } = jest.requireMock('../../../functions/shared/leases') as { renewLocks: jest.Mock };
const { defineClusterStep, defineLockStep } =
  require('../../../functions/shared/cluster-step') as typeof import('../../../functions/shared/cluster-step');

const Input = z.object({ operationId: z.string().min(1), nodeName: z.string().min(1) });

beforeEach(() => {
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    jest.spyOn(console, method).mockImplementation(() => undefined);
  }
  renewLocks.mockClear();
});
afterEach(() => jest.restoreAllMocks());

describe('defineClusterStep', () => {
  it('renews the Leases of the lock-holding execution, then runs the step', async () => {
    // Prepare
    const run = jest.fn(async () => {
      expect(renewLocks).toHaveBeenCalledWith('arn:aws:states:eu-west-1:1:execution:onboard:op-1');
      return 'finished';
    });
    const handler = defineClusterStep('FinishNode', Input, run);

    // Act
    const result = await handler({
      operationId: 'op-1',
      nodeName: 'edge-1',
      executionId: 'arn:aws:states:eu-west-1:1:execution:onboard:op-1',
    });

    // Assess
    expect(result).toBe('finished');
    expect(run).toHaveBeenCalledWith({ operationId: 'op-1', nodeName: 'edge-1' });
  });

  it('renews nothing when the workflow gives no execution id', async () => {
    // Prepare
    const handler = defineClusterStep('FinishNode', Input, async () => 'finished');

    // Act
    await handler({ operationId: 'op-1', nodeName: 'edge-1' });

    // Assess
    expect(renewLocks).not.toHaveBeenCalled();
  });
});

describe('defineLockStep', () => {
  it('leaves the Leases to the lock step itself: no renewal before it takes or releases them', async () => {
    // Prepare
    const Lock = z.object({ operationId: z.string().min(1), executionId: z.string().min(1) });
    const handler = defineLockStep('ReleaseNodeLock', Lock, async () => ({ lock: 'released' }));

    // Act
    const result = await handler({
      operationId: 'op-1',
      executionId: 'arn:aws:states:eu-west-1:1:execution:onboard:op-1',
    });

    // Assess
    expect(result).toEqual({ lock: 'released' });
    expect(renewLocks).not.toHaveBeenCalled();
  });
});
