import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FALLBACK_TOOLS_DIR, provisionHost } from '../../../local/sandbox/edge/provision';
import { loadHostFixture } from '../../../local/sandbox/hosts';
import { fleetHostSpecs } from '../../../local/sandbox/hosts/fleet';
import { overlaidEtcDirs } from '../../../local/sandbox/hosts/host-root';
import { provisionRoot, RootTemplates, templateKey } from '../../../local/sandbox/hosts/root-templates';
import type { HostProvisioner } from '../../../local/sandbox/hosts/traits';

const provisioner: HostProvisioner = {
  endpoints: [],
  provisionHost: (root, traits) => provisionHost(root, traits, 'http://127.0.0.1:8080'),
};

/** Every entry of a tree with its type, mode and content (or link target): what a host sees of its root. */
function tree(root: string): string {
  return execFileSync(
    'bash',
    [
      '-c',
      'cd "$1" && find . -path ".$2" -prune -o -printf "%p %y %m %l\\n" | sort && find . -type f -exec md5sum {} + | sort',
      '_',
      root,
      FALLBACK_TOOLS_DIR,
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
}

describe('root templates', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'edgekeeper-root-templates-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('gives a host the root it would get afresh, but for the portable PATH that namespaced hosts never read', async () => {
    const [first, , , fourth] = fleetHostSpecs(4, await loadHostFixture());
    if (!first || !fourth) throw new Error('fleet too small');
    expect(templateKey(first)).toBe(templateKey(fourth));
    const templates = new RootTemplates(join(dir, 'templates'), provisioner, 'shared-network');
    await templates.fill(join(dir, 'first'), first);
    await templates.fill(join(dir, 'copy'), fourth);
    await provisionRoot(join(dir, 'fresh'), fourth, provisioner, 'shared-network');

    expect(tree(join(dir, 'copy'))).toBe(tree(join(dir, 'fresh')));
    expect(readFileSync(join(dir, 'copy/etc/hostname'), 'utf8')).toBe('fleet-0004\n');
    expect(readFileSync(join(dir, 'copy/var/lib/sandbox/traits.env'), 'utf8')).toMatch(
      /^INSTANCE_ID=mi-0f1ee000000000004\nHOSTNAME=fleet-0004\n/,
    );
    // the first host's own files are its own, not the copy's
    expect(readFileSync(join(dir, 'first/etc/hostname'), 'utf8')).toBe('fleet-0001\n');
  });

  it('leaves the overlaid /etc directories empty for a host with namespaces, and copies them for the others', async () => {
    const [host] = await loadHostFixture();
    if (!host) throw new Error('empty fixture');
    await provisionRoot(join(dir, 'namespaced'), { ...host, online: true }, provisioner, 'namespaces');
    await provisionRoot(join(dir, 'portable'), { ...host, online: true }, provisioner, 'portable');
    await provisionRoot(join(dir, 'offline'), { ...host, online: false }, provisioner, 'namespaces');
    for (const name of overlaidEtcDirs()) {
      expect(readdirSync(join(dir, 'namespaced/etc', name))).toEqual([]);
      expect(readdirSync(join(dir, 'portable/etc', name)).sort()).toEqual(readdirSync(join('/etc', name)).sort());
      expect(readdirSync(join(dir, 'offline/etc', name)).sort()).toEqual(readdirSync(join('/etc', name)).sort());
    }
  });

  it('tells hosts of another kind apart', async () => {
    const [amd64, arm64] = fleetHostSpecs(2, await loadHostFixture());
    if (!amd64 || !arm64) throw new Error('fleet too small');
    expect(templateKey(amd64)).not.toBe(templateKey(arm64));
    expect(templateKey({ ...amd64, tags: { site: 'a' }, ipAddress: '10.0.0.9' })).toBe(templateKey(amd64));
  });
});
