import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listAslFiles } from '../lib/asl';

/** Where the generated pictures live; a test fails when they are stale. */
export const WORKFLOW_DOCS = join(__dirname, '..', 'docs', 'workflows.md');

interface AslState {
  Type: string;
  Comment?: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: (Record<string, unknown> & { Next: string })[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  Branches?: AslDefinition[];
  ItemProcessor?: AslDefinition;
  Iterator?: AslDefinition;
}
interface AslDefinition {
  Comment?: string;
  StartAt: string;
  States: Record<string, AslState>;
}

/** Renders `docs/workflows.md`: one Mermaid state diagram per `statemachine/*.asl.json`, generated from the ASL. */
export function renderWorkflowDocs(): string {
  const sections = listAslFiles().map((asl) => {
    const definition = JSON.parse(asl.text) as AslDefinition;
    return [
      `## ${asl.name}`,
      '',
      definition.Comment ?? '',
      '',
      '```mermaid',
      'stateDiagram-v2',
      ...diagramLines(definition, '  '),
      '```',
      '',
    ].join('\n');
  });
  return [
    '# Workflows',
    '',
    '<!-- Generated from statemachine/*.asl.json by `npm run docs`; do not edit by hand. -->',
    '',
    'Solid arrows are the normal path, arrows labelled with an error are Catch clauses.',
    '',
    ...sections,
  ].join('\n');
}

function diagramLines(definition: AslDefinition, indent: string, prefix = 's'): string[] {
  const names = Object.keys(definition.States);
  const id = (name: string) => `${prefix}${names.indexOf(name)}`;
  const lines: string[] = [];
  for (const [name, state] of Object.entries(definition.States)) {
    // Mermaid draws a choice as a bare diamond: its outgoing labels carry the question.
    if (state.Type === 'Choice') lines.push(`${indent}state ${id(name)} <<choice>>`);
    else lines.push(`${indent}state "${name.replace(/"/g, "'")}" as ${id(name)}`);
    const nested = [...(state.Branches ?? []), state.ItemProcessor ?? state.Iterator].filter(
      (child): child is AslDefinition => Boolean(child),
    );
    nested.forEach((child, index) => {
      lines.push(`${indent}state ${id(name)} {`);
      lines.push(...diagramLines(child, `${indent}  `, `${id(name)}b${index}s`));
      lines.push(`${indent}}`);
    });
  }
  lines.push(`${indent}[*] --> ${id(definition.StartAt)}`);
  for (const [name, state] of Object.entries(definition.States)) {
    for (const choice of state.Choices ?? [])
      lines.push(`${indent}${id(name)} --> ${id(choice.Next)}: ${describeChoice(choice)}`);
    if (state.Default) lines.push(`${indent}${id(name)} --> ${id(state.Default)}: otherwise`);
    if (state.Next) lines.push(`${indent}${id(name)} --> ${id(state.Next)}`);
    for (const catcher of state.Catch ?? []) {
      lines.push(
        `${indent}${id(name)} --> ${id(catcher.Next)}: ${catcher.ErrorEquals.join(', ').replace('States.ALL', 'any error')}`,
      );
    }
    if (state.End || state.Type === 'Succeed' || state.Type === 'Fail') lines.push(`${indent}${id(name)} --> [*]`);
  }
  return lines;
}

const COMPARISONS: [RegExp, string][] = [
  [/GreaterThanEquals$/, '>='],
  [/LessThanEquals$/, '<='],
  [/GreaterThan$/, '>'],
  [/LessThan$/, '<'],
  [/Equals$/, '='],
  [/Matches$/, 'matches'],
];

function describeChoice(choice: Record<string, unknown>): string {
  const variable = String(choice.Variable ?? '').replace(/^\$\./, '');
  const [operator, value] = Object.entries(choice).find(([key]) => !['Variable', 'Next'].includes(key)) ?? ['', ''];
  const symbol = COMPARISONS.find(([pattern]) => pattern.test(operator))?.[1] ?? operator;
  return `${variable} ${symbol} ${JSON.stringify(value)}`.replace(/"/g, "'");
}

if (require.main === module) {
  writeFileSync(WORKFLOW_DOCS, renderWorkflowDocs());
  console.log(`wrote ${WORKFLOW_DOCS}`);
}
