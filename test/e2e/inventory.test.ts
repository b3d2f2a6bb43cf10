import { readdirSync } from 'node:fs';
import { EXIT, type Io, main } from '../../local/cli/program';
import type { EmitReport } from '../../local/inventory/emit';
import { E2E, HOSTS, internalIps, readyStatus } from './harness';
import { CLEAN_HOST, hostState } from './removal-helpers';

/*
 * `edgekeeper inventory emit` on one sandbox, as an operator would try the inventory path: the events go through
 * the in-process queue to the starter code the stack deploys, and the report says what became of each. The tests
 * run in order: the node the first joins, the last removes.
 */

const HOST = HOSTS.ubuntuArm64Containerd;
const NODE = 'inv-edge-1';
const IP = '10.20.0.71';

let e2e: E2E;

beforeAll(async () => {
  e2e = await E2E.start({ readyDelayMs: 100, prefix: 'edgekeeper-e2e-inventory-' });
});

afterAll(async () => {
  await e2e?.stop();
});

/** Runs `edgekeeper inventory emit --sandbox <dir> … --json` in-process; the report is what it printed. */
async function emit(args: string[]): Promise<{ code: number; report: EmitReport; stderr: string }> {
  let out = '';
  let err = '';
  const io: Io = {
    stdout: (text) => {
      out += text;
    },
    stderr: (text) => {
      err += text;
    },
    env: {},
    color: false,
    onStop: () => () => undefined,
  };
  const code = await main(['inventory', 'emit', '--sandbox', e2e.dir, '--json', ...args], io);
  return { code, report: JSON.parse(out || '{}') as EmitReport, stderr: err };
}

/** The execution records of the sandbox's runs whose name starts with the prefix. */
const records = (prefix: string) => readdirSync(e2e.executionsDir).filter((file) => file.startsWith(prefix));

describe('edgekeeper inventory emit on the sandbox', () => {
  it('starts one execution for a Registered event delivered twice, and the node ends Ready', async () => {
    // Act
    const { code, report } = await emit([
      '--registered',
      HOST,
      '--name',
      NODE,
      '--ip',
      IP,
      '--event-id',
      'evt-inv-1',
      '--duplicate',
    ]);

    // Assess
    expect(code).toBe(EXIT.ok);
    expect(
      report.events.map((event) => [event.eventId, event.result, event.operationId, event.execution?.status]),
    ).toEqual([
      ['evt-inv-1', 'started', 'onboard-node:inv-evt-inv-1', 'SUCCEEDED'],
      ['evt-inv-1', 'already-started', 'onboard-node:inv-evt-inv-1', 'SUCCEEDED'],
    ]);
    expect(records('inv-evt-inv-1')).toEqual(['inv-evt-inv-1.json']);
    const node = await e2e.node(NODE);
    expect(readyStatus(node)).toBe('True');
    expect(internalIps(node)).toEqual([IP]);
    expect(report.deadLetters).toEqual([]);
  });

  it('starts nothing when the event comes again once the node is Ready, and says why', async () => {
    // Act
    const { code, report } = await emit(['--registered', HOST, '--name', NODE, '--ip', IP, '--event-id', 'evt-inv-1']);

    // Assess
    expect(code).toBe(EXIT.ok);
    expect(report.events).toEqual([
      expect.objectContaining({
        result: 'no-op',
        reason: `node ${NODE} is already joined on ${HOST} and Ready: nothing to do`,
      }),
    ]);
  });

  it('puts a malformed event in the dead-letter queue with its reason, and starts nothing', async () => {
    // Act
    const { code, report } = await emit([
      '--registered',
      HOSTS.centosArmv7,
      '--event-id',
      'evt-inv-bad',
      '--detail',
      '{"nodeIp":"10.20.0.999"}',
    ]);

    // Assess
    expect(code).toBe(EXIT.workflowFailed);
    expect(report.deadLetters).toEqual([
      expect.objectContaining({
        eventId: 'evt-inv-bad',
        receiveCount: 1,
        reason: 'detail.nodeIp 10.20.0.999 must be an IPv4 address: every part must be 0-255',
      }),
    ]);
    expect(report.events).toEqual([expect.objectContaining({ result: 'dead-letter' })]);
    expect(records('inv-evt-inv-bad')).toEqual([]);
  });

  it('starts one batch for a burst, each device traceable from its event to its per-node result', async () => {
    // Act: two hosts registered at once, then retired at once, each under its host's own name and address
    const joined = await emit(['--registered', HOSTS.ubuntuAmd64, '--registered', HOSTS.centosArmv7]);
    const removed = await emit(['--retired', HOSTS.ubuntuAmd64, '--retired', HOSTS.centosArmv7]);

    // Assess
    for (const [{ code, report }, workflow, status] of [
      [joined, 'batch-onboard', 'joined'],
      [removed, 'batch-remove', 'removed'],
    ] as const) {
      expect(code).toBe(EXIT.ok);
      expect(new Set(report.events.map((event) => event.operationId?.split(':')[0]))).toEqual(new Set([workflow]));
      expect(new Set(report.events.map((event) => event.operationId)).size).toBe(1);
      for (const event of report.events) {
        expect(event.itemId).toBe(`inv-${event.eventId}`);
        expect(event.item).toMatchObject({ id: event.itemId, nodeName: event.nodeName, status });
      }
    }
    expect(await e2e.node('edge-ubuntu-amd64')).toBeUndefined();
  });

  it('removes the node of a Retired device and resets its host', async () => {
    // Act
    const { code, report } = await emit(['--retired', HOST, '--event-id', 'evt-inv-2']);

    // Assess
    expect(code).toBe(EXIT.ok);
    expect(report.events).toEqual([
      expect.objectContaining({
        result: 'started',
        nodeName: NODE,
        operationId: 'remove-node:inv-evt-inv-2',
        execution: { status: 'SUCCEEDED', error: null },
      }),
    ]);
    expect(await e2e.node(NODE)).toBeUndefined();
    expect(await hostState(e2e, HOST)).toEqual(CLEAN_HOST);
  });
});
