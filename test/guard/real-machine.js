// Jest global setup/teardown: the tests run real host scripts (as root, in namespaces). None of them may change
// this machine. The guard records what a leaking script would change and fails the run if any of it differs.
const { createHash } = require('node:crypto');
const { existsSync, readFileSync, writeFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const SNAPSHOT = join(tmpdir(), `edgekeeper-real-machine-${process.ppid}.json`);

/** Files whose content matters, and paths a host script creates that must never exist here. */
const WATCHED_FILES = ['/etc/nsswitch.conf', '/etc/sysctl.conf', '/proc/sys/net/ipv4/ip_forward'];
const FORBIDDEN_PATHS = [
  '/etc/kubeedge',
  '/var/lib/kubeedge',
  '/var/lib/edged',
  '/var/lib/edgekeeper',
  '/var/lib/sandbox',
  '/var/log/sandbox',
  '/opt/edgekeeper',
  '/usr/local/bin/edgecore',
  '/etc/sysctl.d/90-edgekeeper-edgemesh.conf',
];

function state() {
  const files = Object.fromEntries(
    WATCHED_FILES.map((file) => [
      file,
      existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : 'absent',
    ]),
  );
  const present = FORBIDDEN_PATHS.filter((path) => existsSync(path));
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).length;
  return { files, present, mounts };
}

module.exports = {
  setup() {
    const before = state();
    if (before.present.length > 0) {
      throw new Error(`edgekeeper paths exist on this machine before the tests: ${before.present.join(', ')}`);
    }
    writeFileSync(SNAPSHOT, JSON.stringify(before));
  },
  teardown() {
    const before = JSON.parse(readFileSync(SNAPSHOT, 'utf8'));
    rmSync(SNAPSHOT, { force: true });
    const after = state();
    const changed = [
      ...Object.keys(before.files)
        .filter((file) => before.files[file] !== after.files[file])
        .map((f) => `${f} changed`),
      ...after.present.map((path) => `${path} was created`),
      ...(after.mounts === before.mounts ? [] : [`mount count ${before.mounts} → ${after.mounts}`]),
    ];
    if (changed.length > 0) throw new Error(`the tests changed this machine: ${changed.join('; ')}`);
  },
};
