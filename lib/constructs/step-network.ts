import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import type { NetworkConfig } from '../config';
import { importSubnets } from './imported-subnets';

/** Where a step Lambda runs: the VPC, its subnets and the security groups of its network interfaces. */
export interface StepPlacement {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly securityGroups: ec2.ISecurityGroup[];
}

/**
 * The network every step runs in when the setting `network` names a VPC. The VPC and the subnets are imported
 * from their ids alone, so `cdk synth` needs no account and looks nothing up. Without `securityGroupIds`, one group
 * is created for all steps: no inbound rule (nothing calls a Lambda over its network interface) and only HTTPS out,
 * which is all the steps speak: the Kubernetes API server, SSM and Step Functions, reached through interface
 * endpoints or a NAT gateway (docs/operating.md). The EKS token is signed in the function (EKS, not the step, sends
 * it to STS) and the workflows, not the steps, publish to EventBridge.
 */
export class StepNetwork extends Construct {
  public readonly placement: StepPlacement;
  /** the group this construct created, absent when the setting names the groups */
  public readonly securityGroup?: ec2.SecurityGroup;

  constructor(
    scope: Construct,
    id: string,
    network: NetworkConfig & { readonly vpcId: string; readonly subnetIds: readonly string[] },
  ) {
    super(scope, id);
    const { vpc, subnets } = importSubnets(this, network.vpcId, network.subnetIds, 'Lambda');
    let securityGroups: ec2.ISecurityGroup[];
    if (network.securityGroupIds && network.securityGroupIds.length > 0) {
      // the operator's groups are theirs: the stack adds no rule to them
      securityGroups = network.securityGroupIds.map((groupId) =>
        ec2.SecurityGroup.fromSecurityGroupId(this, groupId, groupId, { mutable: false }),
      );
    } else {
      this.securityGroup = new ec2.SecurityGroup(this, 'StepsSecurityGroup', {
        vpc,
        description: 'edgekeeper steps: HTTPS out only (Kubernetes API server and AWS endpoints)',
        allowAllOutbound: false,
      });
      this.securityGroup.addEgressRule(
        ec2.Peer.anyIpv4(),
        ec2.Port.tcp(443),
        'HTTPS to the Kubernetes API server and to STS, SSM, Step Functions and EventBridge',
      );
      securityGroups = [this.securityGroup];
    }
    this.placement = { vpc, vpcSubnets: { subnets }, securityGroups };
  }
}

/** The placement the config asks for, or undefined when it names no VPC (the steps then run outside any VPC). */
export function stepNetwork(scope: Construct, network: NetworkConfig): StepNetwork | undefined {
  const { vpcId, subnetIds } = network;
  if (vpcId === undefined) return undefined;
  // parseConfig has already refused a VPC without subnets; this keeps a direct caller to the same rule
  if (!subnetIds || subnetIds.length === 0)
    throw new Error('edgekeeper.network.subnetIds: at least one subnet id is required when vpcId is given');
  return new StepNetwork(scope, 'StepNetwork', { ...network, vpcId, subnetIds });
}
