/**
 * batch-onboard, the source of `statemachine/batch-onboard.asl.json`: many onboard-node requests, each its own
 * nested execution, a result per node (docs/operating.md, "Batches").
 */
import { batchWorkflow } from './batch-workflow';

export const batchOnboard = batchWorkflow({
  name: 'batch-onboard',
  comment:
    'Onboard many edge nodes: check the batch, then run onboard-node for each request in waves of the configured concurrency, within a failure budget; a result per node and totals.',
  child: 'onboard-node',
  childState: 'Onboard the node',
});
