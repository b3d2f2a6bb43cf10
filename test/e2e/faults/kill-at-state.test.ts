import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { workflowStates } from '../../../local/runtime';
import { E2E, HOSTS, readyStatus } from '../harness';
import { describeKillPoint, type KillPoint, killAndRerun, killPoints } from './harness';

/**
 * A representative slice of the fault-injection suite, proving its tools: the kill-at-state harness and the
 * sandbox's fault hooks. The full matrix (every kill point of every workflow) is built on `killPoints`.
 */
describe('fault injection: the harness', () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await E2E.start({ readyDelayMs: 300, prefix: 'edgekeeper-faults-' });
  }, 120_000);
  afterAll(async () => {
    await e2e?.stop();
  });

  /** Leases that record this node name, whichever key (name, instance, IP) they lock. */
  async function leasesOf(nodeName: string): Promise<string[]> {
    const { items } = await e2e.coordination.listNamespacedLease({ namespace: 'kube-system' });
    return items
      .filter(
        (lease) =>
          lease.metadata?.name === `edgekeeper-node-${nodeName}` ||
          Object.values(lease.metadata?.annotations ?? {}).includes(nodeName),
      )
      .map((lease) => lease.metadata?.name ?? '');
  }

  it('lists a kill point for every state of the ASL, and an exit point for every Task', () => {
    const states = workflowStates('onboard-node');
    const points = killPoints('onboard-node');
    for (const state of states) {
      expect(points).toContainEqual({ workflow: 'onboard-node', state: state.name, phase: 'enter' });
    }
    expect(points.filter((p) => p.phase === 'exit')).toHaveLength(states.filter((s) => s.type === 'Task').length);
  });

  const lockTaken: KillPoint = { workflow: 'onboard-node', state: 'Lock the node', phase: 'exit' };

  it(`kills the runtime at ${describeKillPoint(lockTaken)}; the rerun of the same input joins the node and frees every lock`, async () => {
    const input = { nodeName: 'edge-1', nodeIp: '10.20.0.11', instanceId: HOSTS.ubuntuAmd64, taint: true, labels: {} };
    const { killed, rerun } = await killAndRerun(e2e, { workflow: 'onboard-node', input, killAt: lockTaken });

    expect(killed.killed).toBe(true);
    // it died holding the lock, as a crash right after taking it would
    const entered = killed.events.filter((e) => e.type === 'StateEntered').map((e) => e.state);
    expect(entered).toContain('Lock the node');
    expect(entered).not.toContain('Resolve join settings');
    const record = JSON.parse(readFileSync(join(e2e.executionsDir, `${killed.executionName}.json`), 'utf8'));
    expect(record.status).toBe('RUNNING');

    expect(rerun.result.status).toBe('SUCCEEDED');
    expect(readyStatus(await e2e.node('edge-1'))).toBe('True');
    expect(await leasesOf('edge-1')).toEqual([]);
  });

  it('injects Kubernetes 429s and SSM throttling and 5xx; the onboarding rides them out and succeeds', async () => {
    const faults = e2e.handle.faults;
    // PATCH: only edgekeeper patches nodes; the sandbox's cloudcore reads, creates and replaces them
    faults.inject({
      service: 'kube',
      method: 'PATCH',
      path: /\/api\/v1\/nodes\/edge-2$/,
      times: 2,
      fault: { kind: 'status', status: 429, retryAfterSeconds: 1 },
    });
    faults.inject({ service: 'ssm', operation: 'SendCommand', fault: { kind: 'throttle' } });
    faults.inject({ service: 'ssm', operation: 'GetCommandInvocation', fault: { kind: 'status', status: 500 } });

    const run = await e2e.onboard({
      nodeName: 'edge-2',
      nodeIp: '10.20.0.12',
      instanceId: HOSTS.ubuntuArm64Containerd,
    });

    expect(run.result.error).toBeNull();
    expect(run.result.status).toBe('SUCCEEDED');
    const injected = faults.history().map((f) => `${f.service} ${f.operation ?? f.method}`);
    expect(injected).toEqual(
      expect.arrayContaining(['kube PATCH', 'kube PATCH', 'ssm SendCommand', 'ssm GetCommandInvocation']),
    );
    expect(faults.pending()).toBe(0);
    expect(readyStatus(await e2e.node('edge-2'))).toBe('True');
  });
});

describe('fault injection: Ctrl-C on the CLI', () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await E2E.start({ readyDelayMs: 300, prefix: 'edgekeeper-sigint-' });
  }, 120_000);
  afterAll(async () => {
    await e2e?.stop();
  });

  it('stops at the next step after SIGINT, rolls back, releases the lock and exits 130', async () => {
    const cli = spawn(
      process.execPath,
      [
        join(__dirname, '..', '..', '..', 'bin', 'edgekeeper.js'),
        'onboard',
        '--sandbox',
        e2e.dir,
        '--name',
        'edge-7',
        '--ip',
        '10.20.0.17',
        '--instance',
        HOSTS.centosArmv7,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    let stdout = '';
    cli.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
    });
    let signalled = false;
    cli.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
      // once the lock is taken, there is something to roll back
      if (!signalled && stderr.includes('✓ Lock the node')) {
        signalled = true;
        cli.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => cli.once('close', (exit) => resolve(exit)));

    expect(signalled).toBe(true);
    expect(code).toBe(130);
    expect(stderr).toContain('SIGINT: stopping at the next step');
    expect(stderr).toMatch(
      /Stopped on SIGINT before "[^"]+"; then the failure path ran: .*Release the lock after failure ✓/,
    );
    expect(stderr).toContain('Rolled back and released');
    expect(stdout).toContain('ABORTED ExecutionStopped');
    expect(await e2e.node('edge-7')).toBeUndefined();
    const { items } = await e2e.coordination.listNamespacedLease({ namespace: 'kube-system' });
    expect(items.filter((lease) => JSON.stringify(lease.metadata).includes('edge-7'))).toEqual([]);
  });
});
