import type { CheckResult } from '../../functions/drift-findings/findings';
import { finding } from '../../functions/drift-findings/findings';
import type { DriftSummary } from '../../functions/drift-report/core';
import type { StepName } from '../../functions/registry';
import { type PublishedEvent, runWorkflow } from '../../local/runtime';
import { asHandlers, type StepInput, type Stubs } from './stubs';

const EMPTY: CheckResult = { check: 'hosts', counts: {}, sample: [], notes: [] };
const UNFENCED = finding('daemonset-unfenced', 'daemonset/team/agent', 'can land on edge nodes', 'fenced');

function summaryOf(input: StepInput, total: number): DriftSummary {
  return {
    runId: String(input.operationId),
    finishedAt: '2026-12-02T08:00:00.000Z',
    remediate: input.remediate as boolean,
    total,
    fixed: 0,
    open: total,
    byType: total ? { 'daemonset-unfenced': { severity: 'high', fix: 'automatic', count: total, fixed: 0 } } : {},
    bySeverity: { high: total, medium: 0, low: 0 },
    findings: total ? [UNFENCED] : [],
    truncated: false,
    notes: [],
    report: { stored: true, location: '/reports', key: `${input.operationId}.json` },
  };
}

/** Runs drift-check with stub steps; records which ran with what, and what was published. */
async function driftWith(input: unknown, total: number) {
  const calls: { name: StepName; input: StepInput }[] = [];
  const published: PublishedEvent[] = [];
  const check = (result: CheckResult) => async (stepInput: StepInput) => {
    calls.push({ name: 'DriftCheckCluster', input: stepInput });
    return result;
  };
  const stubs: Stubs = {
    DriftCheckCluster: check({ check: 'cluster', counts: { 'daemonset-unfenced': total }, sample: [], notes: [] }),
    DriftCheckHosts: async (stepInput) => {
      calls.push({ name: 'DriftCheckHosts', input: stepInput });
      return EMPTY;
    },
    DriftRemediate: async (stepInput) => {
      calls.push({ name: 'DriftRemediate', input: stepInput });
      return { check: 'remediation', counts: {}, sample: [], notes: [] };
    },
    DriftReport: async (stepInput) => {
      calls.push({ name: 'DriftReport', input: stepInput });
      return summaryOf(stepInput, total);
    },
  };
  const result = await runWorkflow({
    workflow: 'drift-check',
    input,
    executionName: 'drift-1',
    handlers: asHandlers(stubs),
    onPublish: (event) => published.push(event),
  });
  return { result, calls, published };
}

describe('drift-check workflow', () => {
  it('checks, writes the report without remediation by default, and returns the summary', async () => {
    const { result, calls, published } = await driftWith({}, 0);

    expect(result.status).toBe('SUCCEEDED');
    expect(calls.map((call) => call.name)).toEqual(['DriftCheckCluster', 'DriftCheckHosts', 'DriftReport']);
    expect(calls[2].input).toMatchObject({
      operationId: 'drift-1',
      remediate: false,
      remediation: { check: 'remediation', counts: {}, sample: [], notes: [] },
    });
    expect(result.output).toMatchObject({ runId: 'drift-1', total: 0 });
    expect(published).toEqual([]);
  });

  it('remediates when asked, then publishes Edge Drift Detected with the counts and where the report is', async () => {
    const { result, calls, published } = await driftWith({ remediate: true }, 1);

    expect(result.status).toBe('SUCCEEDED');
    expect(calls.map((call) => call.name)).toContain('DriftRemediate');
    expect(calls.at(-1)?.input).toMatchObject({ remediate: true });
    expect(published).toEqual([
      {
        source: 'edgekeeper',
        detailType: 'Edge Drift Detected',
        eventBusName: 'edgekeeper-events',
        detail: {
          operationId: 'drift-1',
          remediate: true,
          total: 1,
          fixed: 0,
          open: 1,
          byType: { 'daemonset-unfenced': { severity: 'high', fix: 'automatic', count: 1, fixed: 0 } },
          bySeverity: { high: 1, medium: 0, low: 0 },
          report: { stored: true, location: '/reports', key: 'drift-1.json' },
        },
      },
    ]);
  });

  it('fails a remediate that is not a boolean, naming the field, before any step runs', async () => {
    const { result, calls } = await driftWith({ remediate: 'yes' }, 0);

    expect(result.status).toBe('FAILED');
    expect(result.error).toEqual({ name: 'InvalidRequestError', message: 'input.remediate: must be true or false' });
    expect(calls).toEqual([]);
  });
});
