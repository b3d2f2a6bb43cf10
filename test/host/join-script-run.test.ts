import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderHostScript } from '../../functions/shared/join-script';
import { parseScriptFailure } from '../../functions/shared/join-script-failures';
import { resolveJoinSettings } from '../../functions/shared/join-settings/core';
import type { JoinSettings } from '../../functions/shared/join-settings/schema';
import { CLOUDCORE_YAML } from '../unit/onboard/fixtures';

/**
 * Runs the rendered join script for real, as root, inside a private mount namespace: bind mounts over
 * /etc/nsswitch.conf, /etc/sysctl.d, /var/lib and /proc/sys/net/ipv4/ip_forward keep every change inside it.
 */
function settings(kubeedgeVersion: string): JoinSettings {
  return resolveJoinSettings(
    { nodeName: 'edge-1', nodeIp: '192.168.10.21', taint: true, kubeedgeVersion, region: 'zh' },
    { cloudcoreYaml: CLOUDCORE_YAML },
  );
}

describe('the rendered script on a host (preflight and EdgeMesh, in a private mount namespace)', () => {
  let servers: Server[] = [];
  let ports: number[] = [];
  let root: string;

  beforeAll(async () => {
    servers = [
      createServer((socket) => socket.end()),
      createServer((socket) => socket.end()),
      createServer((socket) => socket.end()),
    ];
    ports = await Promise.all(
      servers.map(
        (server) =>
          new Promise<number>((resolve) =>
            server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
          ),
      ),
    );
  });

  afterAll(async () => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'edgekeeper-host-'));
    mkdirSync(join(root, 'bin'));
    mkdirSync(join(root, 'sysctl.d'));
    mkdirSync(join(root, 'var-lib'));
    writeFileSync(
      join(root, 'nsswitch.conf'),
      'passwd: files\nhosts:          files dns\nhosts: files\nnetworks: files\n',
    );
    writeFileSync(join(root, 'ip_forward'), '0\n');
    stub('systemctl', 'exit 3');
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function stub(name: string, body: string): void {
    writeFileSync(join(root, 'bin', name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(root, 'bin', name), 0o755);
  }

  function run(stopAfter: string): { status: number | null; stdout: string; stderr: string } {
    const s = settings('v1.6.1');
    const script = renderHostScript({
      ...s,
      cloudcore: {
        address: '127.0.0.1',
        ports: { cloudhub: ports[0] ?? 1, quic: 1, https: ports[1] ?? 1, stream: 1, tunnel: ports[2] ?? 1 },
      },
    });
    writeFileSync(join(root, 'join.sh'), script);
    const inner = [
      'set -e',
      'mount --make-rprivate /',
      `mount --bind ${root}/nsswitch.conf /etc/nsswitch.conf`,
      `mount --bind ${root}/sysctl.d /etc/sysctl.d`,
      `mount --bind ${root}/ip_forward /proc/sys/net/ipv4/ip_forward`,
      // the script records what EdgeMesh preparation changed under /var/lib/edgekeeper: keep that in the test too
      `mount --bind ${root}/var-lib /var/lib`,
      `PATH=${root}/bin:$PATH EDGEKEEPER_STOP_AFTER=${stopAfter} bash ${root}/join.sh`,
    ].join('\n');
    const result = spawnSync('unshare', ['--mount', '--fork', 'bash', '-c', inner], { encoding: 'utf8' });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  it('passes preflight and prepares EdgeMesh idempotently', () => {
    stub('docker', "echo '20.10.7'");
    const first = run('edgemesh');
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('edgekeeper: preflight: container runtime docker (docker 20.10.7)');
    expect(first.stdout).toContain('edgekeeper: done: edgemesh-only');
    const expected = 'passwd: files\nhosts:          dns files mdns4_minimal [NOTFOUND=return]\nnetworks: files\n';
    expect(readFileSync(join(root, 'nsswitch.conf'), 'utf8')).toBe(expected);
    expect(readFileSync(join(root, 'sysctl.d', '90-edgekeeper-edgemesh.conf'), 'utf8')).toBe(
      'net.ipv4.ip_forward = 1\n',
    );
    expect(readFileSync(join(root, 'ip_forward'), 'utf8').trim()).toBe('1');
    // what it changed is recorded for the reset, originals first
    const recorded = join(root, 'var-lib', 'edgekeeper', 'edgemesh');
    expect(readFileSync(join(recorded, 'nsswitch.conf.orig'), 'utf8')).not.toContain('mdns4_minimal');
    expect(readFileSync(join(recorded, 'ip_forward.orig'), 'utf8').trim()).toBe('0');
    const second = run('edgemesh');
    expect(second.status).toBe(0);
    expect(second.stdout).toContain('hosts line already set');
    expect(readFileSync(join(root, 'nsswitch.conf'), 'utf8')).toBe(expected);
    // a second run keeps the first originals, not its own edit
    expect(readFileSync(join(recorded, 'nsswitch.conf.orig'), 'utf8')).not.toContain('mdns4_minimal');
  });

  it('fails preflight clearly on an old Docker', () => {
    stub('docker', "echo '18.09.9'");
    const result = run('preflight');
    expect(result.status).toBe(12);
    expect(parseScriptFailure(result.status ?? -1, result.stdout, result.stderr)).toMatch(
      /^preflight failed: docker 18\.09\.9 is older than 19\.3\.0/,
    );
  });

  it('fails preflight when a cloudcore port is unreachable', () => {
    stub('docker', "echo '24.0.5'");
    const [server] = servers;
    server?.close();
    const result = run('preflight');
    expect(result.status).toBe(14);
    expect(result.stderr).toContain(
      `edgekeeper: preflight: error: cloudcore 127.0.0.1 is unreachable on TCP port(s) ${ports[0]}`,
    );
  });

  it('reports edgecore running for another node', () => {
    stub('docker', "echo '24.0.5'");
    stub('systemctl', 'exit 0');
    // the port test above closed the first server; reopen it
    const server = createServer((socket) => socket.end());
    servers[0] = server;
    return new Promise<void>((resolve) => server.listen(ports[0], '127.0.0.1', () => resolve())).then(() => {
      const result = run('preflight');
      expect(result.status).toBe(15);
      expect(result.stderr).toContain('edgecore already runs on this host for another node');
    });
  });

  it('refuses to start a join without a token', () => {
    stub('docker', "echo '24.0.5'");
    const s = settings('v1.6.1');
    writeFileSync(join(root, 'join.sh'), renderHostScript(s));
    const result = spawnSync('bash', [join(root, 'join.sh')], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      'edgekeeper: setup: error: no join token: set EDGEKEEPER_TOKEN_PARAMETER, EDGEKEEPER_TOKEN_FILE or EDGEKEEPER_TOKEN\n',
    );
  });

  it('refuses in setup, changing nothing, when the token parameter cannot be read with the host credentials', () => {
    stub('docker', "echo '24.0.5'");
    stub(
      'aws',
      'echo "An error occurred (AccessDeniedException) when calling the GetParameter operation: denied" >&2; exit 254',
    );
    writeFileSync(join(root, 'join.sh'), renderHostScript(settings('v1.6.1')));
    const result = spawnSync('bash', [join(root, 'join.sh')], {
      encoding: 'utf8',
      env: { PATH: `${root}/bin:${process.env.PATH ?? ''}`, EDGEKEEPER_TOKEN_PARAMETER: '/edgekeeper/join-token/op-1' },
    });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('(AccessDeniedException) when calling the GetParameter operation');
    expect(result.stderr).toContain(
      "edgekeeper: setup: error: cannot read the join token parameter /edgekeeper/join-token/op-1 with this host's AWS credentials\n",
    );
  });
});
