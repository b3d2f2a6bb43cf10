import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { SSM_CALL_USES, STEP_NAMES, STEPS, type StepName, type StepUse } from '../../functions/registry';
import { readSettings } from '../../functions/shared/settings';
import { listAslFiles } from '../../lib/asl';
import { StepLambda } from '../../lib/constructs/step-lambda';
import { type Grant, grantsOf, renderIamTable, withTable } from '../../lib/iam-table';
import { synthTemplate } from './synth';

const ROOT = join(__dirname, '..', '..');
const SSM_MODULE = join(ROOT, 'functions', 'shared', 'ssm.ts');
const IAM_DOC = join(ROOT, 'docs', 'iam.md');

const { template } = synthTemplate();
const json = template.toJSON() as Parameters<typeof grantsOf>[0];
const grants = grantsOf(json);

/** The readable role name of a step's Lambda (the table's `role` column), found through the function itself. */
function roleOfStep(name: StepName): string {
  const functions = template.findResources('AWS::Lambda::Function');
  const fn = Object.values(functions).find((f) => f.Properties.Description === STEPS[name].description);
  const roleId = (fn?.Properties.Role as { 'Fn::GetAtt': string[] } | undefined)?.['Fn::GetAtt'][0];
  if (!roleId) throw new Error(`no function with the description of step ${name}`);
  return roleId.replace(/[0-9A-F]{8}$/, '');
}

const grantsOfStep = (name: StepName) => grants.filter((grant) => grant.role === roleOfStep(name));
const ssmActions = (list: readonly Grant[]) =>
  [...new Set(list.map((g) => g.action).filter((action) => action.startsWith('ssm:')))].sort();

/** The SSM actions each kind of use grants (docs/iam.md's first table). */
const ACTIONS_OF_USE: Record<StepUse, readonly string[]> = {
  kubernetes: ['ssm:GetParameter'],
  stepfunctions: [],
  'ssm:send-edge': ['ssm:SendCommand'],
  'ssm:send-cloud': ['ssm:SendCommand'],
  'ssm:read-command': ['ssm:GetCommandInvocation'],
  'ssm:cancel-command': ['ssm:CancelCommand'],
  'ssm:list-commands': ['ssm:ListCommands', 'ssm:ListCommandInvocations'],
  'ssm:inventory': ['ssm:DescribeInstanceInformation'],
  'ssm:token-write': ['ssm:PutParameter'],
  'ssm:token-delete': ['ssm:DeleteParameter'],
  's3:drift-reports': [],
  'dynamodb:wait-put': [],
  'dynamodb:wait-take': [],
  'stepfunctions:task-success': [],
};

/**
 * The step wrapper every handler goes through. It reaches the cluster (to renew the execution's Leases) only for
 * steps defined with defineClusterStep, so the modules it imports say nothing about the step.
 */
const STEP_WRAPPER = join(ROOT, 'functions', 'shared', 'step.ts');

/**
 * The modules a handler can run: its entry and every module it imports by a relative path, transitively, the step
 * wrapper's own imports aside. Type-only imports run nothing and are left out.
 */
function moduleClosure(entry: string): Map<string, string> {
  const seen = new Map<string, string>();
  const pending = [join(ROOT, entry)];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    const text = readFileSync(file, 'utf8');
    seen.set(file, text);
    if (file === STEP_WRAPPER) continue;
    for (const match of text.matchAll(/^(?:import|export)\s+(?!type\s)[\s\S]*?\s+from\s+'(\.{1,2}\/[^']+)';/gm)) {
      const base = resolve(dirname(file), match[1] ?? '');
      const candidates = [`${base}.ts`, join(base, 'index.ts'), base];
      const found = candidates.find((candidate) => candidate.endsWith('.ts') && existsSync(candidate));
      if (found) pending.push(found);
    }
  }
  return seen;
}

/** The functions of functions/shared/ssm.ts that the modules import as values. */
function ssmCallsOf(entry: string): string[] {
  const calls = new Set<string>();
  for (const [file, text] of moduleClosure(entry)) {
    for (const match of text.matchAll(/^import\s+(?!type\s)\{([^}]*)\}\s+from\s+'(\.{1,2}\/[^']+)';/gm)) {
      if (`${resolve(dirname(file), match[2] ?? '')}.ts` !== SSM_MODULE) continue;
      for (const name of (match[1] ?? '').split(',').map((n) => n.trim())) {
        if (name && !name.startsWith('type ')) calls.add(name.split(/\s+as\s+/)[0] ?? name);
      }
    }
  }
  return [...calls].sort();
}

const ssmUsesOf = (uses: readonly StepUse[]) =>
  uses.filter((use) => use === 'kubernetes' || use.startsWith('ssm:')).sort();

