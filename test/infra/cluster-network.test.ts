import { readFileSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { loadAll } from 'js-yaml';
import { STEP_NAMES, STEPS, type StepName } from '../../functions/registry';
import { parseConfig } from '../../lib/config';
import { EKS_STEPS_GROUP, StepLambda } from '../../lib/constructs/step-lambda';
import { stepNetwork } from '../../lib/constructs/step-network';
import { grantsOf } from '../../lib/iam-table';
import { RBAC_MANIFEST } from '../../local/sandbox/cluster/rbac';
import { thrown } from '../support/thrown';
import { synthTemplate } from './synth';

/*
 * The deployment on EKS and in a VPC: the cdk.json settings (the run's shared synthesis) have neither; one more
 * synthesis, made here once, has both.
 */
const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n').toString('base64');
const SUBNETS = ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'];
const EKS_IN_VPC = {
  cluster: {
    auth: 'eks',
    eksClusterName: 'edge-prod',
    endpoint: 'https://0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com',
    certificateAuthority: CA,
  },
  network: { vpcId: 'vpc-0123456789abcdef0', subnetIds: SUBNETS },
};

type Resource = { Properties: Record<string, unknown> };

let variant: Template | undefined;
/** The synthesis of EKS_IN_VPC, made on first use; it throws on any unacknowledged cdk-nag finding. */
function eksInVpc(): Template {
  variant ??= synthTemplate(EKS_IN_VPC).template;
  return variant;
}

const shared = () => synthTemplate().template;

/** The logical id of each step's role, found through its function's description. */
function roleIds(template: Template): Record<StepName, string> {
  const functions = Object.values(template.findResources('AWS::Lambda::Function')) as Resource[];
  return Object.fromEntries(
    STEP_NAMES.map((name) => {
      const fn = functions.find((f) => f.Properties.Description === STEPS[name].description);
      const role = (fn?.Properties.Role as { 'Fn::GetAtt': [string, string] } | undefined)?.['Fn::GetAtt'][0];
      if (!role) throw new Error(`no function with the description of step ${name}`);
      return [name, role];
    }),
  ) as Record<StepName, string>;
}

const KUBERNETES_STEPS = STEP_NAMES.filter((name) => (STEPS[name].uses as readonly string[]).includes('kubernetes'));

/**
 * The functions beside the steps that reach the cluster as the steps do, each found by a variable of its
 * environment: the REST API's (the onboarding state machine) and the inventory starter's (its dead-letter queue).
 */
const NON_STEP_FUNCTION_VARIABLES = ['EDGEKEEPER_ONBOARD_STATE_MACHINE_ARN', 'EDGEKEEPER_INVENTORY_DLQ_URL'];

/** The role of the function whose environment has `variable`. */
function roleOfFunctionWith(template: Template, variable: string): string {
  const functions = Object.values(template.findResources('AWS::Lambda::Function')) as Resource[];
  const found = functions.find(
    (f) =>
      (f.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.[variable] !==
      undefined,
  );
  const role = (found?.Properties.Role as { 'Fn::GetAtt': [string, string] } | undefined)?.['Fn::GetAtt'][0];
  if (!role) throw new Error(`no function with ${variable} in its environment`);
  return role;
}

const nonStepRoleIds = (template: Template) =>
  NON_STEP_FUNCTION_VARIABLES.map((variable) => roleOfFunctionWith(template, variable));

describe('the stack with cluster auth eks and a network', () => {
  it('reports no unacknowledged cdk-nag finding', () => {
    expect(() => eksInVpc()).not.toThrow();
  });

  it('maps exactly the roles that use Kubernetes (steps, REST API, inventory starter) to the RBAC group, with no EKS access policy', () => {
    // Prepare
    const template = eksInVpc();
    const roles = roleIds(template);

    // Act
    const entries = Object.values(template.findResources('AWS::EKS::AccessEntry')) as Resource[];

    // Assess
    expect(KUBERNETES_STEPS.length).toBeGreaterThan(0);
    const principals = entries.map(
      (entry) => (entry.Properties.PrincipalArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'],
    );
    expect(principals.sort()).toEqual(
      [...KUBERNETES_STEPS.map((name) => roles[name]), ...nonStepRoleIds(template)].map((role) => [role, 'Arn']).sort(),
    );
    for (const entry of entries) {
      expect(entry.Properties).toEqual({
        ClusterName: 'edge-prod',
        PrincipalArn: expect.anything(),
        Type: 'STANDARD',
        KubernetesGroups: [EKS_STEPS_GROUP],
      });
    }
  });

  it('gives the roles that use Kubernetes no read of the kubeconfig parameter, and no extra IAM for their token', () => {
    // Prepare
    const template = eksInVpc();
    const roles = roleIds(template);
    const grants = grantsOf(template.toJSON() as Parameters<typeof grantsOf>[0]);
    const actionsOf = (role: string) =>
      grants.filter((g) => g.role === role.replace(/[0-9A-F]{8}$/, '')).map((g) => g.action);

    // Assess: sts:GetCallerIdentity, which the token presigns, needs no permission
    for (const role of [...KUBERNETES_STEPS.map((name) => roles[name]), ...nonStepRoleIds(template)]) {
      const actions = actionsOf(role);
      expect(actions.length).toBeGreaterThan(0);
      expect({ role, actions }).toEqual({ role, actions: expect.not.arrayContaining(['ssm:GetParameter']) });
      expect({ role, actions }).toEqual({
        role,
        actions: expect.not.arrayContaining([expect.stringMatching(/^(sts|eks):/)]),
      });
    }
  });

  it('runs every function (steps and REST API) in the given subnets with the created group, whose only rule lets HTTPS out', () => {
    // Prepare
    const template = eksInVpc();
    const groups = template.findResources('AWS::EC2::SecurityGroup') as Record<string, Resource>;

    // Assess
    expect(Object.keys(groups)).toHaveLength(1);
    const [groupId, group] = Object.entries(groups)[0] ?? [];
    expect(group?.Properties).toMatchObject({
      VpcId: 'vpc-0123456789abcdef0',
      SecurityGroupEgress: [{ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }],
    });
    expect(group?.Properties.SecurityGroupIngress).toBeUndefined();
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    template.resourceCountIs('AWS::EC2::SecurityGroupEgress', 0);
    template.hasOutput('StepsSecurityGroupId', { Value: { 'Fn::GetAtt': [groupId, 'GroupId'] } });
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as Resource[];
    const descriptions = functions.map((fn) => fn.Properties.Description);
    expect(descriptions).toEqual(expect.arrayContaining(STEP_NAMES.map((name) => STEPS[name].description)));
    for (const fn of functions) {
      expect([fn.Properties.Description, fn.Properties.VpcConfig]).toEqual([
        fn.Properties.Description,
        { SubnetIds: SUBNETS, SecurityGroupIds: [{ 'Fn::GetAtt': [groupId, 'GroupId'] }] },
      ]);
    }
  });

  it('lets every step role, the REST API’s and the starter’s manage the network interfaces of a function in a VPC', () => {
    // Prepare
    const template = eksInVpc();
    const grants = grantsOf(template.toJSON() as Parameters<typeof grantsOf>[0]);

    // Assess
    for (const role of [...Object.values(roleIds(template)), ...nonStepRoleIds(template)]) {
      const managed = grants
        .filter((g) => g.role === role.replace(/[0-9A-F]{8}$/, '') && g.action === 'managed policy')
        .map((g) => g.resource);
      expect([role, managed]).toEqual([
        role,
        expect.arrayContaining(['arn:<partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole']),
      ]);
    }
  });
});

describe('the stack with the cdk.json settings (kubeconfig, no network)', () => {
  it('creates no access entry, no security group and no VPC placement', () => {
    // Prepare
    const template = shared();

    // Assess
    template.resourceCountIs('AWS::EKS::AccessEntry', 0);
    template.resourceCountIs('AWS::EC2::SecurityGroup', 0);
    expect(Object.keys(template.findOutputs('StepsSecurityGroupId'))).toEqual([]);
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function')) as Resource[])
      expect([fn.Properties.Description, fn.Properties.VpcConfig]).toEqual([fn.Properties.Description, undefined]);
  });
});

describe('security groups given in the settings', () => {
  it('are the steps’ groups as they are: the stack creates none and adds no rule', () => {
    // Prepare: the construct tree alone (a synthesis would hash the project for the function's asset)
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Groups');
    const network = stepNetwork(stack, {
      vpcId: 'vpc-0123456789abcdef0',
      subnetIds: [SUBNETS[0] as string],
      securityGroupIds: ['sg-0123456789abcdef0'],
    });

    // Act
    const step = new StepLambda(stack, 'DeleteNode', {
      spec: STEPS.DeleteNode,
      environment: {},
      kubeconfigParameterName: '/edgekeeper/kubeconfig',
      hostTags: { edge: 'edgekeeper:role=edge', cloud: 'edgekeeper-role=cloud' },
      placement: network?.placement,
    });

    // Assess
    const cfn = step.function.node.defaultChild as lambda.CfnFunction;
    expect(stack.resolve(cfn.vpcConfig)).toEqual({
      subnetIds: [SUBNETS[0]],
      securityGroupIds: ['sg-0123456789abcdef0'],
    });
    expect(network?.securityGroup).toBeUndefined();
    const types = stack.node.findAll().map((construct) => (construct as { cfnResourceType?: string }).cfnResourceType);
    expect(types.filter((type) => type?.startsWith('AWS::EC2::'))).toEqual([]);
  });
});

describe('deploy/rbac.yaml', () => {
  it('binds every role to the group the access entries map to, and to the ServiceAccount', () => {
    // Prepare
    const objects = loadAll(readFileSync(RBAC_MANIFEST, 'utf8')) as {
      kind: string;
      metadata: { name: string; namespace?: string };
      subjects?: { kind: string; name: string; namespace?: string; apiGroup?: string }[];
    }[];

    // Act
    const bindings = objects.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding');

    // Assess
    expect(bindings.length).toBe(objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role').length);
    for (const binding of bindings) {
      expect([binding.kind, binding.metadata, binding.subjects]).toEqual([
        binding.kind,
        binding.metadata,
        [
          { kind: 'ServiceAccount', name: 'edgekeeper', namespace: 'kube-system' },
          { kind: 'Group', name: EKS_STEPS_GROUP, apiGroup: 'rbac.authorization.k8s.io' },
        ],
      ]);
    }
  });
});

describe('parseConfig of the network and the EKS cluster', () => {
  it.each([
    [
      { network: { vpcId: 'vpc-0123456789abcdef0' } },
      'edgekeeper.network.subnetIds: at least one subnet id is required when edgekeeper.network.vpcId is given',
    ],
    [
      { network: { vpcId: 'vpc-0123456789abcdef0', subnetIds: [] } },
      'edgekeeper.network.subnetIds: at least one subnet id is required when edgekeeper.network.vpcId is given (got [])',
    ],
    [
      { network: { subnetIds: ['subnet-0123456789abcdef0'] } },
      'edgekeeper.network.subnetIds: needs edgekeeper.network.vpcId as well (got ["subnet-0123456789abcdef0"])',
    ],
    [
      { network: { securityGroupIds: ['sg-0123456789abcdef0'] } },
      'edgekeeper.network.securityGroupIds: needs edgekeeper.network.vpcId as well (got ["sg-0123456789abcdef0"])',
    ],
    [
      { network: { vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-x'] } },
      'edgekeeper.network.subnetIds.0: must be a subnet id (subnet-…) (got "subnet-x")',
    ],
    [
      { network: { vpcId: 'my-vpc', subnetIds: SUBNETS } },
      'edgekeeper.network.vpcId: must be a VPC id (vpc-…) (got "my-vpc")',
    ],
    [{ network: { vpcID: 'vpc-0123456789abcdef0' } }, 'edgekeeper.network: Unrecognized key: "vpcID"'],
  ])('refuses %j naming the key', (settings, message) => {
    // Act
    const error = thrown(() => parseConfig(settings));

    // Assess
    expect(error.message).toContain(message);
  });

  it('refuses auth eks without the cluster, naming every missing key', () => {
    // Act
    const error = thrown(() => parseConfig({ cluster: { auth: 'eks', endpoint: EKS_IN_VPC.cluster.endpoint } }));

    // Assess
    expect(error.message).toContain('edgekeeper.cluster.auth');
    expect(error.message).toContain('edgekeeper.cluster.eksClusterName');
    expect(error.message).toContain('edgekeeper.cluster.certificateAuthority');
    expect(error.message).not.toContain('edgekeeper.cluster.endpoint');
  });

  it('accepts a network without security groups, and no network at all', () => {
    expect(parseConfig(EKS_IN_VPC).network).toEqual(EKS_IN_VPC.network);
    expect(parseConfig({}).network).toEqual({});
  });
});
