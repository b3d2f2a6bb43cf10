import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Settings } from '../functions/shared/settings';

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
 * A placeholder for a number (its name ends in `Seconds`) is written as a whole JSON string, `"${OnboardNodeTimeoutSeconds}"`,
 * so the file stays JSON; it is filled with the bare number, quotes included.
 */
const NUMBER_PLACEHOLDER = /"\$\{([A-Za-z][A-Za-z0-9]*Seconds)\}"/g;

/**
 * Fills `${Placeholders}` the way Step Functions' `definitionSubstitutions` does, and number placeholders with
 * their number. A placeholder without a value is an error here, because Step Functions would otherwise deploy the
 * literal text; so is a number placeholder whose value is not a whole number.
 */
export function substitute(text: string, values: Readonly<Record<string, string>>): string {
  const numbersFilled = text.replace(NUMBER_PLACEHOLDER, (_whole, name: string) => {
    const value = lookup(values, name);
    if (!/^\d+$/.test(value))
      throw new Error(`\${${name}} must be a whole number of seconds, got ${JSON.stringify(value)}`);
    return value;
  });
  return numbersFilled.replace(PLACEHOLDER, (_whole, name: string) => lookup(values, name));
}

function lookup(values: Readonly<Record<string, string>>, name: string): string {
  const value = values[name];
  if (value === undefined) throw new Error(`no substitution for \${${name}}`);
  return value;
}

/** The timeout settings a workflow's own time limit is derived from, as `readSettings` names them. */
export type WorkflowTimeoutSettings = Pick<
  Settings,
  | 'hostCommandTimeoutSeconds'
  | 'nodeReadyTimeoutSeconds'
  | 'drainTimeoutSeconds'
  | 'namespaceDeletionTimeoutSeconds'
  | 'manualJoinTimeoutSeconds'
>;

/**
 * Time a workflow spends outside the waits its settings bound: its short Lambda steps (each well under a minute)
 * and the retries of a few of them (about a minute each with the canonical retrier).
 */
export const STEPS_ALLOWANCE_SECONDS = 900;

/**
 * Each workflow's `TimeoutSeconds`: the longest run its configured timeouts allow, so that a stuck execution ends
 * soon after the slowest legitimate run instead of after a fixed hour. The lock duration adds nothing: a Lease is
 * free as soon as its holder's execution has ended (a timed-out one included), and no step waits for a lock.
 * - remove-node: an uninstall, the longest of its modes: one round of nested removals (each a drain, then a
 *   reset script; four at a time), then the namespace's deletion.
 * - onboard-node: the join script and the readiness wait, then possibly a whole rollback (a removal); or, for a
 *   manual join, the wait for the person's command to register the node (its failure only deletes the node).
 */
export function workflowTimeouts(settings: WorkflowTimeoutSettings): Record<string, number> {
  const removal = settings.drainTimeoutSeconds + settings.hostCommandTimeoutSeconds + STEPS_ALLOWANCE_SECONDS;
  const uninstall = removal + settings.namespaceDeletionTimeoutSeconds + STEPS_ALLOWANCE_SECONDS;
  const ssmJoin = settings.hostCommandTimeoutSeconds + settings.nodeReadyTimeoutSeconds + removal;
  const onboarding = Math.max(ssmJoin, settings.manualJoinTimeoutSeconds) + STEPS_ALLOWANCE_SECONDS;
  // drift-check: four steps of at most five minutes each (docs/operating.md, "Drift checks"), and their retries
  const driftCheck = 2 * STEPS_ALLOWANCE_SECONDS;
  return { 'onboard-node': onboarding, 'remove-node': uninstall, 'drift-check': driftCheck };
}

/**
 * The values of the deployment-setting placeholders a definition uses (`${<Workflow>TimeoutSeconds}`). CDK fills
 * them at synth time, before `definitionSubstitutions` (which can only insert strings); the local runtime fills
 * them with everything else.
 */
export function settingsSubstitutions(text: string, settings: WorkflowTimeoutSettings): Record<string, string> {
  const timeouts = workflowTimeouts(settings);
  const values: Record<string, string> = {};
  for (const placeholder of placeholdersOf(text)) {
    const workflow = Object.keys(timeouts).find((name) => timeoutPlaceholder(name) === placeholder);
    if (workflow) values[placeholder] = String(timeouts[workflow]);
  }
  return values;
}

/** Fills only the deployment-setting placeholders, leaving the ARNs and names for `definitionSubstitutions`. */
export function fillSettings(text: string, settings: WorkflowTimeoutSettings): string {
  const values = settingsSubstitutions(text, settings);
  const keep = Object.fromEntries(
    placeholdersOf(text)
      .filter((name) => !(name in values))
      .map((name) => [name, `\${${name}}`]),
  );
  return substitute(text, { ...keep, ...values });
}

/** Placeholder naming convention: `${<PascalName>TimeoutSeconds}` is a workflow's own time limit. */
export function timeoutPlaceholder(workflowName: string): string {
  return `${pascalCase(workflowName)}TimeoutSeconds`;
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
