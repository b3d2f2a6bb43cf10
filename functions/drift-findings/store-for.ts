import { dirname, join } from 'node:path';
import type { Settings } from '../shared/settings';
import { type DriftReportStore, directoryReportStore, discardingReportStore } from './report-store';
import { s3ReportStore } from './s3-report-store';

/**
 * The report store of the current environment: locally (the local runtime gives its execution registry), the
 * directory `drift-reports` beside the execution records, e.g. `<sandbox>/drift-reports`; deployed, the stack's
 * bucket (docs/adr/0011-drift-reports.md). A deployment without the bucket's name still checks and says in its
 * summary that the whole report was not kept.
 */
export function reportStoreFor(
  settings: Pick<Settings, 'localExecutionsDir' | 'driftReportBucket' | 'requestTimeoutSeconds'>,
): DriftReportStore {
  if (settings.localExecutionsDir) {
    return directoryReportStore(join(dirname(settings.localExecutionsDir), 'drift-reports'));
  }
  if (settings.driftReportBucket) return s3ReportStore(settings, { bucket: settings.driftReportBucket });
  return discardingReportStore('no report bucket: EDGEKEEPER_DRIFT_REPORT_BUCKET is not set');
}
