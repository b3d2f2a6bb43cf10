import { execFileSync } from 'node:child_process';
import {
  type Clock,
  checkRouting,
  judgeRouting,
  type RoutingConfig,
  RoutingFailedError,
  type RoutingPort,
  type RoutingRequest,
  renderRoutingScript,
  routeNodeStreams,
  startRouting,
  streamDestination,
} from '../../../functions/route-node-streams/core';
import { caught, thrown } from '../../support/thrown';

const invocation = (instanceId: string, status: string, stdout = '', responseCode = 0) => ({
  instanceId,
  status,
  responseCode,
  stdout,
  stderr: '',
});

describe('renderRoutingScript', () => {
  it('fills the values block and nothing else', () => {
    const script = renderRoutingScript({ action: 'add', nodeIp: '10.20.0.11', destination: '203.0.113.10:10003' });
    expect(script).toMatch(/^ACTION=add$/m);
    expect(script).toMatch(/^NODE_IP=10\.20\.0\.11$/m);
    expect(script).toMatch(/^DESTINATION=203\.0\.113\.10:10003$/m);
    expect(script).toContain('readonly KUBELET_PORTS=(10350 10250)');
  });

  it('needs no destination to remove: rules are found by the node IP', () => {
    const script = renderRoutingScript({ action: 'remove', nodeIp: '10.20.0.11' });
    expect(script).toMatch(/^ACTION=remove$/m);
    expect(script).toMatch(/^NODE_IP=10\.20\.0\.11$/m);
    expect(script).toMatch(/^DESTINATION=''$/m);
  });

  it('refuses a node IP or destination that cannot go into the script, naming it', () => {
    const badIp = thrown(() => renderRoutingScript({ action: 'remove', nodeIp: '10.0.0.1; reboot' }));
    expect(badIp).toBeInstanceOf(RoutingFailedError);
    expect(badIp.message).toContain('cannot remove routing for 10.0.0.1; reboot');
    const badDestination = thrown(() =>
      renderRoutingScript({ action: 'add', nodeIp: '10.20.0.11', destination: 'cloudcore $(id)' }),
    );
    expect(badDestination.message).toContain('destination cloudcore $(id) must be host:port');
  });

  it('renders scripts that shellcheck accepts', () => {
    for (const script of [
      renderRoutingScript({ action: 'add', nodeIp: '10.20.0.11', destination: 'cloudcore.example:10003' }),
      renderRoutingScript({ action: 'remove', nodeIp: '10.20.0.11' }),
    ]) {
      expect(() => execFileSync('shellcheck', ['-'], { input: script })).not.toThrow();
    }
  });
});

describe('streamDestination', () => {
  it('is cloudcore’s public address and stream port', () => {
    expect(streamDestination({ address: '203.0.113.10', ports: { stream: 10003 } })).toBe('203.0.113.10:10003');
  });
});

describe('judgeRouting', () => {
  const tag = 'edgekeeper-role=cloud';

  it('fails when no cloud host carries the tag, saying how to fix it', () => {
    const error = thrown(() => judgeRouting([], 0, tag));
    expect(error.name).toBe('RoutingFailedError');
    expect(error.message).toBe(
      'no cloud host carries the SSM tag edgekeeper-role=cloud: tag the control-plane hosts or turn routing off',
    );
  });

  it('waits while a host has not reported or is still running', () => {
    expect(judgeRouting([invocation('mi-1', 'Success')], 2, tag)).toBeUndefined();
    expect(judgeRouting([invocation('mi-1', 'Success'), invocation('mi-2', 'InProgress')], 2, tag)).toBeUndefined();
  });

  it('reports what each host changed once all succeeded', () => {
    const hosts = judgeRouting(
      [
        invocation('mi-1', 'Success', 'edgekeeper: routing: port 10350 of 10.20.0.11 now goes to a:1\nnoise\n'),
        invocation('mi-2', 'Success', 'edgekeeper: routing: no rule for 10.20.0.11\n'),
      ],
      2,
      tag,
    );
    expect(hosts).toEqual([
      { instanceId: 'mi-1', status: 'Success', changes: ['port 10350 of 10.20.0.11 now goes to a:1'] },
      { instanceId: 'mi-2', status: 'Success', changes: ['no rule for 10.20.0.11'] },
    ]);
  });

  it('fails naming each host that did not apply it and its last line', async () => {
    const error = await caught(
      (async () =>
        judgeRouting(
          [
            invocation('mi-1', 'Success'),
            invocation('mi-2', 'Failed', 'edgekeeper: routing: error: iptables is not installed\n', 30),
            invocation('mi-3', 'Undeliverable', '', -1),
          ],
          3,
          tag,
        ))(),
    );
    expect(error.message).toBe(
      'logs/exec routing failed on 2 cloud host(s): mi-2 Failed (exit 30): edgekeeper: routing: error: iptables is ' +
        'not installed; mi-3 Undeliverable (exit -1): no output',
    );
  });
});

