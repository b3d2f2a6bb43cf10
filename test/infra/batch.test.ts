import { readAslFile } from '../../lib/asl';
import { synthTemplate } from './synth';

/*
 * The batch workflows as deployed: each runs its requests in a Map bounded by the configured concurrency, and the
 * step that plans each wave reads the failure budget from the settings the stack gives it.
 */

const { template } = synthTemplate();

type Resource = { Properties: Record<string, unknown> };
const resourcesOf = (type: string) => Object.values(template.findResources(type)) as Resource[];

describe.each(['batch-onboard', 'batch-remove'])('the %s workflow', (name) => {
  const file = readAslFile(name);
  const definition = JSON.parse(file.text) as {
    States: Record<string, { Type: string; MaxConcurrencyPath?: string; ItemProcessor?: unknown }>;
  };

  it('is deployed from its ASL file', () => {
    const machine = resourcesOf('AWS::StepFunctions::StateMachine').find(
      (m) => m.Properties.DefinitionString === file.text,
    );
    expect(machine).toBeDefined();
  });

  it('runs its children in a Map whose concurrency is the planned one, never unbounded', () => {
    const maps = Object.values(definition.States).filter((state) => state.Type === 'Map');
    expect(maps).toHaveLength(1);
    expect(maps[0].MaxConcurrencyPath).toBe('$.plan.concurrency');
  });
});

it('gives the steps that plan a batch its concurrency and failure budget from the settings', () => {
  const functions = Object.entries(template.findResources('AWS::Lambda::Function') as Record<string, Resource>);
  for (const step of ['CheckBatch', 'PlanBatchWave']) {
    const found = functions.filter(([id]) => id.startsWith(`${step}Function`));
    expect(found).toHaveLength(1);
    const environment = (found[0][1].Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(environment).toMatchObject({
      EDGEKEEPER_BATCH_CONCURRENCY: '10',
      EDGEKEEPER_BATCH_TOLERATED_FAILURE_PERCENT: '10',
    });
  }
});
