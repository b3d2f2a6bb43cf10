import { type JoinSendPorts, sendJoinScript } from '../../../functions/send-join-script/core';
import { caught } from '../../support/thrown';
import { settingsFor } from './fixtures';

const TOKEN = `${'a'.repeat(64)}.eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.c2lnbmF0dXJl`;

/** The cluster's token and SSM's SendCommand, recording what was sent. */
function ports(
  token: string | null,
): JoinSendPorts & { sent: { instanceId: string; commands: string[]; comment: string }[] } {
  const sent: { instanceId: string; commands: string[]; comment: string }[] = [];
  return {
    sent,
    readJoinToken: async () => token,
    sendCommand: async (instanceId, commands, comment) => {
      sent.push({ instanceId, commands: [...commands], comment });
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
  it('sends the rendered script with the token to the host and returns only the command to poll', async () => {
    // Prepare
    const fake = ports(TOKEN);

    // Act
    const poll = await sendJoinScript(fake, REQUEST);

    // Assess
    expect(poll).toMatchObject({ commandId: 'cmd-join-1', instanceId: 'mi-0123456789abcdef0', attempt: 0 });
    expect(JSON.stringify(poll)).not.toContain(TOKEN);
    expect(fake.sent).toHaveLength(1);
    expect(fake.sent[0]?.comment).toBe('edgekeeper join edge-1 (op-1)');
    expect(fake.sent[0]?.commands.join('\n')).toContain(`EDGEKEEPER_TOKEN=${TOKEN} bash`);
    expect(fake.sent[0]?.commands.join('\n')).toMatch(/^node_name=edge-1$/m);
  });

  it('fails with KubeEdgeNotInstalledError and sends nothing when the cluster has no token', async () => {
    // Prepare
    const fake = ports(null);

    // Act
    const error = await caught(sendJoinScript(fake, REQUEST));

    // Assess
    expect(error.name).toBe('KubeEdgeNotInstalledError');
    expect(error.message).toBe('cluster has no join token (Secret kubeedge/tokensecret)');
    expect(fake.sent).toEqual([]);
  });

  it('refuses a token of an unexpected shape without sending it or naming it', async () => {
    // Prepare
    const fake = ports("abc'; reboot; '");

    // Act
    const error = await caught(sendJoinScript(fake, REQUEST));

    // Assess
    expect(error.name).toBe('InvalidJoinTokenError');
    expect(error.message).not.toContain('reboot');
    expect(fake.sent).toEqual([]);
  });
});
