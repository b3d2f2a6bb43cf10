import { type SfnClient, startExecution } from '../api/sfn-engine';
import type { ExecutionStarter } from './ports';

/*
 * Starting executions on Step Functions exactly as the REST API's engine does (functions/api/sfn-engine.ts): the
 * name is the idempotency key, the input is sent in one canonical spelling, ExecutionAlreadyExists is answered by
 * DescribeExecution, and throttling or an unreachable service is a TransientServiceError the queue redelivers.
 */

/** The state machine ARN of each workflow the starter may start; any other name is a programming error. */
export type StateMachineArns = Readonly<Record<string, string>>;

export function sfnStarter(client: SfnClient, stateMachines: StateMachineArns): ExecutionStarter {
  return {
    async start(workflow, name, input) {
      const arn = stateMachines[workflow];
      if (!arn) throw new Error(`the inventory starter has no state machine for ${workflow}`);
      return startExecution(client, arn, name, input);
    },
  };
}
