import { traced } from './powertools';

/** The request handler options every SDK client of the steps gets: each HTTP request bounded by the timeout. */
export interface RequestTimeouts {
  readonly connectionTimeout: number;
  readonly requestTimeout: number;
}

const clients = new Map<string, unknown>();

/**
 * One traced AWS SDK client per service, endpoint and request timeout, built by `create` on its first use and kept
 * while the Lambda is warm (a local run may reach several endpoints). Each HTTP request is bounded by the timeout;
 * each call as a whole, SDK retries included, by its caller's abort signal.
 */
export function sdkClient<Client>(
  service: string,
  endpoint: string | undefined,
  timeoutMs: number,
  create: (requestHandler: RequestTimeouts) => Client,
): Client {
  const key = `${service} ${endpoint ?? 'aws'} ${timeoutMs}`;
  let client = clients.get(key) as Client | undefined;
  if (!client) {
    client = traced(create({ connectionTimeout: timeoutMs, requestTimeout: timeoutMs }));
    clients.set(key, client);
  }
  return client;
}
