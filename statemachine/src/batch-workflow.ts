/**
 * The builder of the batch workflows (batch-onboard, batch-remove; docs/adr/0012): one child execution of the
 * workflow per request, in waves of `concurrency` children, with a failure budget looked at between waves.
 *
 * Inline Map, not Distributed: the local runtime runs inline Maps only, and a Distributed Map's
 * ToleratedFailurePercentage fails the run and stops the children still running (no rollback), where a batch must
 * let them finish. Each child's failure is caught into its result, so one node never fails the batch.
 */
import type { Definition } from './states';
import { choice, isTrue, lambda, onAnyError, pass, startWorkflow, workflow } from './states';

interface BatchSpec {
  /** the batch workflow's own name */
  readonly name: string;
  readonly comment: string;
  /** the workflow each request runs */
  readonly child: 'onboard-node' | 'remove-node';
  /** the state that runs one child, as the progress view names it */
  readonly childState: string;
}

export function batchWorkflow(spec: BatchSpec): Definition {
  const definition = workflow(spec.name, {
    comment: spec.comment,
    startAt: 'Check the batch',
    states: {
      'Check the batch': lambda('CheckBatch', {
        comment:
          'Before anything starts: a list of 1 to 300 requests, no two naming the same node, IP, instance or id (the error names each collision). Sets the concurrency and the failure budget from the settings.',
        payload: { workflow: spec.child, 'requests.$': '$.requests' },
        keep: ['plan', 'progress', 'outcomes'],
        next: 'Plan the next wave',
      }),
      'Plan the next wave': lambda('PlanBatchWave', {
        comment:
          'Records the last wave, then takes the next requests in order: a malformed one fails without starting; past the failure budget (or once stopped) the rest are skipped.',
        payload: {
          'plan.$': '$.plan',
          'progress.$': '$.progress',
          'outcomes.$': '$.outcomes',
          'requests.$': '$$.Execution.Input.requests',
        },
        keep: ['plan', 'progress', 'wave', 'done'],
        next: 'Anything left to start?',
      }),
      'Anything left to start?': choice({
        choices: [isTrue('$.done', 'Report the batch')],
        otherwise: 'Run the wave',
      }),
      'Run the wave': {
        Type: 'Map',
        Comment:
          'One child execution per request of the wave, all at once (the wave is at most the concurrency). A failed child becomes its result; the wave always ends.',
        ItemsPath: '$.wave',
        MaxConcurrencyPath: '$.plan.concurrency',
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: spec.childState,
          States: {
            [spec.childState]: startWorkflow({
              workflow: spec.child,
              name: '$.executionName',
              input: '$.input',
              resultSelector: { 'status.$': '$.Status' },
              resultPath: '$.child',
              catch: [onAnyError("Read the child's failure", '$.failure')],
              next: 'Succeeded',
            }),
            Succeeded: pass({ parameters: { 'index.$': '$.index' }, end: true }),
            "Read the child's failure": lambda('ReadChildFailure', {
              comment: 'Keeps the error name and the first line of its message: a batch of failures still fits.',
              payload: { 'index.$': '$.index', 'failure.$': '$.failure' },
              keep: ['index', 'started', 'error'],
              catch: [onAnyError('Keep the error name', '$.readError')],
              end: true,
            }),
            'Keep the error name': pass({
              parameters: {
                'index.$': '$.index',
                started: true,
                error: { 'name.$': '$.failure.Error', message: 'see the child execution for the cause' },
              },
              end: true,
            }),
          },
        },
        ResultPath: '$.outcomes',
        Next: 'Plan the next wave',
      },
      'Report the batch': pass({
        parameters: {
          'workflow.$': '$.plan.workflow',
          'concurrency.$': '$.plan.concurrency',
          'budget.$': '$.progress.budget',
          'totals.$': '$.progress.totals',
          'results.$': '$.progress.results',
        },
        end: true,
      }),
    },
  });
  return withoutTimeLimit(definition);
}

/**
 * A batch has no time limit of its own: its length is its size over its concurrency times a child's, and every
 * child has its own limit, so the batch ends once its last child has.
 */
function withoutTimeLimit(definition: Definition): Definition {
  const { Comment, StartAt, States } = definition;
  return { Comment, StartAt, States };
}
