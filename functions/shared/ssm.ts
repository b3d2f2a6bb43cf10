import { SSMClient } from '@aws-sdk/client-ssm';
import type { Settings } from './settings';

const clients = new Map<string, SSMClient>();

/**
 * The one SSM client of a Lambda (or of a local run). The sandbox overrides the endpoint; everything else —
 * region, credentials, retries — comes from the standard AWS SDK configuration chain.
 */
export function ssmClient(settings: Settings): SSMClient {
  const key = settings.ssmEndpoint ?? 'aws';
  let client = clients.get(key);
  if (!client) {
    client = new SSMClient(settings.ssmEndpoint ? { endpoint: settings.ssmEndpoint } : {});
    clients.set(key, client);
  }
  return client;
}