describe('IAM of the synthesized stack', () => {
  it('matches the reviewed table in docs/iam.md (run `npm run iam-doc` and review the diff)', () => {
    // Prepare
    const doc = readFileSync(IAM_DOC, 'utf8');

    // Act
    const regenerated = withTable(doc, renderIamTable(json));

    // Assess
    expect(doc).toBe(regenerated);
  });

  it('grants ssm:SendCommand on hosts only under a host-tag condition, and on no document but AWS-RunShellScript', () => {
    // Prepare
    const send = grants.filter((g) => /^(ssm:SendCommand|ssm:\*|ssm:Send\*|\*)$/.test(g.action));

    // Assess
    expect(send.length).toBeGreaterThan(0);
    for (const grant of send) {
      if (grant.resource.includes(':document/')) {
        expect([grant.role, grant.resource]).toEqual([
          grant.role,
          'arn:<partition>:ssm:<region>::document/AWS-RunShellScript',
        ]);
      } else {
        expect([grant.role, grant.resource, grant.condition]).toEqual([
          grant.role,
          grant.resource,
          expect.stringMatching(/^StringEquals ssm:resourceTag\/[^ ]+ = [^ ]+$/),
        ]);
      }
    }
  });

  it('lets the edge steps reach only edge-tagged hosts and the routing and drift steps only cloud-tagged hosts', () => {
    // Prepare
    const settings = readSettings({});
    const [edgeKey, edgeValue] = settings.edgeHostTag.split(/=(.*)/);
    const [cloudKey, cloudValue] = settings.cloudHostTag.split(/=(.*)/);
    const hostConditions = (name: StepName) =>
      [
        ...new Set(
          grantsOfStep(name)
            .filter((g) => g.action === 'ssm:SendCommand' && !g.resource.includes(':document/'))
            .map((g) => g.condition),
        ),
      ].sort();

    // Assess
    const senders = STEP_NAMES.filter((name) => hostConditions(name).length > 0);
    expect(senders.sort()).toEqual([
      'DriftCheckHosts',
      'DriftRemediate',
      'RouteNodeStreams',
      'SendJoinScript',
      'SendResetScript',
    ]);
    expect(hostConditions('SendJoinScript')).toEqual([`StringEquals ssm:resourceTag/${edgeKey} = ${edgeValue}`]);
    expect(hostConditions('SendResetScript')).toEqual([`StringEquals ssm:resourceTag/${edgeKey} = ${edgeValue}`]);
    // the drift steps list and restore the routing: cloud hosts only, as the routing step
    for (const name of ['RouteNodeStreams', 'DriftCheckHosts', 'DriftRemediate'] as const) {
      expect(hostConditions(name)).toEqual([`StringEquals ssm:resourceTag/${cloudKey} = ${cloudValue}`]);
    }
  });

  it('follows the host-tag settings into the conditions', () => {
    // Prepare: two steps on their own, with tags other than the defaults (read from the construct tree: a
    // synthesis would hash the project for each function's asset)
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Tags');
    const conditionOf = (name: 'SendJoinScript' | 'RouteNodeStreams') => {
      const step = new StepLambda(stack, name, {
        spec: STEPS[name],
        environment: {},
        kubeconfigParameterName: '/edgekeeper/kubeconfig',
        hostTags: { edge: 'fleet=field-devices', cloud: 'tier=control:plane' },
      });
      const policy = step.function.role?.node.tryFindChild('DefaultPolicy') as iam.Policy;
      const { Statement } = stack.resolve(policy.document.toJSON()) as { Statement: { Condition?: unknown }[] };
      return Statement.filter((statement) => statement.Condition).map((statement) => statement.Condition);
    };

    // Act
    const edge = conditionOf('SendJoinScript');
    const cloud = conditionOf('RouteNodeStreams');

    // Assess
    expect(edge).toEqual([{ StringEquals: { 'ssm:resourceTag/fleet': 'field-devices' } }]);
    expect(cloud).toEqual([{ StringEquals: { 'ssm:resourceTag/tier': 'control:plane' } }]);
  });

  it('gives no role of a workflow any SSM action', () => {
    const workflowRoles = new Set(grants.map((g) => g.role).filter((role) => role.startsWith('Workflows')));
    // one role per workflow (statemachine/*.asl.json)
    expect(workflowRoles.size).toBe(listAslFiles().length);
    for (const role of workflowRoles)
      expect([role, ssmActions(grants.filter((g) => g.role === role))]).toEqual([role, []]);
  });

  it('names a kind of use for every SSM function, so a new call cannot go ungranted', () => {
    // Prepare
    const exported = [...readFileSync(SSM_MODULE, 'utf8').matchAll(/^export\s+(?:async\s+)?function\s+(\w+)/gm)]
      .map((m) => m[1])
      .sort();

    // Assess
    expect(Object.keys(SSM_CALL_USES).sort()).toEqual(exported);
  });

  it.each(STEP_NAMES)('lists exactly the SSM uses that %s’s code calls', (name) => {
    // Prepare
    const calls = ssmCallsOf(STEPS[name].entry);

    // Act
    const needed = [
      ...new Set(
        calls
          .map((call) => SSM_CALL_USES[call as keyof typeof SSM_CALL_USES])
          .filter((use): use is NonNullable<typeof use> => use !== null && use !== undefined),
      ),
    ].sort();

    // Assess
    expect(ssmUsesOf(STEPS[name].uses)).toEqual(needed);
  });

  it.each(STEP_NAMES)('grants %s exactly the SSM actions of its uses', (name) => {
    // Act
    const held = ssmActions(grantsOfStep(name));

    // Assess
    const expected = [...new Set(STEPS[name].uses.flatMap((use) => ACTIONS_OF_USE[use]))].sort();
    expect(held).toEqual(expected);
  });
});
