import type { V1Node } from '@kubernetes/client-node';

/*
 * What the inventory starter reaches outside itself. The Lambda handler gives Step Functions, the SQS dead-letter
 * queue and the cluster; `edgekeeper inventory emit` gives the local runtime, its in-process queue and the sandbox.
 */

/** One message of the queue: an EventBridge event as its body. */
export interface QueueMessage {
  readonly messageId: string;
  readonly body: string;
  /** how many times the queue has delivered it, this time included */
  readonly receiveCount: number;
}

/** What starting an execution under a name gave. */
export interface StartOutcome {
  /** an execution of this name already existed: nothing was started */
  readonly existed: boolean;
  /** when it existed: whether its input equals this one */
  readonly sameInput: boolean;
}

/** Starts a workflow (a state machine of this stack) under a name, once: the name is the idempotency key. */
export interface ExecutionStarter {
  /** @throws TransientServiceError when the engine throttles or cannot be reached (the event is retried) */
  start(workflow: string, name: string, input: unknown): Promise<StartOutcome>;
}

/** Reads the cluster's nodes. */
export interface NodeLookup {
  /** The node of that name, or null. */
  readNode(name: string): Promise<V1Node | null>;
  /** The node edgekeeper recorded this SSM instance on (its instance-id annotation), or null. */
  nodeOfInstance(instanceId: string): Promise<V1Node | null>;
}

/** The queue's dead-letter queue: where an event that can never start goes at once, with its reason. */
export interface DeadLetters {
  send(message: QueueMessage, reason: string): Promise<void>;
}

/** Structured log lines (Powertools deployed, the sandbox log locally). */
export interface StarterLog {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
}

export interface StarterPorts {
  readonly engine: ExecutionStarter;
  readonly nodes: NodeLookup;
  readonly deadLetters: DeadLetters;
  readonly log: StarterLog;
}
