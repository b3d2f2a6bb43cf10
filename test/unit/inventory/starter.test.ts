import type { V1Node } from '@kubernetes/client-node';
import { batchExecutionName } from '../../../functions/inventory-starter/batch';
import { startFromInventory } from '../../../functions/inventory-starter/core';
import { itemIdOf } from '../../../functions/inventory-starter/event';
import type { QueueMessage, StarterPorts } from '../../../functions/inventory-starter/ports';
import { TransientServiceError } from '../../../functions/shared/errors';
import type { InventoryFieldMap } from '../../../functions/shared/inventory-settings';

const INSTANCE = 'mi-0ed9e000000000001';
const OTHER_INSTANCE = 'mi-0ed9e000000000002';

function event(id: string, detailType: string, detail: unknown): string {
  return JSON.stringify({
    version: '0',
    id,
    'detail-type': detailType,
    source: 'edgekeeper.inventory',
    time: '2026-12-02T07:00:00Z',
    detail,
  });
}

let sequence = 0;
function message(body: string, receiveCount = 1): QueueMessage {
  sequence += 1;
  return { messageId: `m-${sequence}`, body, receiveCount };
}

const registered = (id: string, detail: Record<string, unknown> = {}) =>
  message(
    event(id, 'Device Registered', {
      deviceId: `dev-${id}`,
      instanceId: INSTANCE,
      nodeName: 'edge-a',
      nodeIp: '10.30.0.1',
      ...detail,
    }),
  );

