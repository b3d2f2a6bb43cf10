/**
 * drift-check, the source of `statemachine/drift-check.asl.json` (`npm run asl` writes it): compares the cluster
 * and the SSM inventory with what edgekeeper expects, fixes what is safe when asked (`remediate`), stores the whole
 * report, and publishes `Edge Drift Detected` when there are findings. Its output is the report's summary, bounded
 * whatever the number of findings. State names are a contract: the docs and the CLI's progress lines name them.
 */

import { choice, lambda, onAnyError, pass, publish, type State, workflow } from './states';

/** A check's result as the workflow carries it: counts, a bounded sample, notes. */
const CHECK_RESULT = ['check', 'counts', 'sample', 'notes'];

/** Ends the run as a rejected request: `remediate` is the one input field, and it must be a boolean. */
const rejectRemediate: State = {
  Type: 'Fail',
  Error: 'InvalidRequestError',
  Cause: 'input.remediate: must be true or false',
};

/** The summary is the execution's output (the stored report holds every finding). */
const done: State = { Type: 'Pass', OutputPath: '$.drift.summary', End: true };

export const driftCheck = workflow('drift-check', {
  comment:
    'Check the edge nodes, the cluster, the SSM inventory and the logs/exec routing for drift; with remediate, fence DaemonSets, expire stale locks and restore routing (nothing else); store the report and publish Edge Drift Detected when there are findings.',
  startAt: 'Read the request',
  states: {
    'Read the request': choice({
      comment: 'remediate is optional and off by default; anything but a boolean is refused.',
      choices: [
        {
          And: [{ Variable: '$.remediate', IsPresent: true }, { Not: { Variable: '$.remediate', IsBoolean: true } }],
          Next: 'Refuse the request',
        },
        {
          And: [
            { Variable: '$.remediate', IsPresent: true },
            { Variable: '$.remediate', BooleanEquals: true },
          ],
          Next: 'Remediation on',
        },
      ],
      otherwise: 'Remediation off',
    }),
    'Refuse the request': rejectRemediate,
    'Remediation on': pass({ result: { remediate: true }, resultPath: '$.plan', next: 'Check the cluster' }),
    'Remediation off': pass({ result: { remediate: false }, resultPath: '$.plan', next: 'Check the cluster' }),
    'Check the cluster': lambda('DriftCheckCluster', {
      comment:
        'DaemonSets that can land on edge nodes, edge nodes not Ready or off cloudcore’s version, stuck pods on edge nodes, Metrics Server, edge-watcher-config, stale locks. Every list is paginated; findings are stored page by page.',
      payload: {},
      keep: CHECK_RESULT,
      resultPath: '$.cluster',
      next: 'Check the hosts',
    }),
    'Check the hosts': lambda('DriftCheckHosts', {
      comment:
        'Managed nodes whose SSM instance is gone or offline; hosts tagged as edge hosts with no node; with routing on, logs/exec routing missing or stale on the cloud hosts (one read-only command to them, awaited in the step).',
      payload: {},
      keep: CHECK_RESULT,
      resultPath: '$.hosts',
      next: 'Remediate?',
    }),
    'Remediate?': choice({
      choices: [{ Variable: '$.plan.remediate', BooleanEquals: true, Next: 'Fix what is safe' }],
      otherwise: 'Report only',
    }),
    'Fix what is safe': lambda('DriftRemediate', {
      comment:
        'Fences DaemonSets with onboarding’s own code, deletes Leases of ended executions and, with routing on, restores logs/exec routing with the routing step’s own add and remove. Never deletes a node or resets a host.',
      payload: {},
      keep: CHECK_RESULT,
      resultPath: '$.remediation',
      next: 'Write the report',
    }),
    'Report only': pass({
      comment: 'No remediation: nothing fixed.',
      result: { check: 'remediation', counts: {}, sample: [], notes: [] },
      resultPath: '$.remediation',
      next: 'Write the report',
    }),
    'Write the report': lambda('DriftReport', {
      comment: 'Stores the whole report (and latest.json), emits a metric per finding type, returns the summary.',
      payload: {
        'remediate.$': '$.plan.remediate',
        'cluster.$': '$.cluster',
        'hosts.$': '$.hosts',
        'remediation.$': '$.remediation',
      },
      selector: { 'summary.$': '$.Payload' },
      resultPath: '$.drift',
      next: 'Any findings?',
    }),
    'Any findings?': choice({
      choices: [{ Variable: '$.drift.summary.total', NumericGreaterThan: 0, Next: 'Publish drift detected' }],
      otherwise: 'Done',
    }),
    'Publish drift detected': publish({
      comment: 'Counts and where the report is; a failed publish never fails a finished check.',
      detailType: 'Edge Drift Detected',
      detail: {
        'remediate.$': '$.drift.summary.remediate',
        'total.$': '$.drift.summary.total',
        'fixed.$': '$.drift.summary.fixed',
        'open.$': '$.drift.summary.open',
        'byType.$': '$.drift.summary.byType',
        'bySeverity.$': '$.drift.summary.bySeverity',
        'report.$': '$.drift.summary.report',
      },
      catch: [onAnyError('Done', null)],
      next: 'Done',
    }),
    Done: done,
  },
});
