import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type WorkflowResult, workflowStates } from '../../../local/runtime';
import { E2E, HOSTS } from '../harness';
import { removeNode } from '../removal-helpers';
import { type EndState, endState, lockLeasesByKubectl } from './end-state';
import { describeKillPoint, type KillPoint, killPoints, passedKillPoint, runInChild, sweepPoints } from './harness';

/**
 * Kill at each state: the runtime running onboard-node or remove-node is SIGKILLed at a state taken from the
 * workflow's own state list (`killPoints`), then the same input is run again, as an operator would rerun the
 * command, and the cluster and the host must end exactly as after an uninterrupted run: no lock left, no
 * half-joined node, the host joined or clean, the DaemonSets as the uninterrupted run left them.
 *
 * `npm test` runs a representative subset (`sweepPoints`: the risky points and a few between them); the whole list
 * runs with EDGEKEEPER_FAULTS_FULL=1 (`npm run test:faults:full`). Onboardings and removals alternate, so each
 * test starts from the state the previous one converged to; a test whose start state is not there restores it
 * with an uninterrupted run first, so one failure does not cascade.
 */

const FULL = process.env.EDGEKEEPER_FAULTS_FULL === '1';
/** a kill, a rerun and two snapshots; generous, as other test runs may share the machine */
const KILL_TEST_TIMEOUT_MS = 180_000;
const HOST = HOSTS.ubuntuAmd64;
const ONBOARD = { nodeName: 'edge-k', nodeIp: '10.20.0.31', instanceId: HOST, taint: true, labels: { site: 'k' } };
const REMOVE = { mode: 'remove', nodeName: 'edge-k', drain: false, force: false };
/** a request whose preflight fails on the host (Docker 18.09): the whole failure path runs, changing nothing */
const FAILING = { nodeName: 'edge-f', nodeIp: '10.20.0.32', instanceId: HOSTS.oldDocker, taint: true, labels: {} };

let e2e: E2E;
/** what uninterrupted runs left: before anything, after the onboarding, after the removal, after the failed join */
const expected: { before?: EndState; joined?: EndState; removed?: EndState; failed?: EndState } = {};
const tally = { points: 0, killed: 0, notReached: 0, converged: 0 };

const snapshot = () => endState(e2e, [HOST, HOSTS.oldDocker]);
const onboard = async () => (await e2e.onboard({ dryRun: false, ...ONBOARD })).result;
const remove = async () => (await removeNode(e2e, REMOVE)).result;

beforeAll(async () => {
  e2e = await E2E.start({ readyDelayMs: 100, prefix: 'edgekeeper-kill-' });
  expected.before = await snapshot();
  const joined = await onboard();
  expect(joined.error).toBeNull();
  expected.joined = await snapshot();
  const removed = await remove();
  expect(removed.error).toBeNull();
  expected.removed = await snapshot();
  const failed = (await e2e.onboard(FAILING)).result;
  expect(failed.status).toBe('FAILED');
  expect(failed.error?.message).toMatch(/^preflight failed: docker 18\.09/);
  expected.failed = await snapshot();
}, 240_000);

afterAll(async () => {
  // the counts docs/reliability.md quotes; printed so a full sweep's run log carries them
  process.stdout.write(`kill sweep (${FULL ? 'full' : 'CI subset'}): ${JSON.stringify(tally)}\n`);
  await e2e?.stop();
});

describe('the uninterrupted runs the sweep compares with', () => {
  it('join edge-k and remove it again, leaving cluster, host and DaemonSets as before and no lock', async () => {
    expect(expected.joined?.nodes['edge-k']).toMatchObject({ ready: 'True', internalIps: ['10.20.0.31'] });
    expect(expected.joined?.hosts[HOST].edgecore).toBe('active');
    expect(expected.joined?.leases).toEqual([]);
    // the removal undoes everything but the DaemonSets' edge exclusion, which keeps the next edge node safe too
    expect({ ...expected.removed, daemonSets: {} }).toEqual({ ...expected.before, daemonSets: {} });
    expect(expected.removed?.daemonSets).toEqual(expected.joined?.daemonSets);
    expect(expected.failed).toEqual(expected.removed);
    expect(await lockLeasesByKubectl(e2e)).toEqual([]);
  });

  it('lists a kill point for every state of both workflows, and an exit point for every Task', () => {
    for (const workflow of ['onboard-node', 'remove-node']) {
      const states = workflowStates(workflow);
      const points = killPoints(workflow);
      for (const state of states) expect(points).toContainEqual({ workflow, state: state.name, phase: 'enter' });
      expect(points.filter((p) => p.phase === 'exit')).toHaveLength(states.filter((s) => s.type === 'Task').length);
    }
  });
});

