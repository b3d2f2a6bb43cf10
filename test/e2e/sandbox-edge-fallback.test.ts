import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EdgeHarness, kubesphereJoinCommand } from './sandbox-edge-harness';

describe('edge stand-ins, fallback mode (SANDBOX_HOST_ROOT, no namespaces)', () => {
  let h: EdgeHarness;
  beforeAll(async () => {
    h = await EdgeHarness.start();
  });
  afterAll(async () => {
    await h.stop();
  });

  it("registers a Ready edge node for KubeSphere's zh join command", async () => {
    const root = await h.host('zh');
    const result = await h.fallback(
      root,
      kubesphereJoinCommand(h, await h.token(), { extra: ' --region=zh --with-edge-taint' }),
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const node = await h.nodeReady('edge-1', 'True');
    expect(node.metadata?.labels).toMatchObject({
      'node-role.kubernetes.io/edge': '',
      'node-role.kubernetes.io/agent': '',
      'kubernetes.io/arch': 'amd64',
      'kubernetes.io/os': 'linux',
      'kubernetes.io/hostname': 'edge-1',
    });
    expect(node.spec?.taints).toEqual([{ key: 'node-role.kubernetes.io/edge', effect: 'NoSchedule' }]);
    expect(node.status?.addresses).toContainEqual({ type: 'InternalIP', address: '10.20.0.11' });
    expect(node.status?.nodeInfo).toMatchObject({
      kubeletVersion: 'v1.19.3-kubeedge-v1.6.2',
      architecture: 'amd64',
      osImage: 'Ubuntu 18.04.6 LTS',
      containerRuntimeVersion: 'docker://20.10.7',
    });
    expect(readFileSync(join(root, 'var/lib/sandbox/packages.list'), 'utf8')).toBe('mosquitto\n');
    for (const path of [
      'etc/kubeedge/config/edgecore.yaml',
      'etc/kubeedge/ca/rootCA.crt',
      'etc/kubeedge/certs/server.crt',
      'var/lib/kubeedge/edgecore.db',
      'usr/local/bin/edgecore',
    ]) {
      expect(existsSync(join(root, path))).toBe(true);
    }
    expect(readFileSync(join(root, 'var/log/sandbox/systemctl.log'), 'utf8')).toMatch(/systemctl start edgecore/);
  });

  it('refuses a second join while edgecore runs, then resets: Node Unknown, dirs emptied, mosquitto and edgecore kept', async () => {
    const root = await h.host('rejoin');
    const command = kubesphereJoinCommand(h, await h.token(), { extra: ' --edgenode-name edge-2' });
    expect((await h.fallback(root, command)).code).toBe(0);
    await h.nodeReady('edge-2', 'True');

    const again = await h.fallback(root, command);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('EdgeCore is already running on this host, please run reset to clean up first');

    const declined = await h.fallback(root, './keadm reset', 'n\n');
    expect(declined.code).toBe(1);
    expect(declined.stderr).toContain('Error: aborted reset operation');

    const reset = await h.fallback(root, './keadm reset --force');
    expect(reset.code).toBe(0);
    const node = await h.nodeReady('edge-2', 'Unknown');
    expect(node.metadata?.labels?.['node-role.kubernetes.io/edge']).toBe('');
    for (const dir of ['etc/kubeedge', 'var/lib/kubeedge', 'var/lib/edged']) {
      expect(readdirSync(join(root, dir))).toEqual([]);
    }
    expect(existsSync(join(root, 'usr/local/bin/edgecore'))).toBe(true);
    expect(existsSync(join(root, 'etc/systemd/system/edgecore.service'))).toBe(false);
    expect(existsSync(join(root, 'keadm'))).toBe(true);
    expect((await h.fallback(root, 'systemctl is-active mosquitto')).stdout).toBe('active\n');

    const rejoin = await h.fallback(root, command);
    expect(rejoin.code).toBe(0);
    await h.nodeReady('edge-2', 'True');
  });

  it('fails the join with a clear message on a bad token and registers nothing', async () => {
    const root = await h.host('badtoken');
    const result = await h.fallback(
      root,
      kubesphereJoinCommand(h, 'abc.not-the-token', { extra: ' --edgenode-name edge-3' }),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('failed to get edge certificate from the cloudcore, error: 401 invalid token');
    expect(await h.node('edge-3')).toBeUndefined();
  });

  it('fails like real keadm on flags its release does not have and on a v-prefixed version', async () => {
    const root = await h.host('flags');
    const v150 = await h.fallback(
      root,
      kubesphereJoinCommand(h, await h.token(), { version: 'v1.5.0', extra: ' --region=zh' }),
    );
    expect(v150.code).toBe(1);
    expect(v150.stderr).toMatch(/^Error: unknown flag: --region\nUsage:\n {2}keadm join \[flags\]/);

    const prefixed = await h.fallback(root, './keadm join --kubeedge-version=v1.5.0 --cloudcore-ipport=127.0.0.1:1');
    expect(prefixed.code).toBe(2);
    expect(prefixed.stderr).toContain('panic: Invalid character(s) found in major number "v1"');
    expect(await h.node('edge-1-flags')).toBeUndefined();
  });

  it('joins with upstream keadm v1.15.0 from the github layout (no taint flag, v-prefixed version accepted)', async () => {
    const root = await h.host('upstream', { runtime: { kind: 'containerd', version: '1.6.21' } });
    const file = 'keadm-v1.15.0-linux-amd64';
    const script = [
      `curl -sfLO http://127.0.0.1:${h.port('mirror')}/kubeedge/kubeedge/releases/download/v1.15.0/${file}.tar.gz`,
      `tar xzf ${file}.tar.gz`,
      `${file}/keadm/keadm join --kubeedge-version=v1.15.0 --cloudcore-ipport=127.0.0.1:${h.port('cloudhub')}` +
        ` --certport ${h.port('https')} --edgenode-name edge-up --token ${await h.token()} --labels site=lab`,
    ].join(' && ');
    const result = await h.fallback(root, script);
    expect(result.stderr).toBe('');
    const node = await h.nodeReady('edge-up', 'True');
    expect(node.metadata?.labels?.site).toBe('lab');
    expect(node.spec?.taints ?? []).toEqual([]);
    expect(node.status?.nodeInfo?.kubeletVersion).toBe('v1.26.10-kubeedge-v1.15.0');
    expect(node.status?.nodeInfo?.containerRuntimeVersion).toBe('containerd://1.6.21');
    expect(existsSync(join(root, 'var/lib/sandbox/packages.list'))).toBe(false);
  });

  it('hides tools a host lacks: without wget the fork join fails at the download', async () => {
    const root = await h.host('nowget', { tools: { wget: false } });
    const result = await h.fallback(
      root,
      kubesphereJoinCommand(h, await h.token(), { extra: ' --edgenode-name edge-nowget' }),
    );
    expect((await h.fallback(root, 'command -v wget')).code).toBe(1);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('wget: not found');
  });
});
