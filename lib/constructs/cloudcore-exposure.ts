import { ArnFormat, CfnOutput, Fn, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as elbv2Targets from 'aws-cdk-lib/aws-elasticloadbalancingv2-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { CloudcorePorts } from '../../functions/shared/kubeedge-schemas';
import { SETTINGS_ENV } from '../../functions/shared/settings';
import { pascalCase } from '../asl';
import type { CloudcoreExposureConfig } from '../operations-settings';
import { importSubnets } from './imported-subnets';

/** cloudcore's five ports and how each travels: QUIC is UDP, the rest TCP (docs/kubeedge.md §2 and §4). */
export const CLOUDCORE_PORT_PROTOCOLS: Readonly<Record<keyof CloudcorePorts, elbv2.Protocol>> = Object.freeze({
  cloudhub: elbv2.Protocol.TCP,
  quic: elbv2.Protocol.UDP,
  https: elbv2.Protocol.TCP,
  stream: elbv2.Protocol.TCP,
  tunnel: elbv2.Protocol.TCP,
});

/** The construct id of the function behind every AwsCustomResource of a stack (aws-cdk-lib's fixed singleton). */
const AWS_CUSTOM_RESOURCE_PROVIDER_ID = 'AWS679f53fac002430cb0da5b7982bd2287';

export interface CloudcoreExposureProps {
  /** setting `cloudcoreExposure`, enabled and complete (lib/operations-settings.ts checked it) */
  readonly exposure: CloudcoreExposureConfig & { readonly vpcId: string };
  /** the public ports edge hosts dial (setting `cloudcore.ports`): the listeners' ports */
  readonly listenerPorts: CloudcorePorts;
}

/**
 * KubeSphere's port-forwarding table as infrastructure, for a cloudcore the edge cannot reach directly (behind a
 * firewall, in private subnets): a Network Load Balancer whose listeners on cloudcore's public ports (10000–10004 by
 * default, 10001 UDP for QUIC) forward to cloudcore's NodePorts (30000–30004) on the cluster nodes, named by
 * instance id or by Auto Scaling group. Its security group lets in only the configured CIDRs, on those ports, and
 * lets out only the NodePorts. Its address becomes cloudcore's public address in the steps' settings.
 */
export class CloudcoreExposure extends Construct {
  public readonly loadBalancer: elbv2.NetworkLoadBalancer;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly targetGroups: readonly elbv2.NetworkTargetGroup[];
  /** the Elastic IPs of an internet-facing load balancer, one per subnet; none for an internal one */
  public readonly publicIps: readonly ec2.CfnEIP[];

  constructor(scope: Construct, id: string, props: CloudcoreExposureProps) {
    super(scope, id);
    const { exposure } = props;
    const { vpc, subnets } = importSubnets(this, exposure.vpcId, exposure.subnetIds, 'load balancer');
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: 'edgekeeper cloudcore load balancer: cloudcore ports from the edge CIDRs, NodePorts to the nodes',
      allowAllOutbound: false,
    });
    // Internet-facing, each zone's node gets an Elastic IP of the stack's: a fixed address cloudcore can put in its
    // certificate (cloudHub.advertiseAddress takes IPs) before the first edge host joins
    this.publicIps = exposure.internetFacing
      ? subnets.map((subnet) => new ec2.CfnEIP(this, `${subnet.subnetId}Address`, { domain: 'vpc' }))
      : [];
    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'LoadBalancer', {
      vpc,
      vpcSubnets: { subnets },
      internetFacing: exposure.internetFacing,
      crossZoneEnabled: true,
      securityGroups: [this.securityGroup],
    });
    if (this.publicIps.length > 0) {
      // the L2 takes Elastic IPs only with subnets it can look up as public ones; these are imported by id alone
      const cfn = this.loadBalancer.node.defaultChild as elbv2.CfnLoadBalancer;
      cfn.addPropertyDeletionOverride('Subnets');
      cfn.subnetMappings = subnets.map((subnet, at) => ({
        subnetId: subnet.subnetId,
        allocationId: this.publicIps[at]?.attrAllocationId,
      }));
    }
    Validations.of(this.loadBalancer).acknowledge({
      id: 'AwsSolutions-ELB2',
      reason:
        'NLB access logs record TLS listeners only; these listeners pass cloudcore’s own TLS through as TCP and UDP',
    });

    const instanceTargets = (port: number) =>
      (exposure.targets.instanceIds ?? []).map((instanceId) => new elbv2Targets.InstanceIdTarget(instanceId, port));
    const targetGroups: elbv2.NetworkTargetGroup[] = [];
    for (const [name, protocol] of Object.entries(CLOUDCORE_PORT_PROTOCOLS) as [
      keyof CloudcorePorts,
      elbv2.Protocol,
    ][]) {
      const listenerPort = props.listenerPorts[name];
      const nodePort = exposure.nodePorts[name];
      const port = (number: number) => (protocol === elbv2.Protocol.UDP ? ec2.Port.udp(number) : ec2.Port.tcp(number));
      for (const cidr of exposure.allowedCidrs)
        this.securityGroup.addIngressRule(ec2.Peer.ipv4(cidr), port(listenerPort), `cloudcore ${name} from ${cidr}`);
      this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), port(nodePort), `cloudcore ${name} NodePort on the nodes`);
      const targetGroup = new elbv2.NetworkTargetGroup(this, `${pascalCase(name)}Targets`, {
        vpc,
        port: nodePort,
        protocol,
        targetType: elbv2.TargetType.INSTANCE,
        targets: instanceTargets(nodePort),
        // a UDP port cannot be health-checked: the QUIC targets are healthy when cloudhub's TCP NodePort answers
        healthCheck: {
          protocol: elbv2.Protocol.TCP,
          port: String(protocol === elbv2.Protocol.UDP ? exposure.nodePorts.cloudhub : nodePort),
        },
      });
      this.loadBalancer.addListener(`${pascalCase(name)}Listener`, {
        port: listenerPort,
        protocol,
        defaultTargetGroups: [targetGroup],
      });
      targetGroups.push(targetGroup);
    }
    this.targetGroups = targetGroups;
    if (exposure.targets.autoScalingGroupName !== undefined)
      this.attachToAutoScalingGroup(exposure.targets.autoScalingGroupName, targetGroups);

    new CfnOutput(this, 'Address', {
      value: this.address,
      description: "cloudcore's public address, which the join commands dial: put it in cloudcore's advertiseAddress",
    });
    if (this.publicIps.length > 1)
      new CfnOutput(this, 'PublicIps', {
        value: Fn.join(
          ',',
          this.publicIps.map((ip) => ip.attrPublicIp),
        ),
        description: "The load balancer's Elastic IPs, one per zone: all belong in cloudcore's advertiseAddress",
      });
    new CfnOutput(this, 'SecurityGroupId', {
      value: this.securityGroup.securityGroupId,
      description:
        "The load balancer's security group: let it in on cloudcore's NodePorts in the nodes' security group",
    });
  }

  /**
   * cloudcore's public address through the load balancer (a token): the first Elastic IP when internet-facing, else
   * the DNS name, since an internal load balancer's private addresses are the VPC's to pick.
   */
  public get address(): string {
    return this.publicIps[0]?.attrPublicIp ?? this.loadBalancer.loadBalancerDnsName;
  }

  /** What the steps read instead of setting `cloudcore.publicAddress`. */
  public get stepEnvironment(): Record<string, string> {
    return { [SETTINGS_ENV.cloudcorePublicAddress]: this.address };
  }

  /**
   * Registers the group's instances, now and as it scales, by attaching the target groups to it. The group is not
   * the stack's, so CloudFormation cannot attach them: a custom resource calls Auto Scaling on create and update,
   * and detaches them on delete, with a role that may do only that, on that group.
   */
  private attachToAutoScalingGroup(groupName: string, targetGroups: readonly elbv2.NetworkTargetGroup[]): void {
    const parameters = {
      AutoScalingGroupName: groupName,
      TrafficSources: targetGroups.map((group) => ({ Identifier: group.targetGroupArn, Type: 'elbv2' })),
    };
    const call = (action: string): cr.AwsSdkCall => ({
      service: 'AutoScaling',
      action,
      parameters,
      // named after the group and the target groups: when the target groups are replaced (other NodePorts), the id
      // changes, so CloudFormation deletes the old attachment, which detaches the old target groups
      physicalResourceId: cr.PhysicalResourceId.of(
        Fn.join('/', [groupName, ...targetGroups.map((group) => group.targetGroupName)]),
      ),
    });
    const groupArn = Stack.of(this).formatArn({
      service: 'autoscaling',
      resource: 'autoScalingGroup',
      resourceName: `*:autoScalingGroupName/${groupName}`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const attach = new cr.AwsCustomResource(this, 'AutoScalingAttachment', {
      onCreate: call('AttachTrafficSources'),
      onUpdate: call('AttachTrafficSources'),
      onDelete: call('DetachTrafficSources'),
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          actions: ['autoscaling:AttachTrafficSources', 'autoscaling:DetachTrafficSources'],
          resources: [groupArn],
        }),
      ]),
      installLatestAwsSdk: false,
    });
    // the group's id is in its ARN but not in the settings, which name it: `*` stands for that id alone
    Validations.of(attach).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:autoscaling:<AWS::Region>:<AWS::AccountId>:autoScalingGroup:*:autoScalingGroupName/${groupName}]`,
      reason: 'the Auto Scaling group is named by the settings; the wildcard stands for its generated id only',
    });
    // AwsCustomResource runs one function for the whole stack, created beside it at the stack's root
    const provider = Stack.of(this).node.tryFindChild(AWS_CUSTOM_RESOURCE_PROVIDER_ID);
    if (!provider) throw new Error(`AwsCustomResource's function ${AWS_CUSTOM_RESOURCE_PROVIDER_ID} was not found`);
    Validations.of(provider).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: "the managed policy only lets the custom resource's function write its own CloudWatch log streams",
    });
  }
}

/** The load balancer the setting `cloudcoreExposure` asks for, or undefined when it is off (the default). */
export function cloudcoreExposure(
  scope: Construct,
  exposure: CloudcoreExposureConfig,
  listenerPorts: CloudcorePorts,
): CloudcoreExposure | undefined {
  if (!exposure.enabled) return undefined;
  const { vpcId } = exposure;
  // parseConfig has refused an enabled exposure without a VPC; this keeps a direct caller to the same rule
  if (vpcId === undefined) throw new Error('edgekeeper.cloudcoreExposure.vpcId: is required when enabled');
  return new CloudcoreExposure(scope, 'CloudcoreExposure', { exposure: { ...exposure, vpcId }, listenerPorts });
}
