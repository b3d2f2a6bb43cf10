import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Finding, FindingCollector, finding } from '../../../functions/drift-findings/findings';
import {
  DriftReportStoreError,
  directoryReportStore,
  discardingReportStore,
} from '../../../functions/drift-findings/report-store';
import { remediateDrift } from '../../../functions/drift-remediate/core';
import { type DriftSummary, emitDriftMetrics, writeDriftReport } from '../../../functions/drift-report/core';
import type { DaemonSet, DaemonSetPort, JsonPatchOp } from '../../../functions/shared/daemonset-fence';
import { formatDriftSummary } from '../../../local/cli/drift-view';
import { daemonSet, FENCED, lease, lockPorts } from './fakes';

const NOW = new Date('2026-12-02T08:00:00Z');
const HOLDER = (name: string) => `arn:aws:states:eu-west-1:123456789012:execution:edgekeeper-onboard-node:${name}`;
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'edgekeeper-drift-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a check that finds `count` NotReady nodes, stored page by page as the check steps do. */
async function checkWith(store: ReturnType<typeof directoryReportStore>, runId: string, findings: Finding[]) {
  let page = 0;
  const collector = new FindingCollector('cluster', (items) =>
    store.writePart(runId, `cluster-${String(++page).padStart(5, '0')}`, items),
  );
  for (const item of findings) await collector.add(item);
  return collector.result();
}

const notReady = (i: number) =>
  finding('node-not-ready', `node/edge-${i}`, `Ready=Unknown since 2026-12-01T00:00:00.000Z (1d 8h)`, 'Ready=True');

