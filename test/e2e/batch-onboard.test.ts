import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runWorkflow } from '../../local/runtime';
import { E2E, HOSTS, internalIps, readyStatus } from './harness';
import { CLEAN_HOST, hostState } from './removal-helpers';

/**
 * A batch through the CLI, as an operator runs one: every joinable host of the sandbox, the host whose Docker is too
 * old, and a request with a malformed IP; then the joined nodes removed in bulk. Names and IPs are this file's own.
 */

const STOCK_HOSTS_LINE = 'hosts:          files dns';

const JOINABLE = [
  { id: 'evt-batch-a', nodeName: 'edge-batch-a', nodeIp: '10.20.0.71', instanceId: HOSTS.ubuntuAmd64 },
  { nodeName: 'edge-batch-b', nodeIp: '10.20.0.72', instanceId: HOSTS.ubuntuArm64Containerd },
  { nodeName: 'edge-batch-c', nodeIp: '10.20.0.73', instanceId: HOSTS.centosArmv7 },
];
const OLD_DOCKER = { nodeName: 'edge-batch-old', nodeIp: '10.20.0.74', instanceId: HOSTS.oldDocker };
const BAD_IP = { nodeName: 'edge-batch-badip', nodeIp: '10.20.0.275', instanceId: HOSTS.firewalled };

const REPO = join(__dirname, '..', '..');
/** Four joins at once on a machine running other sandboxes: more room than a single node's CLI run needs. */
const CLI_TIMEOUT_MS = 100_000;

let e2e: E2E;

/** Runs the real CLI (`npx tsx bin/edgekeeper.ts …`) in a child process; never rejects. */
function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'npx',
      ['tsx', 'bin/edgekeeper.ts', ...args],
      { cwd: REPO, env: { ...process.env }, timeout: CLI_TIMEOUT_MS, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  e2e = await E2E.start({ prefix: 'edgekeeper-e2e-batch-' });
});

afterAll(async () => {
  await e2e?.stop();
});

function batchFile(name: string, requests: object[]): string {
  const path = join(e2e.dir, name);
  writeFileSync(path, JSON.stringify({ requests }));
  return path;
}

async function hostsLine(instanceId: string): Promise<string> {
  return (await e2e.hostRun(instanceId, "grep '^hosts:' /etc/nsswitch.conf")).stdout.trim();
}

describe('batch onboarding and bulk removal on the sandbox', () => {
  it(
    'joins every joinable host, fails the other two with their own reasons, and leaves each host to its own run',
    async () => {
      const file = batchFile('join.json', [...JOINABLE, OLD_DOCKER, BAD_IP]);
      const run = await runCli(['onboard', '--sandbox', e2e.dir, '--batch', file, '--execution-name', 'batch-e2e']);

      // some nodes failed: exit 1, a line per node and the totals on stdout, each node's progress on stderr
      expect(run.code).toBe(1);
      const lines = run.stdout.trim().split('\n');
      expect(lines).toEqual([
        expect.stringMatching(/^edge-batch-a +joined +onboard-node:evt-batch-a$/),
        expect.stringMatching(/^edge-batch-b +joined +onboard-node:batch-e2e-1$/),
        expect.stringMatching(/^edge-batch-c +joined +onboard-node:batch-e2e-2$/),
        expect.stringMatching(
          /^edge-batch-old +failed +onboard-node:batch-e2e-3 +JoinPreflightFailedError: preflight failed: docker 18\.09\.9 is older than 19\.3\.0$/,
        ),
        expect.stringMatching(
          /^edge-batch-badip +failed +onboard-node:batch-e2e-4 +InvalidRequestError: nodeIp 10\.20\.0\.275 must be an IPv4 address: every part must be 0-255$/,
        ),
        // 10 % of 5 tolerates no failure, but all five were in the first wave: nothing was left to skip
        '5 requested: 3 joined, 2 failed, 0 skipped; failure budget exceeded (1 failed, 0 tolerated): the rest were not started',
      ]);
      expect(run.stderr).toContain('batch-onboard: 5 request(s), 10 at a time, 0 failure(s) tolerated (10 %)');
      for (const node of ['edge-batch-a', 'edge-batch-b', 'edge-batch-c']) {
        expect(run.stderr).toContain(`▸ ${node} started as onboard-node:`);
        expect(run.stderr).toMatch(new RegExp(`✓ ${node} joined`));
      }
      expect(run.stderr).toContain('✗ edge-batch-old failed: JoinPreflightFailedError');

      for (const request of JOINABLE) {
        const node = await e2e.node(request.nodeName);
        expect([request.nodeName, readyStatus(node), internalIps(node)]).toEqual([
          request.nodeName,
          'True',
          [request.nodeIp],
        ]);
        // the old-Docker host's rollback touched no other host: every joined host still runs its edgecore
        expect((await hostState(e2e, request.instanceId)).edgecore).toBe('active');
        expect(await e2e.lease(request.nodeName)).toBeUndefined();
      }
      expect(await e2e.node('edge-batch-old')).toBeUndefined();
      expect(await e2e.node('edge-batch-badip')).toBeUndefined();
      // the preflight changed nothing, and the rollback left the host alone; the malformed request reached no host
      expect(await hostsLine(HOSTS.oldDocker)).toBe(STOCK_HOSTS_LINE);
      expect(await hostsLine(HOSTS.firewalled)).toBe(STOCK_HOSTS_LINE);
      expect(await e2e.lease('edge-batch-old')).toBeUndefined();
    },
    CLI_TIMEOUT_MS + 20_000,
  );

  it('removes the joined nodes in bulk and resets each host', async () => {
    // in-process, as the inventory starter's executions run: the CLI's view was exercised above
    const result = await runWorkflow({
      workflow: 'batch-remove',
      input: { requests: JOINABLE.map(({ nodeName }) => ({ nodeName })) },
      executionName: 'retire-e2e',
      waits: 'compressed',
      compressedWaitMs: 50,
      environment: e2e.environment,
      executionsDir: e2e.executionsDir,
    });
    expect(result.error).toBeNull();
    expect(result.output).toMatchObject({
      totals: { requested: 3, removed: 3, failed: 0, skipped: 0 },
      results: JOINABLE.map(({ nodeName }, index) => ({
        index,
        nodeName,
        status: 'removed',
        operationId: `remove-node:retire-e2e-${index}`,
      })),
    });
    for (const request of JOINABLE) {
      expect(await e2e.node(request.nodeName)).toBeUndefined();
      expect(await hostState(e2e, request.instanceId)).toEqual(CLEAN_HOST);
    }
  });
});
