import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  parseResetReport,
  RESET_EXIT_LEFTOVERS,
  RESET_EXIT_OTHER_NODE,
  renderResetScript,
} from '../../functions/shared/reset-script';
import { script as RESET_SCRIPT_TEMPLATE } from '../../functions/shared/scripts/generated/reset-edge-node';

/**
 * Runs the rendered reset script for real, twice, on a made-up edge host inside a private mount namespace (see
 * test/fixtures/reset-host/harness.sh: overlays over /etc, /var/lib, /var/log, /usr/local/bin and /opt, stand-ins for
 * systemctl/dpkg/apt-get). Root is used when available; otherwise a user namespace maps the caller to root.
 */
const HARNESS = join(__dirname, '..', 'fixtures', 'reset-host', 'harness.sh');
const SECRET = '/var/lib/edged/pods/p1/volumes/kubernetes.io~secret';
const CFG = '/var/lib/edged/pods/p2/volumes/kubernetes.io~configmap/cfg';
const BUSY = '/var/lib/edged/pods/p3/volumes/kubernetes.io~empty-dir/busy';
const HOST = 'mi-0123456789abcdef0';

describe('reset-edge-node.sh on a real (namespaced) host', () => {
  let work: string;
  const read = (file: string) => readFileSync(join(work, file), 'utf8');

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'edgekeeper-reset-'));
    const script = join(work, 'reset.sh');
    const forced = join(work, 'reset-forced.sh');
    const options = {
      nodeName: 'edge-1',
      instanceId: HOST,
      profile: 'fork',
      version: 'v1.6.1',
      keadmTimeoutSeconds: 300,
    } as const;
    writeFileSync(script, renderResetScript(RESET_SCRIPT_TEMPLATE, options));
    writeFileSync(forced, renderResetScript(RESET_SCRIPT_TEMPLATE, { ...options, forceHost: HOST }));
    const userns = process.getuid?.() === 0 ? [] : ['--user', '--map-root-user'];
    execFileSync('unshare', [...userns, '--mount', '--fork', 'bash', HARNESS, work, script, forced], { stdio: 'pipe' });
  });

  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it('resets a joined host: keadm reset --force, mosquitto purged, mounts unmounted deepest first, files removed', () => {
    const report = parseResetReport(read('run1.out'));
    expect(read('run1.rc').trim()).toBe('0');
    expect(report).toMatchObject({ clean: true, keadm: 'reset', edgecore: 'stopped', mosquitto: 'removed' });
    // depth 9, then depth 8 by byte order (p1 < p2 < p3; both layers of the stacked mount), then depth 3
    expect(report.unmounted).toEqual([
      `${CFG}/nested`,
      `${SECRET}/my token`,
      `${SECRET}/token`,
      `${SECRET}/token`,
      CFG,
      BUSY,
      '/var/lib/kubeedge',
    ]);
    expect(report.lazyUnmounted).toEqual([BUSY]);
    expect(report.removed).toEqual([
      '/var/lib/kubeedge',
      '/var/lib/edged',
      '/etc/kubeedge',
      '/var/log/kubeedge',
      '/usr/local/bin/edgecore',
      '/etc/systemd/system/edgecore.service',
      '/opt/edgekeeper',
      '/usr/local/bin/keadm',
      '/usr/local/bin/keadm-v1.6.1-linux-amd64.tar.gz',
    ]);
    expect(report.leftovers).toEqual([]);
    expect(read('after1.txt')).toBe('0\n');
  });

  it('calls keadm, systemctl and the package manager as a person would', () => {
    expect(read('state/keadm.log')).toBe('reset --force\n');
    expect(read('state/systemctl.log').split('\n')).toEqual(
      expect.arrayContaining([
        'stop edgecore.service',
        'disable edgecore.service',
        'stop mosquitto.service',
        'daemon-reload',
      ]),
    );
    expect(read('state/apt-get.log').split('\n')[0]).toBe('purge -y mosquitto');
  });

  it('prints each step and ends with exactly one report line', () => {
    const lines = read('run1.out').trimEnd().split('\n');
    expect(lines.at(-1)).toMatch(/^EDGEKEEPER_RESET_REPORT \{/);
    expect(lines.filter((line) => line.startsWith('EDGEKEEPER_RESET_REPORT'))).toHaveLength(1);
    expect(lines.slice(0, -1).every((line) => line.startsWith('edgekeeper: '))).toBe(true);
    expect(lines).toContain(`edgekeeper: unmount: ${BUSY} was busy, detached lazily`);
    expect(read('run1.err')).toBe('');
  });

  it('is idempotent: a second run finds a clean host and changes nothing', () => {
    expect(read('run2.rc').trim()).toBe('0');
    expect(parseResetReport(read('run2.out'))).toEqual({
      version: 1,
      clean: true,
      keadm: 'absent',
      edgecore: 'absent',
      mosquitto: 'absent',
      edgemesh: 'absent',
      removed: [],
      unmounted: [],
      lazyUnmounted: [],
      leftovers: [],
    });
    expect(read('after2.txt')).toBe('0\n');
  });

  it(`tolerates a rollback without keadm, and exits ${RESET_EXIT_LEFTOVERS} naming what is left`, () => {
    const report = parseResetReport(read('run3.out'));
    expect(read('run3.rc').trim()).toBe(String(RESET_EXIT_LEFTOVERS));
    expect(report).toMatchObject({
      clean: false,
      keadm: 'absent',
      mosquitto: 'failed',
      removed: ['/etc/kubeedge'],
      leftovers: ['package:mosquitto'],
    });
    expect(read('run3.out')).toContain('edgekeeper: keadm: not found, cleaning up without it');
  });

  it(`refuses a host whose edgecore serves another node with exit ${RESET_EXIT_OTHER_NODE}, changing nothing`, () => {
    expect(read('run4.rc').trim()).toBe(String(RESET_EXIT_OTHER_NODE));
    const refusal = `edgekeeper: owner: refused: edgecore on host ${HOST} is configured for node edge-9, not edge-1; nothing was changed`;
    expect(read('run4.out')).toBe(`${refusal}\n`);
    expect(read('run4.err')).toBe(`${refusal}\n`);
    // the other node's edgecore, config and database are all still there, and no service or package was touched
    expect(read('after4.txt')).toBe(
      'exists /var/lib/kubeedge\nexists /etc/kubeedge\nexists /usr/local/bin/edgecore\n0\n',
    );
    expect(read('after4-calls.log')).toBe(read('before4-calls.log'));
  });

  it('resets that host when forced for it by name, saying so', () => {
    expect(read('run5.rc').trim()).toBe('0');
    expect(read('run5.out')).toContain(
      `edgekeeper: owner: edgecore on this host is configured for node edge-9, not edge-1: resetting anyway, forced for host ${HOST}`,
    );
    expect(parseResetReport(read('run5.out'))).toMatchObject({ clean: true, leftovers: [] });
    expect(read('after5.txt')).toBe('0\n');
  });

  it('checks the owner first on a host of its own node', () => {
    expect(read('run1.out').split('\n')[0]).toBe(
      'edgekeeper: owner: edgecore on this host is configured for node edge-1',
    );
  });
});
