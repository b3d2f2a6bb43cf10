import { Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';

/**
 * A VPC and subnets imported into `scope` from their ids alone, so `cdk synth` needs no account and looks nothing
 * up; `placed` names what goes into the subnets (`Lambda`, `load balancer`), for the acknowledgement of the route
 * table warning.
 */
export function importSubnets(
  scope: Construct,
  vpcId: string,
  subnetIds: readonly string[],
  placed: string,
): { readonly vpc: ec2.IVpc; readonly subnets: ec2.ISubnet[] } {
  const vpc = ec2.Vpc.fromVpcAttributes(scope, 'Vpc', {
    vpcId,
    // required by the import, unused: the subnets are selected by id, never by zone
    availabilityZones: Stack.of(scope).availabilityZones,
  });
  const subnets = subnetIds.map((subnetId) => {
    const subnet = ec2.Subnet.fromSubnetId(scope, subnetId, subnetId);
    Validations.of(subnet).acknowledge({
      id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId',
      reason: `a ${placed} placement needs the subnet id only; nothing in the stack reads or adds a route`,
    });
    return subnet;
  });
  return { vpc, subnets };
}
