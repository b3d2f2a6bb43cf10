import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ExecutionAlreadyExistsError,
  ExecutionRegistry,
  executionsDirFor,
  InvalidExecutionNameError,
} from '../../../local/executions';

const ARN = 'arn:aws:states:local:000000000000:execution:edgekeeper-onboard-node:op-1';
const spec = { name: 'op-1', arn: ARN, workflow: 'onboard-node', input: { nodeName: 'edge-1' } };

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('the local execution registry', () => {
  let dir: string;
  let registry: ExecutionRegistry;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'edgekeeper-registry-'));
    registry = new ExecutionRegistry(dir, 5);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('records a new execution as RUNNING in this process, in <dir>/<name>.json', async () => {
    const claim = await registry.start(spec);
    expect(claim.kind).toBe('run');
    const stored = JSON.parse(readFileSync(join(dir, 'op-1.json'), 'utf8'));
    expect(stored).toMatchObject({ name: 'op-1', arn: ARN, workflow: 'onboard-node', status: 'RUNNING' });
    expect(stored.pid).toBe(process.pid);
    await expect(registry.statusOf(ARN)).resolves.toBe('running');
  });

  it('gives the first result when the same name starts again, and the holder counts as ended', async () => {
    await registry.start(spec);
    await registry.finish('op-1', { status: 'SUCCEEDED', output: { joined: true }, error: null });
    const again = await registry.start(spec);
    expect(again.kind).toBe('ended');
    expect(again.record.result).toEqual({ status: 'SUCCEEDED', output: { joined: true }, error: null });
    await expect(registry.statusOf(ARN)).resolves.toBe('ended');
    await expect(registry.statusOf('op-1')).resolves.toBe('ended');
  });

  it('refuses the same name with another input, as Step Functions does', async () => {
    await registry.start(spec);
    await registry.finish('op-1', { status: 'FAILED', output: null, error: { name: 'E', message: 'm' } });
    await expect(registry.start({ ...spec, input: { nodeName: 'edge-2' } })).rejects.toThrow(
      ExecutionAlreadyExistsError,
    );
  });

  it('lets one of two concurrent starts of a name run, and the other wait for its result', async () => {
    const first = await registry.start(spec);
    const second = registry.start(spec);
    await registry.finish('op-1', { status: 'SUCCEEDED', output: 1, error: null });
    expect(first.kind).toBe('run');
    await expect(second).resolves.toMatchObject({ kind: 'ended', record: { result: { output: 1 } } });
  });

  it('counts a RUNNING execution whose process died as ended, and continues it under the same name', async () => {
    const pid = deadPid();
    writeFileSync(
      join(dir, 'op-1.json'),
      JSON.stringify({ ...spec, status: 'RUNNING', pid, startedAt: '2026-01-01T00:00:00.000Z' }),
    );
    await expect(registry.statusOf(ARN)).resolves.toBe('ended');
    const claim = await registry.start(spec);
    expect(claim).toMatchObject({ kind: 'run', record: { pid: process.pid, resumed: 1, arn: ARN } });
    await expect(registry.statusOf(ARN)).resolves.toBe('running');
  });

  it('does not know holders it has no record of, nor ARNs of another execution under that name', async () => {
    await registry.start(spec);
    await expect(registry.statusOf('someone-else')).resolves.toBe('unknown');
    await expect(registry.statusOf(ARN.replace('onboard-node', 'remove-node'))).resolves.toBe('unknown');
  });

  it.each(['', 'a'.repeat(81), 'has space', 'slash/name', 'arn:aws:states:x'])(
    'refuses the execution name %j, which Step Functions would refuse',
    async (name) => {
      await expect(registry.start({ ...spec, name })).rejects.toThrow(InvalidExecutionNameError);
    },
  );

  it('keeps a sandbox’s records beside its state and --local ones in the user state directory', () => {
    expect(executionsDirFor({ kind: 'sandbox', dir: '/srv/sb' }, {})).toBe('/srv/sb/executions');
    expect(executionsDirFor({ kind: 'local' }, { XDG_STATE_HOME: '/home/u/.state' })).toBe(
      '/home/u/.state/edgekeeper/executions',
    );
    expect(executionsDirFor({ kind: 'local' }, { EDGEKEEPER_LOCAL_EXECUTIONS_DIR: '/x' })).toBe('/x');
  });
});
