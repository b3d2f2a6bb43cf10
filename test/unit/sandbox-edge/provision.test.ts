import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FALLBACK_TOOLS_DIR, type HostTraits, provisionHost } from '../../../local/sandbox/edge/provision';

const traits: HostTraits = {
  instanceId: 'mi-0ed9e000000000001',
  name: 'edge-ubuntu-amd64',
  os: 'ubuntu',
  arch: 'x86_64',
  runtime: { kind: 'docker', version: '20.10.7' },
  online: true,
  cloudcoreReachable: true,
};

/** Every entry of a root but the fallback PATH, with its type and mode, and every file's content. */
function treeWithoutFallbackPath(root: string): string {
  const script =
    'cd "$1" && find . -path ".$2" -prune -o -printf "%p %y %m %l\\n" | sort && find . -path ".$2" -prune -o -type f -exec md5sum {} + | sort';
  return execFileSync('bash', ['-c', script, '_', root, FALLBACK_TOOLS_DIR], { encoding: 'utf8' });
}

describe('provisioning a host root', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'edgekeeper-provision-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the portable PATH of tools by default, and leaves only it out for a host with namespaces', async () => {
    await provisionHost(join(dir, 'portable'), traits, 'http://127.0.0.1:8080');
    await provisionHost(join(dir, 'namespaced'), traits, 'http://127.0.0.1:8080', { fallbackTools: false });

    // the portable PATH links the real tools, minus those the host must not have
    const tools = readdirSync(join(dir, 'portable', FALLBACK_TOOLS_DIR));
    expect(tools).toEqual(expect.arrayContaining(['bash', 'sed']));
    expect(tools).not.toContain('yum');
    expect(existsSync(join(dir, 'namespaced', FALLBACK_TOOLS_DIR))).toBe(false);
    expect(treeWithoutFallbackPath(join(dir, 'namespaced'))).toBe(treeWithoutFallbackPath(join(dir, 'portable')));
  });
});
