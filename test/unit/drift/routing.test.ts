import { gzipSync } from 'node:zlib';
import { checkRouting, type RoutingCheckPort } from '../../../functions/drift-check-hosts/routing';
import { restoreRouting } from '../../../functions/drift-remediate/routing';
import { collector, paged } from './fakes';

const DEST = '203.0.113.10:10003';
const CONFIG = { enabled: true, cloudHostTag: 'edgekeeper-role=cloud', timeoutSeconds: 60, destination: DEST };
const CLOCK = { now: () => 0, sleep: async () => {} };

/** Cloud hosts as iptables tables (IP → port → destination), running the routing script's three actions. */
function fakeCloud(
  hosts: Record<string, Record<string, Record<string, string>>>,
  nodes: { name: string; ip: string }[],
) {
  const sent: string[] = [];
  const outputs = new Map<string, Map<string, string>>();
  const value = (script: string, name: string) =>
    /^([A-Z_]+)='?([^'\n]*)'?$/m.exec(
      script.split(`\n${name}=`)[1] ? `${name}=${script.split(`\n${name}=`)[1].split('\n')[0]}` : '',
    )?.[2] ?? '';
  const port: RoutingCheckPort = {
    async sendToTagged(_tag, script) {
      const commandId = `c${sent.length}`;
      const action = value(script, 'ACTION');
      sent.push(action === 'list' ? 'list' : `${action} ${value(script, 'NODE_IP')}`);
      const perHost = new Map<string, string>();
      for (const [instanceId, rules] of Object.entries(hosts)) {
        const ip = value(script, 'NODE_IP');
        if (action === 'add')
          rules[ip] = { ...rules[ip], '10350': value(script, 'DESTINATION'), '10250': value(script, 'DESTINATION') };
        if (action === 'remove') delete rules[ip];
        const lines = Object.entries(rules).flatMap(([ruleIp, ports]) =>
          Object.entries(ports).map(([p, d]) => `${ruleIp} ${p} ${d}\n`),
        );
        perHost.set(instanceId, `edgekeeper: routing-list: ${gzipSync(lines.join('')).toString('base64')}\n`);
      }
      outputs.set(commandId, perHost);
      return commandId;
    },
    describeCommand: async () => ({ status: 'Success', targetCount: Object.keys(hosts).length }),
    listInvocations: async (commandId) =>
      [...(outputs.get(commandId) ?? [])].map(([instanceId]) => ({
        instanceId,
        status: 'Success',
        responseCode: 0,
        stdout: '',
        stderr: '',
      })),
    readInvocation: async (commandId, instanceId) => ({
      status: 'Success',
      responseCode: 0,
      stdout: outputs.get(commandId)?.get(instanceId) ?? '',
      stderr: '',
    }),
    listRoutedNodes: paged(nodes, 1),
  };
  return { port, sent };
}

const both = (destination: string) => ({ '10350': destination, '10250': destination });

describe('drift check of logs/exec routing', () => {
  it('finds a node missing a rule on one host, a rule to another destination and a rule no node explains, in one command', async () => {
    const { port, sent } = fakeCloud(
      {
        'i-a': { '10.20.0.11': both(DEST), '10.20.0.12': both('198.51.100.1:10003'), '10.99.0.1': both(DEST) },
        'i-b': { '10.20.0.11': { '10350': DEST }, '10.20.0.12': both(DEST) },
      },
      [
        { name: 'edge-1', ip: '10.20.0.11' },
        { name: 'edge-2', ip: '10.20.0.12' },
      ],
    );
    const { collector: c } = collector();
    await checkRouting(port, CONFIG, c, CLOCK);
    const result = await c.result();
    expect(sent).toEqual(['list']);
    expect(result.counts).toEqual({ 'routing-missing': 1, 'routing-stale': 2 });
    expect(result.sample.map((f) => [f.type, f.object, f.seen, f.severity, f.fix])).toEqual([
      ['routing-missing', 'node/edge-1', '10.20.0.11: i-b: no rule for port 10250', 'medium', 'automatic'],
      [
        'routing-stale',
        'node/edge-2',
        '10.20.0.12: i-a: port 10250 goes to 198.51.100.1:10003; i-a: port 10350 goes to 198.51.100.1:10003',
        'medium',
        'automatic',
      ],
      [
        'routing-stale',
        'routing/10.99.0.1',
        'i-a: port 10250, 10350 goes to 203.0.113.10:10003',
        'medium',
        'automatic',
      ],
    ]);
  });

  it('sends nothing when routing is off and says it was not checked', async () => {
    const { port, sent } = fakeCloud({ 'i-a': {} }, [{ name: 'edge-1', ip: '10.20.0.11' }]);
    const { collector: c } = collector();
    await checkRouting(port, { ...CONFIG, enabled: false }, c, CLOCK);
    expect(sent).toEqual([]);
    expect((await c.result()).notes).toEqual(['logs/exec routing is off: not checked']);
  });

  it('notes, without findings, when no cloud host carries the tag', async () => {
    const { port } = fakeCloud({}, [{ name: 'edge-1', ip: '10.20.0.11' }]);
    const { collector: c } = collector();
    await checkRouting(port, CONFIG, c, CLOCK);
    const result = await c.result();
    expect(result.counts).toEqual({});
    expect(result.notes).toEqual([
      expect.stringMatching(/^logs\/exec routing not checked: no cloud host carries the SSM tag edgekeeper-role=cloud/),
    ]);
  });

  it('restores missing and stale routing with the routing step’s add and remove, and the next check is clean', async () => {
    const hosts = {
      'i-a': { '10.20.0.11': both(DEST), '10.20.0.12': both('198.51.100.1:10003'), '10.99.0.1': both(DEST) },
      'i-b': { '10.20.0.12': both(DEST) } as Record<string, Record<string, string>>,
    };
    const nodes = [
      { name: 'edge-1', ip: '10.20.0.11' },
      { name: 'edge-2', ip: '10.20.0.12' },
    ];
    const { port, sent } = fakeCloud(hosts, nodes);
    const { collector: c } = collector();
    await restoreRouting(port, CONFIG, 'drift-1', c, CLOCK);
    const result = await c.result();
    expect(sent).toEqual(['list', 'add 10.20.0.11', 'remove 10.20.0.12', 'add 10.20.0.12', 'remove 10.99.0.1']);
    expect(result.sample.map((f) => [f.type, f.object, f.fixed])).toEqual([
      ['routing-missing', 'node/edge-1', true],
      ['routing-stale', 'node/edge-2', true],
      ['routing-stale', 'routing/10.99.0.1', true],
    ]);
    expect(hosts['i-b']).toEqual({ '10.20.0.11': both(DEST), '10.20.0.12': both(DEST) });
    const again = collector();
    await checkRouting(fakeCloud(hosts, nodes).port, CONFIG, again.collector, CLOCK);
    expect((await again.collector.result()).counts).toEqual({});
  });
});
