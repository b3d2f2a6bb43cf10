import { DescribeInstanceInformationCommand } from '@aws-sdk/client-ssm';
import type { Settings } from './settings';
import { ssmClient } from './ssm';

/** How SSM sees a managed instance, or null when it is not registered. */
export async function describeInstance(
  settings: Settings,
  instanceId: string,
): Promise<{ pingStatus: string; platformType: string } | null> {
  const { InstanceInformationList } = await ssmClient(settings).send(
    new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] }),
  );
  const instance = InstanceInformationList?.[0];
  return instance
    ? { pingStatus: instance.PingStatus ?? 'Unknown', platformType: instance.PlatformType ?? 'Unknown' }
    : null;
}
