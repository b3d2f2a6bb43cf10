import { z } from 'zod';
import { EdgekeeperError, InvalidRequestError } from '../../../functions/shared/errors';
import { thrown } from '../../support/thrown';

// Powertools writes to stdout unless POWERTOOLS_DEV routes it through console; set before the module loads.
// Dev mode also turns metrics off; turning them back on shows what a deployed step emits.
process.env.POWERTOOLS_DEV = 'true';
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
const { defineStep, parseInput } =
  require('../../../functions/shared/step') as typeof import('../../../functions/shared/step');

class NodeNameInUseError extends EdgekeeperError {
  override readonly name = 'NodeNameInUseError';
}

const Input = z.object({
  operationId: z.string().min(1),
  nodeName: z.string().regex(/^[a-z0-9-]+$/, 'must be a DNS-1123 label'),
  retries: z.number().int().default(3),
  target: z.object({ instanceId: z.string().startsWith('mi-') }).optional(),
});

/** Everything Powertools printed, one parsed JSON document per line. */
function capturedLogs(): Record<string, unknown>[] {
  return [console.log, console.info, console.warn, console.error, console.debug]
    .flatMap((method) => (method as jest.Mock).mock.calls)
    .map(([line]) => (typeof line === 'string' ? JSON.parse(line) : line));
}

beforeEach(() => {
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    jest.spyOn(console, method).mockImplementation(() => undefined);
  }
});
afterEach(() => jest.restoreAllMocks());

describe('parseInput', () => {
  it('returns the parsed input with defaults applied', () => {
    // Act
    const input = parseInput(Input, { operationId: 'op-1', nodeName: 'edge-1' });

    // Assess
    expect(input).toEqual({ operationId: 'op-1', nodeName: 'edge-1', retries: 3 });
  });

  it('fails with InvalidRequestError naming the field, the value sent and the reason', () => {
    // Act
    const error = thrown(() => parseInput(Input, { operationId: 'op-1', nodeName: 'Edge_1' }));

    // Assess
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.name).toBe('InvalidRequestError');
    expect(error.message).toBe('nodeName Edge_1 must be a DNS-1123 label');
  });

  it('names nested fields by their path and shows non-string values as JSON', () => {
    // Act
    const error = thrown(() =>
      parseInput(Input, { operationId: 'op-1', nodeName: 'edge-1', retries: 1.5, target: { instanceId: 42 } }),
    ) as InvalidRequestError;

    // Assess
    expect(error.problems).toEqual([
      { field: 'retries', value: 1.5, reason: 'Invalid input: expected int, received number' },
      { field: 'target.instanceId', value: 42, reason: 'Invalid input: expected string, received number' },
    ]);
    expect(error.message).toBe(
      'retries 1.5 Invalid input: expected int, received number; ' +
        'target.instanceId 42 Invalid input: expected string, received number',
    );
  });

  it('names a missing field without a value', () => {
    // Act
    const error = thrown(() => parseInput(Input, { nodeName: 'edge-1' }));

    // Assess
    expect(error.message).toBe('operationId Invalid input: expected string, received undefined');
  });

  it('calls a wrong-shaped event as a whole "input"', () => {
    // Act
    const error = thrown(() => parseInput(Input, 'edge-1'));

    // Assess
    expect(error.message).toBe('input edge-1 Invalid input: expected object, received string');
  });
});

