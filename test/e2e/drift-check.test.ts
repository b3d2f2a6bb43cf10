import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { DriftSummary } from '../../functions/drift-report/core';
import { EXIT, type Io, main } from '../../local/cli/program';
import { type PublishedEvent, runWorkflow } from '../../local/runtime';
import { E2E, EDGE_EXCLUSION, HOSTS, readyStatus, requiredTerms } from './harness';

const run = promisify(execFile);

/** A DaemonSet as a person might install one: it tolerates every taint and names no node affinity. */
const TOLERATE_ALL = `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: log-shipper, namespace: default }
spec:
  selector: { matchLabels: { app: log-shipper } }
  template:
    metadata: { labels: { app: log-shipper } }
    spec:
      tolerations: [{ operator: Exists }]
      containers: [{ name: shipper, image: example/log-shipper:1.0 }]
`;

let e2e: E2E;

beforeAll(async () => {
  e2e = await E2E.start({ prefix: 'edgekeeper-e2e-drift-' });
  const joined = await e2e.onboard({ nodeName: 'edge-1', nodeIp: '10.20.0.11', instanceId: HOSTS.ubuntuAmd64 });
  expect(joined.result.error).toBeNull();
});

afterAll(async () => {
  await e2e?.stop();
});

/** Runs drift-check in-process as the CLI does; returns its summary and what it published. */
async function drift(remediate = false): Promise<{ summary: DriftSummary; published: PublishedEvent[] }> {
  const published: PublishedEvent[] = [];
  const result = await runWorkflow({
    workflow: 'drift-check',
    input: { remediate },
    waits: 'compressed',
    compressedWaitMs: 50,
    onPublish: (event) => published.push(event),
    environment: e2e.environment,
    executionsDir: e2e.executionsDir,
  });
  expect(result.error).toBeNull();
  return { summary: result.output as DriftSummary, published };
}

/** `[type, object]` of every finding the summary shows. */
const found = (summary: DriftSummary) => summary.findings.map((item) => [item.type, item.object]).sort();

/** The CLI in this process, output captured. */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = {
    stdout: (text) => {
      out += text;
    },
    stderr: (text) => {
      err += text;
    },
    env: {},
    color: false,
    onStop: () => () => undefined,
  };
  const code = await main(argv, io);
  return { code, out, err };
}

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await run('/usr/bin/kubectl', ['--cache-dir', join(e2e.dir, 'kube-cache'), ...args], {
    env: { ...process.env, KUBECONFIG: e2e.kubeconfig },
  });
  return stdout;
}

async function waitForReady(nodeName: string, status: string): Promise<void> {
  for (let i = 0; i < 100 && readyStatus(await e2e.node(nodeName)) !== status; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(readyStatus(await e2e.node(nodeName))).toBe(status);
}

describe('drift-check on the sandbox', () => {
  it('reports no finding right after a join, and publishes nothing', async () => {
    const { summary, published } = await drift();
    expect(summary).toMatchObject({ total: 0, open: 0, findings: [], report: { stored: true } });
    expect(published).toEqual([]);
  });

  it('reports a tolerate-everything DaemonSet and a node whose edgecore stopped', async () => {
    writeFileSync(join(e2e.dir, 'log-shipper.yaml'), TOLERATE_ALL);
    await kubectl('apply', '--validate=false', '-f', join(e2e.dir, 'log-shipper.yaml'));
    expect(await e2e.daemonSetPodsOn('edge-1')).toContain('default/log-shipper');
    const stopped = await e2e.hostRun(HOSTS.ubuntuAmd64, 'systemctl stop edgecore');
    expect(stopped.status).toBe('Success');
    await waitForReady('edge-1', 'Unknown');

    const { summary, published } = await drift();

    expect(found(summary)).toEqual([
      ['daemonset-unfenced', 'daemonset/default/log-shipper'],
      ['node-not-ready', 'node/edge-1'],
    ]);
    expect(summary.findings.find((item) => item.type === 'node-not-ready')?.seen).toMatch(/^Ready=Unknown .*since/);
    expect(published).toEqual([
      expect.objectContaining({
        detailType: 'Edge Drift Detected',
        detail: expect.objectContaining({ total: 2, open: 2, bySeverity: { high: 2, medium: 0, low: 0 } }),
      }),
    ]);
  });

  it('--remediate fences the DaemonSet with onboarding’s exclusion and leaves the NotReady node alone', async () => {
    const { code, out } = await cli('drift', '--sandbox', e2e.dir, '--remediate');

    expect(code).toBe(EXIT.ok);
    expect(out).toContain('2 finding(s): 1 open, 1 fixed (with remediation');
    expect(out).toMatch(/daemonset-unfenced +daemonset\/default\/log-shipper .* fixed/);
    expect(out).toMatch(/node-not-ready +node\/edge-1 .* manual/);
    const terms = requiredTerms(await e2e.daemonSet('default', 'log-shipper'));
    expect(terms).toEqual([{ matchExpressions: [EDGE_EXCLUSION] }]);
    expect(await e2e.daemonSetPodsOn('edge-1')).not.toContain('default/log-shipper');
    expect(readyStatus(await e2e.node('edge-1'))).toBe('Unknown');
    // the host is left as it was: edgecore still stopped, nothing reset
    const edgecore = await e2e.hostRun(HOSTS.ubuntuAmd64, 'systemctl is-active edgecore || true');
    expect(edgecore.stdout.trim()).toBe('inactive');
  });

  it('then reports only the NotReady node', async () => {
    const { summary } = await drift();
    expect(found(summary)).toEqual([['node-not-ready', 'node/edge-1']]);
  });

  it('reports the locks a killed onboarding left, and --remediate clears them', async () => {
    // stopped at once right after it took its locks, as a second Ctrl-C (or a crash) leaves them: the record says
    // the execution ended, nothing released them (test/e2e/faults kills a real process at the same point)
    const kill = new AbortController();
    const killed = await runWorkflow({
      workflow: 'onboard-node',
      input: { nodeName: 'edge-2', nodeIp: '10.20.0.12', instanceId: HOSTS.ubuntuArm64Containerd, taint: true },
      waits: 'compressed',
      compressedWaitMs: 50,
      environment: e2e.environment,
      executionsDir: e2e.executionsDir,
      stopNow: kill.signal,
      hooks: { afterTask: ({ state }) => (state === 'Lock the node' ? kill.abort('killed') : undefined) },
    });
    expect(killed.status).toBe('ABORTED');
    expect(await e2e.lease('edge-2')).toBeDefined();

    const before = await drift();
    const stale = before.summary.findings.filter((item) => item.type === 'stale-lock').map((item) => item.object);
    expect(stale.sort()).toEqual([
      'lease/kube-system/edgekeeper-instance-mi-0ed9e000000000002',
      'lease/kube-system/edgekeeper-ip-10.20.0.12',
      'lease/kube-system/edgekeeper-node-edge-2',
    ]);

    const fixed = await drift(true);
    expect(fixed.summary.byType['stale-lock']).toMatchObject({ count: 3, fixed: 3 });
    expect(await e2e.lease('edge-2')).toBeUndefined();
    const after = await drift();
    expect(found(after.summary)).toEqual([['node-not-ready', 'node/edge-1']]);
  });
});
