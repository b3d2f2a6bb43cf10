import { execFileSync } from 'node:child_process';
import {
  judgeRouting,
  RoutingFailedError,
  renderRoutingScript,
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