/**
 * SSM Run Command by tag as the step sees it: the command reports its targets once finished, after `pollsToFinish`
 * looks; every tagged host then reports Success with the routing lines the script prints.
 */
class FakeRunCommand implements RoutingPort {
  sent: { tag: string; script: string; comment: string }[] = [];
  looks = 0;
  constructor(
    private readonly hosts: string[],
    private readonly pollsToFinish = 2,
    private readonly hostStatus = 'Success',
  ) {}
  async sendToTagged(tag: string, script: string, comment: string) {
    this.sent.push({ tag, script, comment });
    return 'cmd-routing-1';
  }
  async describeCommand() {
    this.looks++;
    const finished = this.looks >= this.pollsToFinish;
    return { status: finished ? 'Success' : 'InProgress', targetCount: finished ? this.hosts.length : 0 };
  }
  async listInvocations() {
    return this.hosts.map((instanceId) =>
      invocation(instanceId, this.hostStatus, 'edgekeeper: routing: port 10350 of 10.20.0.11 now goes to a:1\n'),
    );
  }
}

/** A clock that only moves when the code under test sleeps. */
function fakeClock(startMs = Date.parse('2025-03-01T10:00:00.000Z')): Clock & { slept: number[] } {
  let now = startMs;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (seconds) => {
      slept.push(seconds);
      now += seconds * 1000;
    },
  };
}

const CONFIG: RoutingConfig = { enabled: true, cloudHostTag: 'edgekeeper-role=cloud', timeoutSeconds: 60 };
const ADD: RoutingRequest = {
  operationId: 'op-1',
  nodeName: 'edge-1',
  nodeIp: '10.20.0.11',
  action: 'add',
  cloudcore: { address: '203.0.113.10', ports: { stream: 10003 } },
};

