import { sameInput } from '../../functions/api/engine';
import type { ExecutionStarter, StartOutcome } from '../../functions/inventory-starter/ports';
import { type LocalRunOptions, runInBackground } from '../api-engine';
import { ExecutionRegistry } from '../executions';
import type { WorkflowResult } from '../runtime';

/*
 * The inventory starter's engine on the local runtime: a start runs the workflow in the background of this
 * process, under the execution registry the CLI and `serve` use, so a name that ran (alone, or as a batch's child)
 * starts nothing again. local/api-engine.ts does the same for the REST API (and runs both engines' workflows), whose
 * workflows are only onboard-node and remove-node; the starter also starts the batch workflows, and its caller waits
 * for every run to end.
 */

/** An execution this engine started, and how it ended once it has. */
export interface StartedRun {
  readonly operationId: string;
  readonly workflow: string;
  readonly name: string;
  readonly result: Promise<WorkflowResult>;
}

export class LocalInventoryEngine implements ExecutionStarter {
  private readonly registry: ExecutionRegistry;
  private readonly runs = new Map<string, StartedRun & { readonly input: unknown }>();
  /** starts run one at a time: the look for an existing name and the claim must not interleave */
  private starting: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: LocalRunOptions) {
    this.registry = new ExecutionRegistry(options.executionsDir);
  }

  start(workflow: string, name: string, input: unknown): Promise<StartOutcome> {
    const next = this.starting.then(() => this.startOne(workflow, name, input));
    this.starting = next.catch(() => undefined);
    return next;
  }

  private async startOne(workflow: string, name: string, input: unknown): Promise<StartOutcome> {
    const known = this.runs.get(name);
    if (known) return { existed: true, sameInput: known.workflow === workflow && sameInput(known.input, input) };
    const record = await this.registry.read(name);
    if (record) return { existed: true, sameInput: record.workflow === workflow && sameInput(record.input, input) };
    const result = runInBackground(this.options, { workflow, input, executionName: name });
    this.runs.set(name, { operationId: `${workflow}:${name}`, workflow, name, input, result });
    return { existed: false, sameInput: true };
  }

  /** Every execution this engine started, each with how it ended. */
  async settled(): Promise<{ readonly run: StartedRun; readonly result: WorkflowResult }[]> {
    await this.starting;
    const runs = [...this.runs.values()];
    const results = await Promise.all(runs.map((run) => run.result));
    return runs.map(({ input: _input, ...run }, index) => ({ run, result: results[index] as WorkflowResult }));
  }
}
