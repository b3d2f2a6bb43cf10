import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the workflow definitions live: the same files are deployed by CDK and run by the local runtime. */
export const STATEMACHINE_DIR = join(__dirname, '..', 'statemachine');

const PLACEHOLDER = /\$\{([A-Za-z][A-Za-z0-9]*)\}/g;

/** A workflow definition file: `statemachine/<name>.asl.json`. */
export interface AslFile {
  /** kebab-case workflow name, e.g. `onboard-node` */
  readonly name: string;
  readonly path: string;
  /** the raw text, `${Placeholders}` unresolved */
  readonly text: string;
}

/** Lists every workflow definition, sorted by name so synth output and docs are stable. */
export function listAslFiles(dir = STATEMACHINE_DIR): AslFile[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.asl.json'))
    .sort()
    .map((file) => {
      const path = join(dir, file);
      return { name: file.replace(/\.asl\.json$/, ''), path, text: readFileSync(path, 'utf8') };
    });
}

/** Reads one workflow definition by name. */
export function readAslFile(name: string, dir = STATEMACHINE_DIR): AslFile {
  const file = listAslFiles(dir).find((asl) => asl.name === name);
  if (!file) throw new Error(`no workflow definition statemachine/${name}.asl.json`);
  return file;
}

/** The distinct `${Placeholder}` names a definition uses, sorted. */
export function placeholdersOf(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((match) => match[1]))].sort();
}

/**
 * Fills `${Placeholders}` the way Step Functions' `definitionSubstitutions` does. A placeholder without a value
 * is an error here, because Step Functions would otherwise deploy the literal text.
 */
export function substitute(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(PLACEHOLDER, (_whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no substitution for \${${name}}`);
    return value;
  });
}

/** Placeholder naming convention: `${<FunctionName>FunctionArn}` is the ARN of a Lambda step. */
export function functionPlaceholder(functionName: string): string {
  return `${functionName}FunctionArn`;
}

/** Placeholder naming convention: `${<PascalName>StateMachineArn}` is the ARN of another workflow. */
export function stateMachinePlaceholder(workflowName: string): string {
  return `${pascalCase(workflowName)}StateMachineArn`;
}

/** `onboard-node` → `OnboardNode` */
export function pascalCase(kebab: string): string {
  return kebab.replace(/(^|-)([a-z0-9])/g, (_whole, _dash, letter: string) => letter.toUpperCase());
}
