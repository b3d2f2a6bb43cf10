import { chmodSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  GetCommandInvocationCommand,
  type GetCommandInvocationCommandOutput,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { type EdgeHosts, type IsolationMode, loadHostFixture, startEdgeHosts } from '../../local/sandbox/hosts';

const UBUNTU_ARM64 = 'mi-0ed9e000000000002';

/** Starts only the arm64 host in `mode`, runs `commands` on it through SSM and stops everything again. */
async function runIn(
  mode: IsolationMode,
  commands: string[],
): Promise<{ out: GetCommandInvocationCommandOutput; root: string; reportedMode: IsolationMode }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `edgekeeper-${mode}-`));
  // Portable scripts run as nobody when the sandbox is root: nobody must be able to reach the host dir.
  chmodSync(dir, 0o755);
  const specs = (await loadHostFixture()).filter((h) => h.instanceId === UBUNTU_ARM64);
  let sandbox: EdgeHosts | undefined;
  const ssm = new SSMClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
    endpoint: 'http://127.0.0.1:1',
  });
  try {
    sandbox = await startEdgeHosts({
      dir,
      mode,
      specs,
      provisioner: { endpoints: [], provisionHost: async () => undefined },
    });
    const client = new SSMClient({
      endpoint: sandbox.ssm.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
    });
    try {
      const sent = await client.send(
        new SendCommandCommand({
          DocumentName: 'AWS-RunShellScript',
          InstanceIds: [UBUNTU_ARM64],
          Parameters: { commands },
        }),
      );
      for (;;) {
        const out = await client.send(
          new GetCommandInvocationCommand({ CommandId: sent.Command?.CommandId, InstanceId: UBUNTU_ARM64 }),
        );
        if (['Success', 'Failed', 'TimedOut', 'Cancelled'].includes(out.Status ?? '')) {
          const root = path.join(dir, 'hosts', UBUNTU_ARM64, 'root');
          const state = await readFile(path.join(root, 'var/lib/state'), 'utf8').catch(() => '');
          return {
            out: { ...out, StandardOutputContent: `${out.StandardOutputContent}${state}` },
            root,
            reportedMode: sandbox.mode,
          };
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      client.destroy();
    }
  } finally {
    ssm.destroy();
    await sandbox?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('edge host fallbacks', () => {
  const realNsswitch = readFileSync('/etc/nsswitch.conf', 'utf8');
  const realIpForward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');

  afterEach(() => {
    expect(readFileSync('/etc/nsswitch.conf', 'utf8')).toBe(realNsswitch);
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8')).toBe(realIpForward);
  });

  it('rootless: runs the same script in a user namespace, isolated like the namespaces mode', async () => {
    const { out, reportedMode } = await runIn('rootless', [
      'set -euo pipefail',
      'id -u',
      'uname -m',
      'hostname',
      "sed -i 's/^hosts:.*/hosts: dns files/' /etc/nsswitch.conf",
      'sysctl -qw net.ipv4.ip_forward=1',
      'cat /proc/sys/net/ipv4/ip_forward',
      'grep ^hosts: /etc/nsswitch.conf',
    ]);
    expect(reportedMode).toBe('rootless');
    expect(out).toMatchObject({ Status: 'Success', StandardErrorContent: '' });
    expect(out.StandardOutputContent).toBe('0\naarch64\nedge-ubuntu-arm64\n1\nhosts: dns files\n');
  });

  it('portable: runs the same script unprivileged, records state in the host root and cannot change the machine', async () => {
    const { out, reportedMode } = await runIn('portable', [
      'set -euo pipefail',
      'echo "recorded by $(id -u)" > "$SANDBOX_HOST_ROOT/var/lib/state"',
      "sed -i 's/^hosts:.*/hosts: dns files/' /etc/nsswitch.conf",
    ]);
    expect(reportedMode).toBe('portable');
    expect(out.Status).toBe('Failed');
    expect(out.StandardErrorContent).toMatch(/Permission denied/);
    // As root the sandbox runs portable scripts as nobody (65534); as a user, as that user.
    expect(out.StandardOutputContent).toBe(`recorded by ${process.getuid?.() === 0 ? 65534 : process.getuid?.()}\n`);
  });
});
