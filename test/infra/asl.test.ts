import { STEP_NAMES } from '../../functions/registry';
import { readSettings } from '../../functions/shared/settings';
import {
  fillSettings,
  listAslFiles,
  placeholdersOf,
  substitute,
  timeoutPlaceholder,
  workflowTimeouts,
} from '../../lib/asl';
import { localSubstitutions } from '../../local/runtime';
import { aslPath, renderAsl, WORKFLOW_SOURCES } from '../../scripts/generate-asl';
import { LAMBDA_RETRIER, LAMBDA_SERVICE_ERRORS } from '../../statemachine/src/states';
import { synthTemplate } from './synth';

const files = listAslFiles();

interface AslState {
  Type: string;
  Resource?: string;
  Retry?: { ErrorEquals: string[] }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  ItemProcessor?: { States: Record<string, AslState> };
}

/** Every state of a definition with its name, the states of a Map's processor included. */
function statesOf(states: Record<string, AslState>): [string, AslState][] {
  return Object.entries(states).flatMap(([name, state]) => [
    [name, state] as [string, AslState],
    ...(state.ItemProcessor ? statesOf(state.ItemProcessor.States) : []),
  ]);
}

function parsed(text: string): { StartAt: string; TimeoutSeconds: unknown; States: Record<string, AslState> } {
  return JSON.parse(text);
}

describe('statemachine/*.asl.json', () => {
  it('are what `npm run asl` generates from statemachine/src (run it after changing a workflow)', () => {
    expect(files.map((file) => file.name)).toEqual(Object.keys(WORKFLOW_SOURCES).sort());
    for (const file of files) {
      expect({ path: aslPath(file.name), text: file.text }).toEqual({
        path: file.path,
        text: renderAsl(file.name),
      });
    }
  });

  it('are valid JSON with a StartAt that names a state', () => {
    for (const file of files) {
      const definition = parsed(file.text);
      expect(Object.keys(definition.States)).toContain(definition.StartAt);
    }
  });

  it('are deployed with the time limit derived from the steps’ own timeout settings, and every other placeholder substituted', () => {
    const { template } = synthTemplate();
    const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as {
      Properties: { DefinitionString: string; DefinitionSubstitutions: Record<string, unknown> };
    }[];
    // the settings as the deployed steps read them, from a function's environment
    const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0] as {
      Properties: { Environment: { Variables: Record<string, string> } };
    };
    const stepSettings = readSettings(fn.Properties.Environment.Variables);
    const limits = workflowTimeouts(stepSettings);
    for (const file of files) {
      const text = fillSettings(file.text, stepSettings);
      const machine = machines.find((m) => m.Properties.DefinitionString === text);
      expect(machine).toBeDefined();
      expect(parsed(text).TimeoutSeconds).toBe(limits[file.name]);
      const substituted = Object.keys(machine?.Properties.DefinitionSubstitutions ?? {}).sort();
      expect(substituted).toEqual(placeholdersOf(file.text).filter((name) => name !== timeoutPlaceholder(file.name)));
    }
  });

  it('resolve completely with the local runtime substitutions', () => {
    for (const file of files) {
      const text = fillSettings(file.text, readSettings({}));
      expect(substitute(text, localSubstitutions(text))).not.toMatch(/\$\{/);
    }
  });

  it('retry every Lambda step with the one canonical retrier, first, and the Lambda service errors nowhere else', () => {
    for (const file of files) {
      for (const [name, state] of statesOf(parsed(file.text).States)) {
        if (state.Resource !== 'arn:aws:states:::lambda:invoke') continue;
        const [first, ...others] = state.Retry ?? [];
        expect({ file: file.name, state: name, retrier: first }).toEqual({
          file: file.name,
          state: name,
          retrier: LAMBDA_RETRIER,
        });
        const repeated = others
          .flatMap((retrier) => retrier.ErrorEquals)
          .filter((error) => error.startsWith('Lambda.'));
        expect({ state: name, repeated }).toEqual({ state: name, repeated: [] });
      }
    }
  });

  it('retry what aws-cdk’s LambdaInvoke retries by default, as often and as fast', () => {
    // aws-cdk-lib/aws-stepfunctions-tasks LambdaInvoke, retryOnServiceExceptions: 2 s, ×2, 6 attempts
    expect(LAMBDA_RETRIER).toMatchObject({ IntervalSeconds: 2, BackoffRate: 2, MaxAttempts: 6 });
    expect(LAMBDA_SERVICE_ERRORS).toEqual(
      expect.arrayContaining([
        'Lambda.ClientExecutionTimeoutException',
        'Lambda.ServiceException',
        'Lambda.AWSLambdaException',
        'Lambda.SdkClientException',
      ]),
    );
  });

  it('give every Task an explicit Retry', () => {
    for (const file of files) {
      const withoutRetry = statesOf(parsed(file.text).States)
        .filter(([, state]) => state.Type === 'Task' && !state.Retry?.length)
        .map(([name]) => name);
      expect({ file: file.name, withoutRetry }).toEqual({ file: file.name, withoutRetry: [] });
    }
  });

  it('never let publishing an event fail a finished operation: every PutEvents is caught', () => {
    for (const file of files) {
      const uncaught = statesOf(parsed(file.text).States)
        .filter(([, state]) => state.Resource === 'arn:aws:states:::events:putEvents')
        .filter(([, state]) => !state.Catch?.some((catcher) => catcher.ErrorEquals.includes('States.ALL')))
        .map(([name]) => name);
      expect({ file: file.name, uncaught }).toEqual({ file: file.name, uncaught: [] });
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