describe('routeNodeStreams', () => {
  it('sends the rendered routing to the tagged cloud hosts and waits until each applied it', async () => {
    // Prepare
    const ssm = new FakeRunCommand(['mi-1', 'mi-2'], 3);
    const clock = fakeClock();

    // Act
    const result = await routeNodeStreams(ssm, ADD, CONFIG, clock);

    // Assess
    expect(result.outcome).toEqual({ step: 'routing', result: 'done', detail: 'add on 2 cloud host(s)' });
    expect(result.hosts?.map((host) => host.instanceId)).toEqual(['mi-1', 'mi-2']);
    expect(ssm.sent).toHaveLength(1);
    expect(ssm.sent[0]?.tag).toBe('edgekeeper-role=cloud');
    expect(ssm.sent[0]?.comment).toBe('edgekeeper routing add edge-1 (op-1)');
    expect(ssm.sent[0]?.script).toMatch(/^DESTINATION=203\.0\.113\.10:10003$/m);
    expect(clock.slept).toEqual([1, 1, 1]);
  });

  it('prefers the configured stream endpoint over cloudcore’s address', async () => {
    // Prepare
    const ssm = new FakeRunCommand(['mi-1'], 1);

    // Act
    await routeNodeStreams(ssm, ADD, { ...CONFIG, streamEndpoint: 'lb.example:443' }, fakeClock());

    // Assess
    expect(ssm.sent[0]?.script).toMatch(/^DESTINATION=lb\.example:443$/m);
  });

  it('sends nothing when routing is off, or when a rollback never learnt the node IP', async () => {
    // Prepare
    const ssm = new FakeRunCommand(['mi-1']);

    // Act
    const off = await routeNodeStreams(ssm, ADD, { ...CONFIG, enabled: false }, fakeClock());
    const noIp = await routeNodeStreams(ssm, { ...ADD, action: 'remove', nodeIp: null }, CONFIG, fakeClock());

    // Assess
    expect(off.outcome).toEqual({ step: 'routing', result: 'skipped', detail: 'logs/exec routing is off' });
    expect(noIp.outcome).toEqual({ step: 'routing', result: 'nothing-to-do', detail: 'no node IP, no routing' });
    expect(ssm.sent).toEqual([]);
  });

  it('fails naming the command when the hosts do not finish within the routing timeout', async () => {
    // Prepare
    const ssm = new FakeRunCommand(['mi-1'], 1000);
    const clock = fakeClock();

    // Act
    const error = await caught(routeNodeStreams(ssm, ADD, { ...CONFIG, timeoutSeconds: 20 }, clock));

    // Assess
    expect(error.name).toBe('RoutingFailedError');
    expect(error.message).toBe('cloud hosts did not finish the routing command cmd-routing-1 within 20 s');
    expect(clock.slept.reduce((sum, seconds) => sum + seconds, 0)).toBe(20);
  });

  it('fails naming the host that could not apply it', async () => {
    // Act
    const error = await caught(routeNodeStreams(new FakeRunCommand(['mi-1'], 1, 'Failed'), ADD, CONFIG, fakeClock()));

    // Assess
    expect(error.message).toMatch(/^logs\/exec routing failed on 1 cloud host\(s\): mi-1 Failed/);
  });

  it('removes nothing, and succeeds, when no cloud host carries the tag; adding still fails', async () => {
    // Prepare: a rollback of a join that failed because no host was tagged must not fail the same way
    const remove: RoutingRequest = { ...ADD, action: 'remove' };

    // Act
    const removed = await routeNodeStreams(new FakeRunCommand([]), remove, CONFIG, fakeClock());
    const added = await caught(routeNodeStreams(new FakeRunCommand([]), ADD, CONFIG, fakeClock()));

    // Assess
    expect(removed.outcome).toEqual({
      step: 'routing',
      result: 'nothing-to-do',
      detail: 'no cloud host carries the SSM tag edgekeeper-role=cloud: no routing to remove',
    });
    expect(added.message).toMatch(/^no cloud host carries the SSM tag edgekeeper-role=cloud/);
  });

  it('cannot add without somewhere to send the streams', async () => {
    const error = await caught(
      routeNodeStreams(new FakeRunCommand([]), { ...ADD, cloudcore: undefined }, CONFIG, fakeClock()),
    );
    expect(error.message).toBe('cannot add routing: no stream endpoint and no cloudcore address');
  });
});

describe('startRouting and checkRouting (the workflow waits between looks, not the Lambda)', () => {
  it('returns the command to look at, then one answer per look', async () => {
    // Prepare
    const ssm = new FakeRunCommand(['mi-1'], 2);
    const t0 = Date.parse('2025-03-01T10:00:00.000Z');

    // Act
    const started = await startRouting(ssm, ADD, CONFIG, t0);
    if (started.status !== 'InProgress') throw new Error('expected a command in flight');
    const first = await checkRouting(ssm, started.command, CONFIG, t0 + 1000);
    if (first.status !== 'InProgress') throw new Error('expected the command still in flight');
    const second = await checkRouting(ssm, first.command, CONFIG, t0 + 2000);

    // Assess
    expect(started).toEqual({
      status: 'InProgress',
      command: { action: 'add', commandId: 'cmd-routing-1', startedAt: '2025-03-01T10:00:00.000Z', attempt: 0 },
      waitSeconds: 1,
    });
    expect(first).toMatchObject({ command: { attempt: 1 }, waitSeconds: 1 });
    expect(second).toMatchObject({ status: 'Done', outcome: { result: 'done', detail: 'add on 1 cloud host(s)' } });
  });

  it('never waits past the routing timeout', async () => {
    // Prepare
    const ssm = new FakeRunCommand(['mi-1'], 1000);
    const command = { action: 'add' as const, commandId: 'c', startedAt: '2025-03-01T10:00:00.000Z', attempt: 9 };

    // Act
    const look = await checkRouting(ssm, command, CONFIG, Date.parse('2025-03-01T10:00:58.000Z'));

    // Assess
    expect(look).toMatchObject({ status: 'InProgress', waitSeconds: 2 });
  });
});
