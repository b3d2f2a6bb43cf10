import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DRIFT_REPORT_PREFIX } from '../../functions/drift-findings/s3-report-store';

export interface DriftReportBucketProps {
  /** setting `drift.reportRetentionDays`: how long a run's report (and its parts) is kept */
  readonly retentionDays: number;
}

/**
 * Where deployed drift checks store their reports (docs/adr/0011-drift-reports.md): encrypted with S3-managed keys,
 * TLS only, never public, every report expiring after the retention. Only the drift steps reach it, under
 * `drift-reports/` only (lib/constructs/step-lambda.ts, use `s3:drift-reports`).
 */
export class DriftReportBucket extends Construct {
  public readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: DriftReportBucketProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          id: 'expire-drift-reports',
          prefix: DRIFT_REPORT_PREFIX,
          expiration: Duration.days(props.retentionDays),
          // a report upload a failed run left open: the steps hold no s3:AbortMultipartUpload
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      // reports are operational history, not the system of record: a deleted stack keeps them until retention
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'only the drift steps write here, under one prefix; CloudTrail data events are the audit trail if one is wanted, not a second bucket of access logs',
    });
  }
}