function readyNode(name: string, instanceId: string): V1Node {
  return {
    metadata: {
      name,
      labels: { 'edgekeeper.io/managed': 'true' },
      annotations: { 'edgekeeper.io/instance-id': instanceId },
    },
    status: { conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

/** Fakes of every port, recording what the starter did. */
function fakes(options: { nodes?: V1Node[]; startError?: Error; existing?: Record<string, unknown> } = {}) {
  const started: { workflow: string; name: string; input: unknown }[] = [];
  const executions = new Map<string, unknown>(Object.entries(options.existing ?? {}));
  const deadLetters: { messageId: string; reason: string }[] = [];
  const logs: { level: string; message: string; attributes: Record<string, unknown> }[] = [];
  const nodes = options.nodes ?? [];
  const ports: StarterPorts = {
    engine: {
      async start(workflow, name, input) {
        if (options.startError) throw options.startError;
        if (executions.has(name)) {
          return { existed: true, sameInput: JSON.stringify(executions.get(name)) === JSON.stringify(input) };
        }
        executions.set(name, input);
        started.push({ workflow, name, input });
        return { existed: false, sameInput: true };
      },
    },
    nodes: {
      readNode: async (name) => nodes.find((node) => node.metadata?.name === name) ?? null,
      nodeOfInstance: async (id) =>
        nodes.find((node) => node.metadata?.annotations?.['edgekeeper.io/instance-id'] === id) ?? null,
    },
    deadLetters: {
      async send(sent, reason) {
        deadLetters.push({ messageId: sent.messageId, reason });
      },
    },
    log: {
      info: (text, attributes) => logs.push({ level: 'info', message: text, attributes }),
      warn: (text, attributes) => logs.push({ level: 'warn', message: text, attributes }),
    },
  };
  return { ports, started, deadLetters, logs };
}

const noMap = { fieldMap: {} };

describe('the inventory starter', () => {
  it('starts onboard-node for a Registered event, named after the event id', async () => {
    // Prepare
    const { ports, started } = fakes();
    const sent = registered('evt-1', { labels: { zone: 'north' }, kubeedgeVersion: 'v1.6.1' });

    // Act
    const result = await startFromInventory([sent], ports, noMap);

    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect(started).toEqual([
      {
        workflow: 'onboard-node',
        name: 'inv-evt-1',
        input: expect.objectContaining({
          nodeName: 'edge-a',
          nodeIp: '10.30.0.1',
          instanceId: INSTANCE,
          mode: 'ssm',
          labels: { zone: 'north' },
          kubeedgeVersion: 'v1.6.1',
          taint: true,
          dryRun: false,
        }),
      },
    ]);
    expect(result.outcomes).toEqual([
      expect.objectContaining({ eventId: 'evt-1', result: 'started', operationId: 'onboard-node:inv-evt-1' }),
    ]);
  });

  it('starts remove-node for a Retired event, finding the node from its instance, draining it', async () => {
    // Prepare
    const { ports, started } = fakes({ nodes: [readyNode('edge-a', INSTANCE)] });
    const retired = message(event('evt-2', 'Device Retired', { deviceId: 'dev-2', instanceId: INSTANCE }));

    // Act
    const result = await startFromInventory([retired], ports, noMap);

    // Assess
    expect(started).toEqual([
      {
        workflow: 'remove-node',
        name: 'inv-evt-2',
        input: { mode: 'remove', nodeName: 'edge-a', instanceId: INSTANCE, drain: true, force: false },
      },
    ]);
    expect(result.outcomes[0]).toMatchObject({ result: 'started', nodeName: 'edge-a' });
  });

  it('reads a site’s own field names through the field map, and names them in its problems', async () => {
    // Prepare
    const fieldMap: InventoryFieldMap = {
      nodeName: 'hostname',
      nodeIp: 'network.primaryIp',
      instanceId: 'ssm.managedInstanceId',
    };
    const { ports, started, deadLetters } = fakes();
    const good = message(
      event('evt-3', 'Device Registered', {
        hostname: 'edge-b',
        network: { primaryIp: '10.30.0.2' },
        ssm: { managedInstanceId: OTHER_INSTANCE },
      }),
    );
    const bad = message(
      event('evt-4', 'Device Registered', {
        hostname: 'edge-c',
        network: { primaryIp: '10.30.0.300' },
        ssm: { managedInstanceId: INSTANCE },
      }),
    );

    // Act
    await startFromInventory([good, bad], ports, { fieldMap });

    // Assess
    expect(started.map((s) => (s.input as { nodeName: string }).nodeName)).toEqual(['edge-b']);
    expect(deadLetters).toEqual([
      {
        messageId: bad.messageId,
        reason: 'detail.network.primaryIp 10.30.0.300 must be an IPv4 address: every part must be 0-255',
      },
    ]);
  });

  it.each([
    ['a body that is not JSON', 'not json', 'body not json is not JSON: expected an EventBridge event'],
    [
      'an unknown detail-type',
      event('evt-5', 'Device Rebooted', {}),
      'detail-type Device Rebooted must be Device Registered or Device Retired',
    ],
    [
      'a missing node name',
      event('evt-6', 'Device Registered', { instanceId: INSTANCE, nodeIp: '10.30.0.3' }),
      'detail.nodeName is required',
    ],
    [
      'a bad instance id on a Retired event',
      event('evt-7', 'Device Retired', { instanceId: 'host-7' }),
      'detail.instanceId host-7 must be an SSM managed instance id',
    ],
  ])('sends %s to the dead-letter queue at once, naming the field, and retries nothing', async (_, body, reason) => {
    // Prepare
    const { ports, started, deadLetters, logs } = fakes();
    const sent = message(body);

    // Act
    const result = await startFromInventory([sent], ports, noMap);

    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect(started).toEqual([]);
    expect(deadLetters).toEqual([{ messageId: sent.messageId, reason: expect.stringContaining(reason) }]);
    expect(logs).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'inventory event sent to the dead-letter queue',
        attributes: expect.objectContaining({ reason: expect.stringContaining(reason) }),
      }),
    );
  });

  it.each([
    [
      'a transient failure',
      new TransientServiceError('SQS did not answer within 10 s (SendMessage to the dead-letter queue)'),
    ],
    ['a refusal', Object.assign(new Error('no'), { name: 'AccessDeniedException' })],
  ])(
    'retries a malformed event whose dead-lettering met %s, so the queue’s redrive still catches it',
    async (_, failure) => {
      // Prepare
      const { ports, logs } = fakes();
      ports.deadLetters.send = async () => {
        throw failure;
      };
      const sent = message('not json');

      // Act
      const result = await startFromInventory([sent], ports, noMap);

      // Assess
      expect(result.batchItemFailures).toEqual([{ itemIdentifier: sent.messageId }]);
      expect(result.outcomes).toEqual([expect.objectContaining({ messageId: sent.messageId, result: 'retry' })]);
      expect(logs).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          message: 'inventory event could not be sent to the dead-letter queue',
          attributes: expect.objectContaining({ reason: expect.stringContaining(failure.message) }),
        }),
      );
    },
  );

  it('starts one execution for an event delivered twice, in one batch or in two', async () => {
    // Prepare
    const { ports, started } = fakes();
    const first = registered('evt-8');
    const again = { ...first, messageId: 'm-again' };

    // Act
    const together = await startFromInventory([first, again], ports, noMap);
    const later = await startFromInventory([{ ...first, messageId: 'm-later', receiveCount: 2 }], ports, noMap);

    // Assess
    expect(started).toHaveLength(1);
    expect(together.outcomes.map((o) => o.result)).toEqual(['started', 'started']);
    expect(later.outcomes).toEqual([
      expect.objectContaining({ result: 'already-started', operationId: 'onboard-node:inv-evt-8' }),
    ]);
    expect(later.batchItemFailures).toEqual([]);
  });

  it('dead-letters an event id reused for another payload', async () => {
    // Prepare
    const { ports } = fakes({ existing: { 'inv-evt-9': { nodeName: 'someone-else' } } });
    const sent = registered('evt-9');

    // Act
    const result = await startFromInventory([sent], ports, noMap);

    // Assess
    expect(result.outcomes).toEqual([
      expect.objectContaining({ result: 'dead-letter', reason: expect.stringContaining('event id evt-9 was reused') }),
    ]);
  });

  it('starts nothing for a device whose node is already joined and Ready on its instance, and says so', async () => {
    // Prepare
    const { ports, started, logs } = fakes({ nodes: [readyNode('edge-a', INSTANCE)] });

    // Act
    const result = await startFromInventory([registered('evt-10')], ports, noMap);

    // Assess
    expect(started).toEqual([]);
    expect(result.outcomes).toEqual([
      expect.objectContaining({ result: 'no-op', reason: expect.stringContaining('already joined') }),
    ]);
    expect(logs).toContainEqual(
      expect.objectContaining({ level: 'info', attributes: expect.objectContaining({ eventId: 'evt-10' }) }),
    );
  });

  it('onboards a device whose node exists but is not Ready', async () => {
    // Prepare
    const notReady = readyNode('edge-a', INSTANCE);
    notReady.status = { conditions: [{ type: 'Ready', status: 'False' }] };
    const { ports, started } = fakes({ nodes: [notReady] });

    // Act
    await startFromInventory([registered('evt-11')], ports, noMap);

    // Assess
    expect(started).toHaveLength(1);
  });

  it('starts nothing for a Retired device no node carries', async () => {
    // Prepare
    const { ports, started } = fakes();
    const retired = message(event('evt-12', 'Device Retired', { instanceId: OTHER_INSTANCE }));

    // Act
    const result = await startFromInventory([retired], ports, noMap);

    // Assess
    expect(started).toEqual([]);
    expect(result.outcomes[0]).toMatchObject({ result: 'no-op', reason: expect.stringContaining(OTHER_INSTANCE) });
  });

  it('starts one batch execution for a burst of one kind, each event an item named after it', async () => {
    // Prepare
    const { ports, started } = fakes();
    const burst = [1, 2, 3].map((n) =>
      registered(`evt-b${n}`, {
        nodeName: `edge-b${n}`,
        nodeIp: `10.30.1.${n}`,
        instanceId: `mi-0ed9e00000000000${n}`,
      }),
    );

    // Act
    const result = await startFromInventory(burst, ports, noMap);

    // Assess
    const name = batchExecutionName('onboard', ['inv-evt-b1', 'inv-evt-b2', 'inv-evt-b3']);
    expect(started).toEqual([
      {
        workflow: 'batch-onboard',
        name,
        input: {
          requests: [1, 2, 3].map((n) =>
            expect.objectContaining({ id: `inv-evt-b${n}`, nodeName: `edge-b${n}`, nodeIp: `10.30.1.${n}` }),
          ),
        },
      },
    ]);
    expect(result.outcomes.map((o) => [o.eventId, o.operationId, o.itemId])).toEqual(
      [1, 2, 3].map((n) => [`evt-b${n}`, `batch-onboard:${name}`, `inv-evt-b${n}`]),
    );
  });

  it('keeps a burst’s second request for the same node out of the batch and retries it', async () => {
    // Prepare
    const { ports, started } = fakes();
    const first = registered('evt-c1', { nodeName: 'edge-c', nodeIp: '10.30.2.1' });
    const second = registered('evt-c2', { nodeName: 'edge-c', nodeIp: '10.30.2.2', instanceId: OTHER_INSTANCE });
    const third = registered('evt-c3', {
      nodeName: 'edge-d',
      nodeIp: '10.30.2.3',
      instanceId: 'mi-0ed9e000000000003',
    });

    // Act
    const result = await startFromInventory([first, second, third], ports, noMap);

    // Assess
    expect(started.map((s) => s.workflow)).toEqual(['batch-onboard']);
    expect(started.flatMap((s) => (s.input as { requests: { id: string }[] }).requests.map((r) => r.id))).toEqual([
      'inv-evt-c1',
      'inv-evt-c3',
    ]);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: second.messageId }]);
    expect(result.outcomes.find((o) => o.eventId === 'evt-c2')?.reason).toBe(
      'node edge-c is also named by event evt-c1 of this burst: retried after it',
    );
  });

  it('retries every event of a start the engine throttled', async () => {
    // Prepare
    const { ports } = fakes({ startError: new TransientServiceError('Step Functions throttled starting') });
    const sent = registered('evt-13');

    // Act
    const result = await startFromInventory([sent], ports, noMap);

    // Assess
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: sent.messageId }]);
    expect(result.outcomes[0]?.reason).toContain('throttled');
  });

  it('names an event by a hash when its id is not a legal execution name', () => {
    expect(itemIdOf('3f2a9c4e-1b2d-4c5e-8f90-a1b2c3d4e5f6')).toBe('inv-3f2a9c4e-1b2d-4c5e-8f90-a1b2c3d4e5f6');
    expect(itemIdOf('device/7 registered')).toMatch(/^inv-[0-9a-f]{40}$/);
    expect(itemIdOf('x'.repeat(70))).toMatch(/^inv-[0-9a-f]{40}$/);
  });
});
