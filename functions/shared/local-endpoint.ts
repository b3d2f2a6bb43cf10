import { currentEnvironment } from './settings';

/**
 * The client options of an AWS SDK client whose endpoint a local run overrides (the sandbox's SSM and DynamoDB, the
 * local runtime's Step Functions): the endpoint, and the region and dummy credentials of the step's environment,
 * which the local runtime gives through `runWithEnvironment` without touching process.env; absent there, the SDK's
 * chain decides. Without an endpoint, nothing: the SDK's standard configuration reaches AWS.
 */
export function endpointOverride(endpoint: string | undefined): {
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
} {
  if (!endpoint) return {};
  const env = currentEnvironment();
  return {
    endpoint,
    ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}),
    ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? { credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } }
      : {}),
  };
}
