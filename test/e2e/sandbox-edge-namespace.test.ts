import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { HOST_PATH, overlayMounts, PRIVATE_MOUNTS_MARKER } from '../../local/sandbox/edge';
import { EdgeHarness, kubesphereJoinCommand, shell } from './sandbox-edge-harness';

const SECRET_VOLUME =
  '/var/lib/edged/pods/00000000-0000-4000-8000-sandboxedge0/volumes/kubernetes.io~secret/default-token';

/** Runs a script as a namespace-mode host: own mount namespace, /etc, /usr and /var overlaid with the host root. */
function inHost(root: string, script: string) {
  const mounts = overlayMounts(root)
    .map((m) => `mkdir -p ${m.dirs.join(' ')} && mount -t overlay overlay -o ${m.options} ${m.target}`)
    .join('\n');
  const marker = `mkdir -p ${dirname(PRIVATE_MOUNTS_MARKER)} && echo namespaces >${PRIVATE_MOUNTS_MARKER}`;
  const body = `set -euo pipefail\nmount --make-rprivate /\n${mounts}\n${marker}\nmkdir -p /var/tmp/work && cd /var/tmp/work\n${script}`;
  return shell('unshare', ['--mount', '--fork', 'bash', '--norc', '--noprofile', '-c', body], {
    PATH: HOST_PATH,
    HOME: '/root',
  });
}

describe('edge stand-ins, namespace mode (root, overlays like the edge hosts)', () => {
  let h: EdgeHarness;
  beforeAll(async () => {
    h = await EdgeHarness.start();
  });
  afterAll(async () => {
    await h.stop();
  });

  it('joins with the KubeSphere command, mounts a secret tmpfs that keadm reset leaves busy, and never touches the real machine', async () => {
    expect(process.getuid?.()).toBe(0);
    const root = await h.host('ns');
    const script = [
      `{ ${kubesphereJoinCommand(h, await h.token(), { extra: ' --region=zh --with-edge-taint' })}; } >/dev/null`,
      'command -v yum >/dev/null && echo "yum visible" || echo "yum hidden"',
      `mountpoint -q ${SECRET_VOLUME} && echo "secret mounted"`,
      './keadm reset --force >/dev/null',
      `mountpoint -q ${SECRET_VOLUME} && echo "secret still mounted after reset"`,
      'systemctl is-active mosquitto',
      `umount ${SECRET_VOLUME} && rm -rf /var/lib/kubeedge /var/lib/edged /etc/kubeedge/ca /etc/kubeedge/certs`,
      'test ! -e /var/lib/edged && echo "edged removed"',
    ].join('\n');
    const result = await inHost(root, script);
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')).toEqual([
      'yum hidden',
      'secret mounted',
      'secret still mounted after reset',
      'active',
      'edged removed',
      '',
    ]);
    const node = await h.nodeReady('edge-1', 'Unknown');
    expect(node.status?.addresses).toContainEqual({ type: 'InternalIP', address: '10.20.0.11' });
    // What the host wrote went to its root; the real machine has none of it.
    expect(existsSync(join(root, 'usr/local/bin/edgecore'))).toBe(true);
    expect(existsSync(join(root, 'usr/sbin/mosquitto'))).toBe(true);
    for (const path of ['/etc/kubeedge', '/usr/local/bin/edgecore', '/usr/sbin/mosquitto', '/var/lib/sandbox']) {
      expect(existsSync(path)).toBe(false);
    }
  });
});
