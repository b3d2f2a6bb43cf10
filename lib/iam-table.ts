/**
 * Every IAM grant of the synthesized stack as a table: one row per role and group of actions with the same
 * resources and condition. docs/iam.md holds the reviewed table (`npm run iam-doc` writes it) and
 * test/infra/iam.test.ts fails when the template no longer matches it, so a grant never changes unreviewed.
 */

type Template = { readonly Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }> };

interface Statement {
  readonly Effect?: string;
  readonly Action?: string | string[];
  readonly Resource?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/** One grant, flattened: a role may do `action` on `resource` when `condition` holds. */
export interface Grant {
  readonly role: string;
  readonly action: string;
  readonly resource: string;
  readonly condition: string;
}

export interface GrantRow {
  readonly role: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly condition: string;
  /** why the resource is "*": required on every such row */
  readonly why: string;
}

/**
 * Why an action may hold "*": the service defines no resource type for it (Service Authorization Reference,
 * https://docs.aws.amazon.com/service-authorization/latest/reference/, one page per service), so IAM accepts no
 * narrower resource. An action granted on "*" that is missing here fails the table.
 */
export const ANY_RESOURCE_REASONS: Readonly<Record<string, string>> = Object.freeze({
  'xray:PutTraceSegments': 'X-Ray defines no resource type for it (tracing)',
  'xray:PutTelemetryRecords': 'X-Ray defines no resource type for it (tracing)',
  'xray:GetSamplingRules': 'X-Ray defines no resource type for it (tracing)',
  'xray:GetSamplingTargets': 'X-Ray defines no resource type for it (tracing)',
  'logs:CreateLogDelivery': 'CloudWatch Logs delivery for the workflow logs; no resource type',
  'logs:DeleteLogDelivery': 'CloudWatch Logs delivery for the workflow logs; no resource type',
  'logs:GetLogDelivery': 'CloudWatch Logs delivery for the workflow logs; no resource type',
  'logs:ListLogDeliveries': 'CloudWatch Logs delivery for the workflow logs; no resource type',
  'logs:UpdateLogDelivery': 'CloudWatch Logs delivery for the workflow logs; no resource type',
  'logs:DescribeLogGroups': 'CloudWatch Logs delivery for the workflow logs; no resource type',
  'logs:DescribeResourcePolicies': 'CloudWatch Logs delivery for the workflow logs; no resource type',
  'logs:PutResourcePolicy': 'CloudWatch Logs delivery for the workflow logs; no resource type',
  'ssm:GetCommandInvocation': 'Systems Manager defines no resource type for it',
  'ssm:CancelCommand': 'Systems Manager defines no resource type for it',
  'ssm:ListCommands': 'Systems Manager defines no resource type for it',
  'ssm:ListCommandInvocations': 'Systems Manager defines no resource type for it',
  'ssm:DescribeInstanceInformation': 'Systems Manager defines no resource type for it',
});

/** A logical id without the hash CDK appends (`SendJoinScriptFunction8E8D2130` → `SendJoinScriptFunction`). */
function readableId(logicalId: string): string {
  return logicalId.replace(/[0-9A-F]{8}$/, '');
}

/** A resource or condition value with CloudFormation's intrinsics written as `<…>`. */
export function renderValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(renderValue).join(', ');
  if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    if ('Fn::Join' in object) {
      const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
      return parts.map(renderValue).join(separator);
    }
    if ('Ref' in object) {
      const ref = object.Ref as string;
      const pseudo: Record<string, string> = {
        'AWS::Partition': '<partition>',
        'AWS::Region': '<region>',
        'AWS::AccountId': '<account>',
      };
      return pseudo[ref] ?? `<${readableId(ref)}>`;
    }
    if ('Fn::GetAtt' in object) {
      const [id, attribute] = object['Fn::GetAtt'] as [string, string];
      return `<${readableId(id)}.${attribute}>`;
    }
  }
  return JSON.stringify(value);
}

function renderCondition(condition: Statement['Condition']): string {
  if (!condition) return '';
  return Object.entries(condition)
    .flatMap(([operator, keys]) =>
      Object.entries(keys).map(([key, value]) => `${operator} ${key} = ${renderValue(value)}`),
    )
    .sort()
    .join('; ');
}

