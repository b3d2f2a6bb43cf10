import { type JoinSendPorts, sendJoinScript } from '../../../functions/send-join-script/core';
import { caught } from '../../support/thrown';
import { settingsFor } from './fixtures';

const TOKEN = `${'a'.repeat(64)}.eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.c2lnbmF0dXJl`;

type Call =
  | { op: 'store'; name: string; value: string }
  | { op: 'delete'; name: string }
  | { op: 'send'; instanceId: string; commands: string[]; comment: string };

/** The cluster's token, Parameter Store and SSM's SendCommand, recording every call in order. */
function ports(token: string | null, sendFails?: Error): JoinSendPorts & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    readJoinToken: async () => token,
    storeToken: async (name, value) => {
      calls.push({ op: 'store', name, value });
    },
    deleteToken: async (name) => {
      calls.push({ op: 'delete', name });
    },
    sendCommand: async (instanceId, commands, comment) => {
      calls.push({ op: 'send', instanceId, commands: [...commands], comment });
      if (sendFails) throw sendFails;
      return 'cmd-join-1';
    },
  };
}

const REQUEST = {
  operationId: 'op-1',
  instanceId: 'mi-0123456789abcdef0',
  nodeName: 'edge-1',
  settings: settingsFor('v1.6.1'),
};

describe('sendJoinScript', () => {
  it('stores the token in the execution parameter, sends a script that only names it, returns the command', async () => {
    // Prepare
    const fake = ports(TOKEN);

    // Act
    const poll = await sendJoinScript(fake, REQUEST);

    // Assess
    expect(poll).toMatchObject({ commandId: 'cmd-join-1', instanceId: 'mi-0123456789abcdef0', attempt: 0 });
    expect(JSON.stringify(poll)).not.toContain(TOKEN);
    expect(fake.calls.map((c) => c.op)).toEqual(['store', 'send']);
    expect(fake.calls[0]).toEqual({ op: 'store', name: '/edgekeeper/join-token/op-1', value: TOKEN });
    const sent = fake.calls[1] as Extract<Call, { op: 'send' }>;
    expect(sent.comment).toBe('edgekeeper join edge-1 (op-1)');
    expect(sent.commands.join('\n')).not.toContain(TOKEN);
    expect(sent.commands.join('\n')).toContain('EDGEKEEPER_TOKEN_PARAMETER=/edgekeeper/join-token/op-1 bash');
    expect(sent.commands.join('\n')).toMatch(/^node_name=edge-1$/m);
  });

  it("deletes the parameter again when SSM refuses the command, and fails with SSM's error", async () => {
    // Prepare
    const fake = ports(TOKEN, Object.assign(new Error('instance offline'), { name: 'HostUnreachableError' }));

    // Act
    const error = await caught(sendJoinScript(fake, REQUEST));

    // Assess
    expect(error.name).toBe('HostUnreachableError');
    expect(fake.calls.map((c) => c.op)).toEqual(['store', 'send', 'delete']);
    expect(fake.calls[2]).toEqual({ op: 'delete', name: '/edgekeeper/join-token/op-1' });
  });

  it('fails with KubeEdgeNotInstalledError and sends nothing when the cluster has no token', async () => {
    // Prepare
    const fake = ports(null);

    // Act
    const error = await caught(sendJoinScript(fake, REQUEST));

    // Assess
    expect(error.name).toBe('KubeEdgeNotInstalledError');
    expect(error.message).toBe('cluster has no join token (Secret kubeedge/tokensecret)');
    expect(fake.calls).toEqual([]);
  });

  it('refuses a token of an unexpected shape without sending it or naming it', async () => {
    // Prepare
    const fake = ports("abc'; reboot; '");

    // Act
    const error = await caught(sendJoinScript(fake, REQUEST));

    // Assess
    expect(error.name).toBe('InvalidJoinTokenError');
    expect(error.message).not.toContain('reboot');
    expect(fake.calls).toEqual([]);
  });
});
