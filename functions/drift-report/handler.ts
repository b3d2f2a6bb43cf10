import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { reportStoreFor } from '../drift-findings/store-for';
import { metrics } from '../shared/powertools';
import { readSettings } from '../shared/settings';
import { defineStep } from '../shared/step';
import { emitDriftMetrics, writeDriftReport } from './core';
import { DriftReportInput } from './input';

/** Stores the run's whole report, emits a count per finding type, and returns the summary. */
export const handler = defineStep(
  'DriftReport',
  DriftReportInput,
  async ({ operationId, remediate, cluster, hosts, remediation }) => {
    const settings = readSettings();
    // the schema checked every type name against FINDING_TYPES; zod's record cannot carry the key type
    type Parsed = Parameters<typeof writeDriftReport>[1];
    const summary = await writeDriftReport(
      reportStoreFor(settings),
      {
        runId: operationId,
        remediate,
        checks: [cluster, hosts] as Parsed['checks'],
        remediation: remediation as Parsed['remediation'],
      },
      new Date(),
    );
    emitDriftMetrics(summary, (name, dimension, count) => {
      metrics.addDimension(dimension.name, dimension.value);
      metrics.addMetric(name, MetricUnit.Count, count);
      // one flush per dimension value: EMF puts one dimension set on every metric of a flush
      metrics.publishStoredMetrics();
    });
    return summary;
  },
);