function asList<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** Every Allow of every role in the template, flattened; managed policies appear as the action `managed:<arn>`. */
export function grantsOf(template: Template): Grant[] {
  const resources = template.Resources ?? {};
  const grants: Grant[] = [];
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::IAM::Role') continue;
    for (const arn of asList(resource.Properties?.ManagedPolicyArns as unknown[] | undefined)) {
      grants.push({ role: readableId(id), action: 'managed policy', resource: renderValue(arn), condition: '' });
    }
  }
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const roles = asList(resource.Properties?.Roles as unknown[] | undefined).map((role) =>
      readableId((role as { Ref: string }).Ref),
    );
    const statements =
      (resource.Properties?.PolicyDocument as { Statement?: Statement[] } | undefined)?.Statement ?? [];
    for (const statement of statements) {
      if (statement.Effect !== 'Allow') continue;
      const condition = renderCondition(statement.Condition);
      for (const role of roles)
        for (const action of asList(statement.Action))
          for (const target of asList(statement.Resource))
            grants.push({ role, action, resource: renderValue(target), condition });
    }
  }
  return grants;
}

/**
 * The grants grouped for reading: per role, the actions that share resources and condition.
 * @throws Error naming the role and action when an action holds "*" without a reason in ANY_RESOURCE_REASONS
 */
export function grantRows(grants: readonly Grant[]): GrantRow[] {
  const byTarget = new Map<string, { grant: Grant; actions: Set<string> }>();
  for (const grant of grants) {
    const key = JSON.stringify([grant.role, grant.resource, grant.condition]);
    const entry = byTarget.get(key) ?? { grant, actions: new Set<string>() };
    entry.actions.add(grant.action);
    byTarget.set(key, entry);
  }
  const rows = new Map<string, { role: string; actions: string[]; resources: Set<string>; condition: string }>();
  for (const { grant, actions } of byTarget.values()) {
    const sorted = [...actions].sort();
    const key = JSON.stringify([grant.role, sorted, grant.condition]);
    const row = rows.get(key) ?? {
      role: grant.role,
      actions: sorted,
      resources: new Set<string>(),
      condition: grant.condition,
    };
    row.resources.add(grant.resource);
    rows.set(key, row);
  }
  return [...rows.values()]
    .map((row) => {
      const resources = [...row.resources].sort();
      const why = resources.includes('*') ? row.actions.map((action) => reasonFor(row.role, action)) : [];
      return { ...row, resources, why: [...new Set(why)].join('; ') };
    })
    .sort(
      (a, b) =>
        a.role.localeCompare(b.role) ||
        a.actions.join().localeCompare(b.actions.join()) ||
        a.resources.join().localeCompare(b.resources.join()),
    );
}

function reasonFor(role: string, action: string): string {
  const reason = ANY_RESOURCE_REASONS[action];
  if (!reason) throw new Error(`${role} holds ${action} on "*" and no reason says why (lib/iam-table.ts)`);
  return reason;
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

/** The markdown table docs/iam.md carries between its markers. */
export function renderIamTable(template: Template): string {
  const lines = ['| Role | Actions | Resources | Condition | Why `*` |', '| --- | --- | --- | --- | --- |'];
  for (const row of grantRows(grantsOf(template))) {
    lines.push(
      `| ${[
        row.role,
        row.actions.map((action) => `\`${action}\``).join('<br>'),
        row.resources.map((resource) => `\`${resource}\``).join('<br>'),
        row.condition ? `\`${row.condition}\`` : '',
        row.why,
      ]
        .map(cell)
        .join(' | ')} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export const TABLE_BEGIN = '<!-- iam-table:begin (generated by `npm run iam-doc`; do not edit by hand) -->';
export const TABLE_END = '<!-- iam-table:end -->';

/** The doc with its table replaced by `table`. @throws Error when the doc lacks the markers */
export function withTable(doc: string, table: string): string {
  const begin = doc.indexOf(TABLE_BEGIN);
  const end = doc.indexOf(TABLE_END);
  if (begin < 0 || end < begin) throw new Error(`docs/iam.md must hold the lines ${TABLE_BEGIN} and ${TABLE_END}`);
  return `${doc.slice(0, begin + TABLE_BEGIN.length)}\n\n${table}\n${doc.slice(end)}`;
}