describe('the drift report', () => {
  it('keeps the execution output small at 5,000 findings and stores every one of them', async () => {
    // Prepare
    const store = directoryReportStore(dir);
    const cluster = await checkWith(
      store,
      'run-1',
      Array.from({ length: 5000 }, (_, i) => notReady(i)),
    );
    const hosts = await checkWith(store, 'run-1', []);

    // Act
    const summary = await writeDriftReport(store, { runId: 'run-1', remediate: false, checks: [cluster, hosts] }, NOW);

    // Assess
    expect(Buffer.byteLength(JSON.stringify(summary))).toBeLessThan(64 * 1024);
    expect(summary).toMatchObject({ total: 5000, open: 5000, fixed: 0, truncated: true, bySeverity: { high: 5000 } });
    expect(summary.findings).toHaveLength(10);
    const stored = JSON.parse(readFileSync(join(dir, 'run-1.json'), 'utf8'));
    expect(stored.findings).toHaveLength(5000);
    expect(stored.summary.total).toBe(5000);
    expect(JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8')).runId).toBe('run-1');
    expect(await store.readLatest()).toMatchObject({ runId: 'run-1', summary: { total: 5000 } });
    expect(summary.report).toEqual({ stored: true, location: dir, key: 'run-1.json' });
  });

  it('marks what remediation fixed, in the summary and in the stored report', async () => {
    // Prepare
    const store = directoryReportStore(dir);
    const unfenced = finding('daemonset-unfenced', 'daemonset/team/agent', 'can land', 'fenced');
    const cluster = await checkWith(store, 'run-2', [unfenced, notReady(1)]);
    let page = 0;
    const fixes = new FindingCollector('remediation', (items) =>
      store.writePart('run-2', `fixes-${String(++page).padStart(5, '0')}`, items),
    );
    await fixes.add({ ...unfenced, fixed: true });
    const remediation = await fixes.result();

    // Act
    const summary = await writeDriftReport(
      store,
      { runId: 'run-2', remediate: true, checks: [cluster], remediation },
      NOW,
    );

    // Assess
    expect(summary).toMatchObject({ total: 2, fixed: 1, open: 1, bySeverity: { high: 1, medium: 0, low: 0 } });
    expect(summary.byType['daemonset-unfenced']).toEqual({ severity: 'high', fix: 'automatic', count: 1, fixed: 1 });
    expect(summary.findings.map((item) => [item.object, item.fixed])).toEqual([
      ['node/edge-1', undefined],
      ['daemonset/team/agent', true],
    ]);
    const stored = JSON.parse(readFileSync(join(dir, 'run-2.json'), 'utf8'));
    expect(stored.findings.find((item: Finding) => item.type === 'daemonset-unfenced').fixed).toBe(true);
  });

  it('says where a deployment without a report store kept nothing, and still summarises', async () => {
    // Prepare
    const store = discardingReportStore('no report bucket');
    const cluster = await checkWith(store, 'run-5', [notReady(1)]);

    // Act
    const summary = await writeDriftReport(store, { runId: 'run-5', remediate: false, checks: [cluster] }, NOW);

    // Assess
    expect(summary).toMatchObject({ total: 1, report: { stored: false, location: 'not stored: no report bucket' } });
    expect(summary.findings).toHaveLength(1);
    expect(await store.readLatest()).toBeNull();
  });

  it('refuses a run id that could leave the store’s directory', async () => {
    const store = directoryReportStore(dir);
    await expect(store.writePart('../etc', 'cluster-00001', [])).rejects.toThrow(DriftReportStoreError);
    await expect(store.writePart('../etc', 'cluster-00001', [])).rejects.toThrow(/run id "\.\.\/etc" must match/);
  });

  it('emits every finding type and severity, zeros included, so an alarm always has data', async () => {
    // Prepare
    const store = directoryReportStore(dir);
    const cluster = await checkWith(store, 'run-3', [notReady(1)]);
    const summary = await writeDriftReport(store, { runId: 'run-3', remediate: false, checks: [cluster] }, NOW);
    const emitted: string[] = [];

    // Act
    emitDriftMetrics(summary, (name, dimension, count) => emitted.push(`${name} ${dimension.value} ${count}`));

    // Assess
    expect(emitted).toContain('DriftFindings node-not-ready 1');
    expect(emitted).toContain('DriftFindings daemonset-unfenced 0');
    expect(emitted.filter((line) => line.startsWith('DriftOpenFindings'))).toEqual([
      'DriftOpenFindings high 1',
      'DriftOpenFindings medium 0',
      'DriftOpenFindings low 0',
    ]);
  });

  it('shows a table per severity in the CLI', async () => {
    // Prepare
    const store = directoryReportStore(dir);
    const cluster = await checkWith(store, 'run-4', [
      notReady(1),
      finding('stale-lock', 'lease/kube-system/edgekeeper-node-a', 'held by x (ended)', 'no Lease'),
    ]);
    const summary: DriftSummary = await writeDriftReport(
      store,
      { runId: 'run-4', remediate: false, checks: [cluster] },
      NOW,
    );

    // Act
    const text = formatDriftSummary(summary);

    // Assess
    expect(text).toContain('2 finding(s): 2 open, 0 fixed (report only, run run-4).');
    expect(text).toMatch(/HIGH\n {2}TYPE +OBJECT +SEEN +FIX\n {2}node-not-ready +node\/edge-1 +Ready=Unknown/);
    expect(text).toMatch(
      /MEDIUM\n.*\n {2}stale-lock +lease\/kube-system\/edgekeeper-node-a +held by x \(ended\) +automatic/,
    );
    expect(text).toContain(`Report: ${dir}/run-4.json`);
  });
});

describe('drift remediation', () => {
  it('fences unfenced DaemonSets with onboarding’s patch and deletes only the locks of ended holders', async () => {
    // Prepare
    const daemonSets: DaemonSet[] = [daemonSet('team', 'agent'), daemonSet('kube-system', 'kube-proxy', FENCED)];
    const patches: { name: string; patch: readonly JsonPatchOp[] }[] = [];
    const port: DaemonSetPort = {
      listDaemonSets: async () => daemonSets,
      readDaemonSet: async (namespace, name) =>
        daemonSets.find((item) => item.metadata.name === name && item.metadata.namespace === namespace) ?? null,
      patchDaemonSet: async (_namespace, name, patch) => {
        patches.push({ name, patch });
        return 'patched';
      },
    };
    const locks = lockPorts(
      [lease('edgekeeper-node-a', HOLDER('dead'), { node: 'a' }), lease('edgekeeper-node-b', HOLDER('alive'))],
      { [HOLDER('dead')]: 'ended', [HOLDER('alive')]: 'running' },
    );
    const collector = new FindingCollector('remediation', async () => undefined);

    // Act
    await remediateDrift({ daemonSets: port, locks }, { allowlist: [] }, collector, NOW);
    const result = await collector.result();

    // Assess
    expect(patches.map((item) => item.name)).toEqual(['agent']);
    expect(patches[0].patch).toContainEqual(
      expect.objectContaining({ op: 'add', path: '/spec/template/spec/affinity' }),
    );
    expect(locks.deleted).toEqual(['edgekeeper-node-a']);
    expect(result.counts).toEqual({ 'daemonset-unfenced': 1, 'stale-lock': 1 });
    expect(result.sample.every((item) => item.fixed)).toBe(true);
  });

  it('leaves a Lease that changed after it was judged stale, and says so', async () => {
    // Prepare
    const stale = lease('edgekeeper-node-a', HOLDER('dead'), { node: 'a' });
    const locks = lockPorts([stale], { [HOLDER('dead')]: 'ended' });
    const racing = {
      ...locks,
      leases: {
        ...locks.leases,
        deleteLease: async () => 'conflict' as const,
      },
    };
    const collector = new FindingCollector('remediation', async () => undefined);
    const none: DaemonSetPort = {
      listDaemonSets: async () => [],
      readDaemonSet: async () => null,
      patchDaemonSet: async () => 'gone',
    };

    // Act
    await remediateDrift({ daemonSets: none, locks: racing }, { allowlist: [] }, collector, NOW);
    const result = await collector.result();

    // Assess
    expect(result.counts).toEqual({});
    expect(result.notes).toEqual([
      'lease/kube-system/edgekeeper-node-a changed while being expired (renewed or taken): left',
    ]);
  });
});
