import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { TransientServiceError } from '../../../functions/shared/errors';
import {
  localExecutionStatus,
  processIsAlive,
  stepFunctionsExecutionStatus,
} from '../../../functions/shared/executions';
import { caught } from '../../support/thrown';

const DEPLOYED = 'arn:aws:states:eu-west-1:123456789012:execution:edgekeeper-onboard-node:op-1';
const LOCAL = 'arn:aws:states:local:000000000000:execution:edgekeeper-onboard-node:op-1';

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

function sdkError(name: string, httpStatusCode: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode } });
}

describe('stepFunctionsExecutionStatus', () => {
  /** A Step Functions client that answers every DescribeExecution with `answer`, and records what it was asked. */
  function client(answer: () => Promise<{ status?: string }>) {
    const asked: string[] = [];
    return {
      asked,
      send: async (command: DescribeExecutionCommand) => {
        asked.push(command.input.executionArn ?? '');
        return answer();
      },
    };
  }

  it.each([
    ['RUNNING', 'running'],
    ['PENDING_REDRIVE', 'running'],
    ['SUCCEEDED', 'ended'],
    ['FAILED', 'ended'],
    ['TIMED_OUT', 'ended'],
    ['ABORTED', 'ended'],
  ] as const)('reads an execution %s as %s', async (status, expected) => {
    // Prepare
    const sfn = client(async () => ({ status }));

    // Act
    const answer = await stepFunctionsExecutionStatus(sfn).statusOf(DEPLOYED);

    // Assess
    expect(answer).toBe(expected);
    expect(sfn.asked).toEqual([DEPLOYED]);
  });

  it('counts an execution Step Functions no longer knows as ended', async () => {
    const sfn = client(() => Promise.reject(sdkError('ExecutionDoesNotExist', 400)));
    expect(await stepFunctionsExecutionStatus(sfn).statusOf(DEPLOYED)).toBe('ended');
  });

  it('makes throttling, server and network errors transient, for the step to retry', async () => {
    const throttled = await caught(
      stepFunctionsExecutionStatus(client(() => Promise.reject(sdkError('ThrottlingException', 400)))).statusOf(
        DEPLOYED,
      ),
    );
    const failed = await caught(
      stepFunctionsExecutionStatus(client(() => Promise.reject(sdkError('InternalError', 500)))).statusOf(DEPLOYED),
    );
    const refused = await caught(
      stepFunctionsExecutionStatus(
        client(() => Promise.reject(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))),
      ).statusOf(DEPLOYED),
    );

    expect(throttled).toBeInstanceOf(TransientServiceError);
    expect(throttled.message).toBe(`describing execution ${DEPLOYED}: ThrottlingException`);
    expect(failed).toBeInstanceOf(TransientServiceError);
    expect(refused).toBeInstanceOf(TransientServiceError);
  });

  it('answers unknown when it may not read the execution, so the Lease expiry decides', async () => {
    const sfn = client(() => Promise.reject(sdkError('AccessDeniedException', 400)));
    expect(await stepFunctionsExecutionStatus(sfn).statusOf(DEPLOYED)).toBe('unknown');
  });

  it('answers unknown, without asking, for holders that are not deployed executions', async () => {
    const sfn = client(async () => ({ status: 'RUNNING' }));
    const port = stepFunctionsExecutionStatus(sfn);
    expect(await port.statusOf(LOCAL)).toBe('unknown');
    expect(await port.statusOf('op-1')).toBe('unknown');
    expect(sfn.asked).toEqual([]);
  });
});

describe('localExecutionStatus', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'edgekeeper-executions-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function record(name: string, fields: Record<string, unknown>) {
    writeFileSync(
      join(dir, `${name}.json`),
      JSON.stringify({ name, arn: LOCAL, workflow: 'onboard-node', startedAt: '2025-03-01T10:00:00Z', ...fields }),
    );
  }

  it('reads a RUNNING record whose process lives as running', async () => {
    record('op-1', { status: 'RUNNING', pid: process.pid });
    expect(await localExecutionStatus(dir).statusOf(LOCAL)).toBe('running');
  });

  it('reads a RUNNING record whose process died (kill -9, a crash) as ended', async () => {
    record('op-1', { status: 'RUNNING', pid: deadPid() });
    expect(await localExecutionStatus(dir).statusOf(LOCAL)).toBe('ended');
  });

  it.each(['SUCCEEDED', 'FAILED', 'ABORTED'])('reads a %s record as ended', async (status) => {
    record('op-1', { status, pid: process.pid });
    expect(await localExecutionStatus(dir).statusOf(LOCAL)).toBe('ended');
  });

  it('answers unknown for an execution it has no record of, or whose record is of another workflow', async () => {
    record('op-1', { status: 'RUNNING', pid: process.pid });
    const port = localExecutionStatus(dir);
    expect(await port.statusOf(LOCAL.replace(':op-1', ':op-2'))).toBe('unknown');
    expect(await port.statusOf(LOCAL.replace('onboard-node', 'remove-node'))).toBe('unknown');
  });

  it('never reads outside its directory, whatever the holder id says', async () => {
    writeFileSync(join(dir, 'secret.json'), JSON.stringify({ status: 'RUNNING', pid: process.pid }));
    const port = localExecutionStatus(join(dir, 'registry'));
    expect(await port.statusOf(`${LOCAL.replace(':op-1', ':..')}/secret`)).toBe('unknown');
  });

  it('asks whether a process lives without signalling it', () => {
    expect(processIsAlive(process.pid)).toBe(true);
    expect(processIsAlive(deadPid())).toBe(false);
  });
});
