/**
 * batch-remove, the source of `statemachine/batch-remove.asl.json`: many removals, each a remove-node execution,
 * with the same waves and budget as batch-onboard (docs/operating.md, "Batches").
 */
import { batchWorkflow } from './batch-workflow';

export const batchRemove = batchWorkflow({
  name: 'batch-remove',
  comment:
    'Remove many edge nodes: check the batch, then run remove-node for each request in waves of the configured concurrency, within a failure budget; a result per node and totals.',
  child: 'remove-node',
  childState: 'Remove the node',
});