/**
 * Kills a run at `point`, reruns the input to its end and compares with the uninterrupted run. A run that never
 * reaches the point (a dry-run branch, the uninstall states, a poll that found the end at once) must finish on its
 * own as an uninterrupted run, and its events must show it never passed there.
 */
async function killRerunAndCompare(options: {
  point: KillPoint;
  workflow: 'onboard-node' | 'remove-node';
  input: object;
  rerun: () => Promise<WorkflowResult>;
  expectedState: EndState | undefined;
  expectedStatus: WorkflowResult['status'];
}): Promise<void> {
  tally.points += 1;
  const killed = await runInChild(e2e, { workflow: options.workflow, input: options.input, killAt: options.point });
  if (killed.killed) {
    tally.killed += 1;
    // it died as a crash does: its record still says RUNNING, nothing released its lock
    const record = JSON.parse(readFileSync(join(e2e.executionsDir, `${killed.executionName}.json`), 'utf8'));
    expect(record.status).toBe('RUNNING');
  } else {
    tally.notReached += 1;
    expect(passedKillPoint(killed.events, options.point)).toBe(false);
    expect(killed.result?.status).toBe(options.expectedStatus);
  }

  const rerun = await options.rerun();
  expect(rerun.status).toBe(options.expectedStatus);
  expect(await snapshot()).toEqual(options.expectedState);
  tally.converged += 1;
}

/** Brings the sandbox to the state a test starts from, with uninterrupted runs, if a failed test left another. */
async function startFrom(state: 'joined' | 'removed'): Promise<void> {
  const node = await e2e.node('edge-k');
  if (state === 'joined' && !node?.metadata?.labels?.['edgekeeper.io/managed']) await onboard();
  if (state === 'removed' && node) await remove();
}

const onboardPoints = sweepPoints('onboard-node', FULL);
const removePoints = sweepPoints('remove-node', FULL);

describe(`kill at each state (${FULL ? 'every kill point' : 'representative subset'})`, () => {
  for (let i = 0; i < Math.max(onboardPoints.length, removePoints.length); i += 1) {
    const o = onboardPoints[i];
    const r = removePoints[i];
    if (o) {
      it(
        `${describeKillPoint(o)}: a rerun of the onboarding ends joined, as an uninterrupted run`,
        async () => {
          await startFrom('removed');
          await killRerunAndCompare({
            point: o,
            workflow: 'onboard-node',
            input: { dryRun: false, ...ONBOARD },
            rerun: onboard,
            expectedState: expected.joined,
            expectedStatus: 'SUCCEEDED',
          });
        },
        KILL_TEST_TIMEOUT_MS,
      );
    }
    if (r) {
      it(
        `${describeKillPoint(r)}: a rerun of the removal ends removed, as an uninterrupted run`,
        async () => {
          await startFrom('joined');
          await killRerunAndCompare({
            point: r,
            workflow: 'remove-node',
            input: REMOVE,
            rerun: remove,
            expectedState: expected.removed,
            expectedStatus: 'SUCCEEDED',
          });
        },
        KILL_TEST_TIMEOUT_MS,
      );
    }
  }
});

/** The failure path: an onboarding whose preflight fails rolls back through a remove-node child. */
const failurePoints = FULL
  ? [...killPoints('onboard-node'), ...killPoints('remove-node')]
  : [{ workflow: 'remove-node', state: 'Lock the node', phase: 'exit' } as const];

describe('kill on the failure path of a join whose preflight fails', () => {
  for (const point of failurePoints) {
    it(
      `${describeKillPoint(point)}: a rerun fails the same way and leaves nothing`,
      async () => {
        // wherever edge-k is: the failed join must leave everything as it found it
        const before = await snapshot();
        await killRerunAndCompare({
          point,
          workflow: 'onboard-node',
          input: { dryRun: false, ...FAILING },
          rerun: async () => (await e2e.onboard(FAILING)).result,
          expectedState: before,
          expectedStatus: 'FAILED',
        });
      },
      KILL_TEST_TIMEOUT_MS,
    );
  }
});

describe('fault injection: Ctrl-C on the CLI', () => {
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
    expect(await lockLeasesByKubectl(e2e)).toEqual([]);
  });
});
