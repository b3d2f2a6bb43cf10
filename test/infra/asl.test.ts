import { STEP_NAMES } from '../../functions/registry';
import { listAslFiles, placeholdersOf, substitute } from '../../lib/asl';
import { localSubstitutions } from '../../local/runtime';
import { synthTemplate } from './synth';

const files = listAslFiles();

describe('statemachine/*.asl.json', () => {
  it('are valid JSON with a StartAt that names a state', () => {
    for (const file of files) {
      const definition = JSON.parse(file.text) as { StartAt: string; States: Record<string, unknown> };
      expect(Object.keys(definition.States)).toContain(definition.StartAt);
    }
  });

  it('have a substitution for every placeholder, and every substitution is used', () => {
    const machines = Object.values(synthTemplate().template.findResources('AWS::StepFunctions::StateMachine')) as {
      Properties: { DefinitionString: string; DefinitionSubstitutions: Record<string, unknown> };
    }[];
    for (const file of files) {
      const machine = machines.find((m) => m.Properties.DefinitionString === file.text);
      const substituted = Object.keys(machine?.Properties.DefinitionSubstitutions ?? {}).sort();
      expect(substituted).toEqual(placeholdersOf(file.text));
    }
  });

  it('resolve completely with the local runtime substitutions', () => {
    for (const file of files) {
      expect(substitute(file.text, localSubstitutions(file.text))).not.toMatch(/\$\{/);
    }
  });

  it('give every Task an explicit Retry', () => {
    for (const file of files) {
      const states = Object.entries(
        (JSON.parse(file.text) as { States: Record<string, { Type: string; Retry?: unknown[] }> }).States,
      );
      const withoutRetry = states
        .filter(([, state]) => state.Type === 'Task' && !state.Retry?.length)
        .map(([name]) => name);
      expect({ file: file.name, withoutRetry }).toEqual({ file: file.name, withoutRetry: [] });
    }
  });

  it('only reference registered step functions', () => {
    const referenced = files.flatMap((file) => placeholdersOf(file.text)).filter((p) => p.endsWith('FunctionArn'));
    for (const placeholder of referenced) {
      expect(STEP_NAMES).toContain(placeholder.replace(/FunctionArn$/, ''));
    }
  });

  it('fails to substitute a placeholder that has no value', () => {
    const text = JSON.stringify({ a: '$' + '{Missing}' });
    expect(() => substitute(text, {})).toThrow('no substitution for $' + '{Missing}');
  });
});