describe('defineStep', () => {
  it('runs the step with the parsed input and returns its result', async () => {
    // Prepare
    const run = jest.fn(async (input: z.output<typeof Input>) => ({ lock: 'acquired', node: input.nodeName }));
    const handler = defineStep('CheckBatch', Input, run);

    // Act
    const result = await handler({ operationId: 'op-1', nodeName: 'edge-1' });

    // Assess
    expect(result).toEqual({ lock: 'acquired', node: 'edge-1' });
    expect(run).toHaveBeenCalledWith({ operationId: 'op-1', nodeName: 'edge-1', retries: 3 });
  });

  it('rejects an invalid event with InvalidRequestError before running the step', async () => {
    // Prepare
    const run = jest.fn(async () => 'ran');
    const handler = defineStep('CheckBatch', Input, run);

    // Act
    const outcome = handler({ operationId: '', nodeName: 'edge-1' });

    // Assess
    await expect(outcome).rejects.toThrow(InvalidRequestError);
    await expect(outcome).rejects.toThrow('operationId  Too small: expected string to have >=1 characters');
    expect(run).not.toHaveBeenCalled();
  });

  it('rethrows the named error of the step unchanged, so the workflow can match its name', async () => {
    // Prepare
    const failure = new NodeNameInUseError('nodeName edge-1 is already used by node edge-1 (10.0.0.9)');
    const handler = defineStep('ValidateRequest', Input, async () => {
      throw failure;
    });

    // Act
    const outcome = handler({ operationId: 'op-1', nodeName: 'edge-1' });

    // Assess
    await expect(outcome).rejects.toBe(failure);
    await expect(outcome).rejects.toMatchObject({
      name: 'NodeNameInUseError',
      message: 'nodeName edge-1 is already used by node edge-1 (10.0.0.9)',
    });
  });

  it('logs the failure with the operation id and the error name, not to stdout', async () => {
    // Prepare
    const stdout = jest.spyOn(process.stdout, 'write');
    const handler = defineStep('ValidateRequest', Input, async () => {
      throw new NodeNameInUseError('nodeName edge-1 is taken');
    });

    // Act
    await handler({ operationId: 'op-7', nodeName: 'edge-1' }).catch(() => undefined);

    // Assess
    expect(stdout).not.toHaveBeenCalled();
    expect(capturedLogs()).toContainEqual(
      expect.objectContaining({
        message: 'step failed',
        correlation_id: 'op-7',
        step: 'ValidateRequest',
        errorName: 'NodeNameInUseError',
        errorMessage: 'nodeName edge-1 is taken',
      }),
    );
  });

  it('does not carry one invocation’s step name into the next (a warm Lambda)', async () => {
    // Prepare
    const first = defineStep('CheckBatch', Input, async () => 'ok');
    const second = defineStep('PlanBatchWave', Input, async () => 'ok');
    await first({ operationId: 'op-1', nodeName: 'edge-1' });

    // Act
    await second({ operationId: 'op-2', nodeName: 'edge-1' });

    // Assess
    const succeeded = capturedLogs().filter((entry) => entry.message === 'step succeeded');
    expect(succeeded.map((entry) => [entry.step, entry.correlation_id])).toEqual([
      ['CheckBatch', 'op-1'],
      ['PlanBatchWave', 'op-2'],
    ]);
  });

  it('keeps each step’s keys on its own lines when steps overlap in one process (a local run)', async () => {
    // Prepare: the first step logs after the second has started, and again after the second has ended
    let secondStarted!: () => void;
    const started = new Promise<void>((resolve) => {
      secondStarted = resolve;
    });
    let firstMayEnd!: () => void;
    const mayEnd = new Promise<void>((resolve) => {
      firstMayEnd = resolve;
    });
    const { logger } =
      require('../../../functions/shared/powertools') as typeof import('../../../functions/shared/powertools');
    const first = defineStep('CheckBatch', Input, async () => {
      await started;
      logger.info('first, while the second runs');
      await mayEnd;
      logger.info('first, after the second ended');
      return 'ok';
    });
    const second = defineStep('PlanBatchWave', Input, async () => {
      secondStarted();
      return 'ok';
    });

    // Act
    const firstDone = first({ operationId: 'op-1', nodeName: 'edge-1' });
    await second({ operationId: 'op-2', nodeName: 'edge-2' });
    firstMayEnd();
    await firstDone;

    // Assess
    const lines = capturedLogs().filter((entry) => entry.level !== undefined);
    const seen = lines.map((entry) => [entry.message, entry.step, entry.correlation_id, entry.nodeName]);
    expect(seen).toHaveLength(4);
    expect(seen).toEqual(
      expect.arrayContaining([
        ['first, while the second runs', 'CheckBatch', 'op-1', 'edge-1'],
        ['step succeeded', 'PlanBatchWave', 'op-2', 'edge-2'],
        ['first, after the second ended', 'CheckBatch', 'op-1', 'edge-1'],
        ['step succeeded', 'CheckBatch', 'op-1', 'edge-1'],
      ]),
    );
  });

  it('tags every log line with the execution name and the node name, even of an input it refuses', async () => {
    // Prepare
    const handler = defineStep('PlanBatchWave', Input, async () => 'ok');

    // Act
    await handler({ operationId: 'op-3', nodeName: 'edge-7' });
    await handler({ operationId: 'op-4', nodeName: 'Edge_7' }).catch(() => undefined);

    // Assess
    const lines = capturedLogs().filter((entry) => entry.level !== undefined);
    expect(lines.map((entry) => [entry.message, entry.executionName, entry.nodeName])).toEqual([
      ['step succeeded', 'op-3', 'edge-7'],
      ['step failed', 'op-4', 'Edge_7'],
    ]);
  });

  it('finds the node of a validation in its request and of a render in its settings', async () => {
    // Prepare
    const Loose = z.object({ operationId: z.string() }).passthrough();
    const handler = defineStep('ValidateOnboardRequest', Loose, async () => 'ok', {
      renewLocks: async () => undefined,
    });

    // Act
    await handler({ operationId: 'op-5', request: { nodeName: 'edge-8' } });
    await handler({ operationId: 'op-6', settings: { nodeName: 'edge-9' } });

    // Assess
    const succeeded = capturedLogs().filter((entry) => entry.message === 'step succeeded');
    expect(succeeded.map((entry) => entry.nodeName)).toEqual(['edge-8', 'edge-9']);
  });

  it('adds the Lambda request id and cold start to the log lines when Lambda passes its context', async () => {
    // Prepare
    const handler = defineStep('CheckBatch', Input, async () => 'ok');
    const context = {
      functionName: 'edgekeeper-CheckBatch',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:edgekeeper-CheckBatch',
      memoryLimitInMB: '256',
      awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    };

    // Act
    await handler({ operationId: 'op-8', nodeName: 'edge-1' }, context);

    // Assess
    expect(capturedLogs()).toContainEqual(
      expect.objectContaining({
        message: 'step succeeded',
        function_request_id: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
        function_name: 'edgekeeper-CheckBatch',
        cold_start: expect.any(Boolean),
        executionName: 'op-8',
      }),
    );
  });

  it('renews the locks of the execution it is given before the step runs, and only then', async () => {
    // Prepare
    const order: string[] = [];
    const renewLocks = jest.fn(async (executionId: string) => {
      order.push(`renew ${executionId}`);
    });
    const handler = defineStep(
      'CheckBatch',
      Input,
      async () => {
        order.push('run');
        return 'ok';
      },
      { renewLocks },
    );

    // Act
    await handler({ operationId: 'op-1', nodeName: 'edge-1', executionId: 'arn:execution:op-1' });
    await handler({ operationId: 'op-2', nodeName: 'edge-1' });

    // Assess
    expect(order).toEqual(['renew arn:execution:op-1', 'run', 'run']);
  });

  it('emits a ColdStart metric on the first invocation of an instance only', async () => {
    // Prepare: a fresh module is a fresh Lambda instance, started on demand as Lambda says in its environment
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
    let handler: ReturnType<typeof defineStep> | undefined;
    jest.isolateModules(() => {
      const fresh = require('../../../functions/shared/step') as typeof import('../../../functions/shared/step');
      handler = fresh.defineStep('CheckBatch', Input, async () => 'ok');
    });
    const context = {
      functionName: 'edgekeeper-CheckBatch',
      functionVersion: '1',
      invokedFunctionArn: 'arn',
      memoryLimitInMB: '256',
      awsRequestId: 'r-1',
    };

    // Act
    await handler?.({ operationId: 'op-9', nodeName: 'edge-1' }, context);
    await handler?.({ operationId: 'op-10', nodeName: 'edge-1' }, { ...context, awsRequestId: 'r-2' });
    delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;

    // Assess
    const coldStarts = capturedLogs().filter((entry) => 'ColdStart' in entry);
    expect(coldStarts).toEqual([
      expect.objectContaining({ ColdStart: 1, function_name: 'edgekeeper-CheckBatch', service: 'edgekeeper' }),
    ]);
  });
});
