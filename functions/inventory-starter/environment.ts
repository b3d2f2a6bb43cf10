/**
 * The environment variables that give the inventory starter its state machines and its dead-letter queue (set by
 * lib/constructs/inventory.ts, read by handler.ts). The API's names are reused for the two workflows it shares.
 */
export const STARTER_ENV = Object.freeze({
  stateMachines: {
    'onboard-node': 'EDGEKEEPER_ONBOARD_STATE_MACHINE_ARN',
    'remove-node': 'EDGEKEEPER_REMOVE_STATE_MACHINE_ARN',
    'batch-onboard': 'EDGEKEEPER_BATCH_ONBOARD_STATE_MACHINE_ARN',
    'batch-remove': 'EDGEKEEPER_BATCH_REMOVE_STATE_MACHINE_ARN',
  },
  deadLetterQueueUrl: 'EDGEKEEPER_INVENTORY_DLQ_URL',
} as const);
