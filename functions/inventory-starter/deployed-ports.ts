import { SFNClient } from '@aws-sdk/client-sfn';
import { kubeClients } from '../shared/k8s';
import { logger, traced } from '../shared/powertools';
import { readSettings, type Settings } from '../shared/settings';
import { STARTER_ENV } from './environment';
import { kubeNodeLookup } from './nodes';
import type { NodeLookup, StarterPorts } from './ports';
import { sfnStarter } from './sfn-starter';
import { deadLetterClient, sqsDeadLetters } from './sqs-dead-letters';

/** The starter's ports over the real services, built from the Lambda's environment once per container. */
let deps: { settings: Settings; ports: StarterPorts } | undefined;

/** Once per container. A missing ARN or a bad setting fails the invocation: the whole batch comes back. */
export function deployedDependencies(env = process.env): { settings: Settings; ports: StarterPorts } {
  if (deps) return deps;
  const stateMachines = Object.fromEntries(
    Object.entries(STARTER_ENV.stateMachines).map(([workflow, variable]) => [workflow, env[variable] ?? '']),
  );
  const missing = Object.entries(STARTER_ENV.stateMachines).filter(([workflow]) => !stateMachines[workflow]);
  const queueUrl = env[STARTER_ENV.deadLetterQueueUrl];
  if (missing.length > 0 || !queueUrl) {
    const names = [...missing.map(([, variable]) => variable), ...(queueUrl ? [] : [STARTER_ENV.deadLetterQueueUrl])];
    throw new Error(`the inventory starter needs ${names.join(', ')}`);
  }
  const settings = readSettings();
  const deadLetterQueue = { queueUrl, timeoutSeconds: settings.requestTimeoutSeconds };
  let kube: Promise<NodeLookup> | undefined;
  // the cluster is read only for events that need it; a failed connection is tried again on the next call
  const nodes = (): Promise<NodeLookup> => {
    kube ??= kubeClients(settings).then(kubeNodeLookup);
    kube.catch(() => {
      kube = undefined;
    });
    return kube;
  };
  deps = {
    settings,
    ports: {
      engine: sfnStarter(traced(new SFNClient({})), stateMachines),
      nodes: {
        readNode: async (name) => (await nodes()).readNode(name),
        nodeOfInstance: async (instanceId) => (await nodes()).nodeOfInstance(instanceId),
      },
      deadLetters: sqsDeadLetters(deadLetterClient(deadLetterQueue), deadLetterQueue),
      log: {
        info: (message, attributes) => logger.info(message, attributes),
        warn: (message, attributes) => logger.warn(message, attributes),
      },
    },
  };
  return deps;
}
