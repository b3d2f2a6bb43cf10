import { STEP_NAMES, STEPS, type StepName } from '../../functions/registry';
import { SETTINGS_ENV } from '../../functions/shared/settings';
import { grantsOf } from '../../lib/iam-table';
import { synthTemplate } from './synth';

const { template } = synthTemplate();
const json = template.toJSON() as Parameters<typeof grantsOf>[0];
const grants = grantsOf(json);

type Resource = { Properties: Record<string, unknown> };
const resourcesOf = (type: string) => template.findResources(type) as Record<string, Resource>;

/** The one bucket of the stack and its readable id, as docs/iam.md writes it (`<DriftReportsBucket….Arn>`). */
function reportBucket(): { id: string; properties: Record<string, unknown> } {
  const buckets = Object.entries(resourcesOf('AWS::S3::Bucket'));
  expect(buckets).toHaveLength(1);
  const [id, bucket] = buckets[0] as [string, Resource];
  return { id, properties: bucket.Properties };
}

/** A step's function and its role's readable name (the grants' `role`). */
function stepFunction(name: StepName): { properties: Record<string, unknown>; role: string } {
  const fn = Object.values(resourcesOf('AWS::Lambda::Function')).find(
    (f) => f.Properties.Description === STEPS[name].description,
  );
  if (!fn) throw new Error(`no function with the description of step ${name}`);
  const roleId = (fn.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0] as string;
  return { properties: fn.Properties, role: roleId.replace(/[0-9A-F]{8}$/, '') };
}

const s3Grants = (role: string) =>
  grants
    .filter((g) => g.role === role && g.action.startsWith('s3:'))
    .map((g) => `${g.action} ${g.resource}${g.condition ? ` if ${g.condition}` : ''}`)
    .sort();

const readerSteps = STEP_NAMES.filter((name) => (STEPS[name].uses as readonly string[]).includes('s3:drift-reports'));

describe('the drift-report bucket', () => {
  it('is encrypted, TLS only, never public, and expires reports after drift.reportRetentionDays (90)', () => {
    // Prepare
    const { id, properties } = reportBucket();

    // Assess
    expect(properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    expect(properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(properties.LifecycleConfiguration).toEqual({
      Rules: [
        {
          Id: 'expire-drift-reports',
          Prefix: 'drift-reports/',
          ExpirationInDays: 90,
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          Status: 'Enabled',
        },
      ],
    });
    const policy = Object.values(resourcesOf('AWS::S3::BucketPolicy')).find(
      (p) => JSON.stringify(p.Properties.Bucket) === JSON.stringify({ Ref: id }),
    );
    expect(JSON.stringify(policy?.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
  });

  it('is reached by the four drift steps, and by the REST API for the latest report (test/infra/api.test.ts)', () => {
    // Assess
    expect(readerSteps.sort()).toEqual(['DriftCheckCluster', 'DriftCheckHosts', 'DriftRemediate', 'DriftReport']);
    const withS3 = new Set(grants.filter((g) => g.action.startsWith('s3:')).map((g) => g.role));
    expect([...withS3].sort()).toEqual(
      [...readerSteps.map((name) => stepFunction(name).role), 'ApiHandlerFunctionServiceRole'].sort(),
    );
  });

  it.each(readerSteps)('grants %s objects under drift-reports/ only, and the listing of that prefix', (name) => {
    // Prepare
    const bucket = `<${reportBucket().id.replace(/[0-9A-F]{8}$/, '')}.Arn>`;

    // Act
    const held = s3Grants(stepFunction(name).role);

    // Assess
    expect(held).toEqual([
      `s3:GetObject ${bucket}/drift-reports/*`,
      `s3:ListBucket ${bucket} if StringLike s3:prefix = drift-reports/*`,
      `s3:PutObject ${bucket}/drift-reports/*`,
    ]);
  });

  it.each(readerSteps)('gives %s the bucket name as its setting', (name) => {
    // Prepare
    const { id } = reportBucket();

    // Act
    const { Variables } = stepFunction(name).properties.Environment as { Variables: Record<string, unknown> };

    // Assess
    expect(Variables[SETTINGS_ENV.driftReportBucket]).toEqual({ Ref: id });
  });
});
