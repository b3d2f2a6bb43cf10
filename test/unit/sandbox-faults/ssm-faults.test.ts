import { DescribeInstanceInformationCommand, SSMClient } from '@aws-sdk/client-ssm';
import { FaultPlan } from '../../../local/sandbox/faults';
import { CommandRunner } from '../../../local/sandbox/hosts/commands';
import { type SsmEndpoint, startSsmEndpoint } from '../../../local/sandbox/hosts/ssm-endpoint';

/** The sandbox's SSM endpoint with fault rules, called by the real SDK with its own retries off. */
describe('sandbox fault hooks: the SSM endpoint', () => {
  let faults: FaultPlan;
  let endpoint: SsmEndpoint;
  let client: SSMClient;
  beforeEach(async () => {
    faults = new FaultPlan();
    endpoint = await startSsmEndpoint({ runner: new CommandRunner(new Map()), instances: [], faults });
    client = new SSMClient({
      endpoint: endpoint.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
      maxAttempts: 1,
    });
  });
  afterEach(async () => {
    client.destroy();
    await endpoint.stop();
  });

  const describeInstances = () => client.send(new DescribeInstanceInformationCommand({}));

  it('throttles the next matching request as SSM does, then serves again', async () => {
    faults.inject({ service: 'ssm', operation: 'DescribeInstanceInformation', fault: { kind: 'throttle' } });
    await expect(describeInstances()).rejects.toMatchObject({ name: 'ThrottlingException' });
    await expect(describeInstances()).resolves.toMatchObject({ InstanceInformationList: [] });
    expect(faults.history()).toHaveLength(1);
  });

  it('answers 5xx for as many requests as asked', async () => {
    faults.inject({ service: 'ssm', times: 2, fault: { kind: 'status', status: 503 } });
    for (let i = 0; i < 2; i++) {
      await expect(describeInstances()).rejects.toMatchObject({ $metadata: { httpStatusCode: 503 } });
    }
    await expect(describeInstances()).resolves.toBeDefined();
  });

  it('leaves requests of other operations alone', async () => {
    faults.inject({ service: 'ssm', operation: 'SendCommand', fault: { kind: 'throttle' } });
    await expect(describeInstances()).resolves.toBeDefined();
    expect(faults.pending()).toBe(1);
  });

  it('resets the connection', async () => {
    faults.inject({ service: 'ssm', fault: { kind: 'reset' } });
    await expect(describeInstances()).rejects.toThrow(/ECONNRESET|socket hang up|EPIPE/);
  });

  it('refuses connections for a while, then listens on the same port again', async () => {
    const refusing = faults.refuseConnections('ssm', 300);
    // the listener closes at once: a request now finds no one
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(describeInstances()).rejects.toThrow(/ECONNREFUSED/);
    await refusing;
    await expect(describeInstances()).resolves.toBeDefined();
  });
});
