import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Mirror, resolveMirrorPath, startMirror } from '../../../local/sandbox/edge/mirror';
import { TarballBuilder } from '../../../local/sandbox/edge/tarballs';

describe('download mirror paths', () => {
  it.each([
    ['/bin/v1.6.2/amd64/keadm-v1.6.2-linux-amd64.tar.gz', 'keadm'],
    ['/bin/v1.5.0/arm64/keadm-v1.5.0-linux-arm64.tar.gz', 'keadm'],
    ['/bin/v1.6.1/arm/kubeedge-v1.6.1-linux-arm.tar.gz', 'kubeedge'],
    ['/bin/v1.6.2/amd64/checksum_kubeedge-v1.6.2-linux-amd64.tar.gz.txt', 'kubeedge'],
    ['/kubesphere/kubeedge/releases/download/v1.6.1-kubesphere/keadm-v1.6.1-linux-amd64.tar.gz', 'keadm'],
    ['/kubeedge/kubeedge/releases/download/v1.15.0/keadm-v1.15.0-linux-arm64.tar.gz', 'keadm'],
    ['/kubeedge/kubeedge/releases/download/v1.6.2/kubeedge-v1.6.2-linux-amd64.tar.gz', 'kubeedge'],
  ])('serves the real path %s', (path, kind) => {
    expect(resolveMirrorPath(path)?.kind).toBe(kind);
  });

  it.each([
    ['a raw uname -m arch (KubeSphere 3.1/3.2 bug)', '/bin/v1.6.2/x86_64/keadm-v1.6.2-linux-x86_64.tar.gz'],
    ['aarch64', '/bin/v1.6.2/aarch64/keadm-v1.6.2-linux-aarch64.tar.gz'],
    ['a directory arch unlike the file arch', '/bin/v1.6.2/arm64/keadm-v1.6.2-linux-amd64.tar.gz'],
    ['an upstream-only keadm under the fork layout', '/bin/v1.15.0/amd64/keadm-v1.15.0-linux-amd64.tar.gz'],
    [
      'a fork release without its -kubesphere tag',
      '/kubesphere/kubeedge/releases/download/v1.6.1/keadm-v1.6.1-linux-amd64.tar.gz',
    ],
    ['an unknown version', '/bin/v1.4.0/amd64/keadm-v1.4.0-linux-amd64.tar.gz'],
    ['a version without v', '/bin/1.6.2/amd64/keadm-1.6.2-linux-amd64.tar.gz'],
    ['a checksum without .txt', '/bin/v1.6.2/amd64/checksum_kubeedge-v1.6.2-linux-amd64.tar.gz'],
  ])('refuses %s', (_why, path) => {
    expect(resolveMirrorPath(path)).toBeUndefined();
  });
});

describe('download mirror over HTTP', () => {
  let dir: string;
  let mirror: Mirror;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'edge-mirror-'));
    mirror = await startMirror(new TarballBuilder(join(dir, 'built')));
  });
  afterAll(async () => {
    await mirror.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (path: string) => fetch(`http://127.0.0.1:${mirror.port}${path}`);

  it('answers 404 for x86_64 in the URL', async () => {
    expect((await get('/bin/v1.6.2/x86_64/keadm-v1.6.2-linux-x86_64.tar.gz')).status).toBe(404);
  });

  it('serves a fork keadm tarball whose `tar xvf` puts an executable keadm at the top', async () => {
    const response = await get('/bin/v1.6.2/amd64/keadm-v1.6.2-linux-amd64.tar.gz');
    expect(response.status).toBe(200);
    writeFileSync(join(dir, 'k.tar.gz'), Buffer.from(await response.arrayBuffer()));
    expect(execFileSync('tar', ['xvf', 'k.tar.gz'], { cwd: dir, encoding: 'utf8' })).toBe('keadm\n');
    expect(statSync(join(dir, 'keadm')).mode & 0o111).not.toBe(0);
    expect(readFileSync(join(dir, 'keadm'), 'utf8')).toContain(
      '# keadm profile: kubesphere/kubeedge@v1.6.2-kubesphere',
    );
  });

  it('serves upstream tarballs as keadm-<v>-linux-<arch>/keadm/keadm', async () => {
    const response = await get('/kubeedge/kubeedge/releases/download/v1.12.0/keadm-v1.12.0-linux-arm64.tar.gz');
    writeFileSync(join(dir, 'u.tar.gz'), Buffer.from(await response.arrayBuffer()));
    const listing = execFileSync('tar', ['tzf', 'u.tar.gz'], { cwd: dir, encoding: 'utf8' });
    expect(listing.split('\n')).toContain('keadm-v1.12.0-linux-arm64/keadm/keadm');
  });

  it('serves the KubeEdge tarball with a matching sha512 checksum file', async () => {
    const base = '/bin/v1.6.2/arm/';
    const tarball = Buffer.from(await (await get(`${base}kubeedge-v1.6.2-linux-arm.tar.gz`)).arrayBuffer());
    const checksum = await (await get(`${base}checksum_kubeedge-v1.6.2-linux-arm.tar.gz.txt`)).text();
    writeFileSync(join(dir, 'ke.tar.gz'), tarball);
    expect(execFileSync('sha512sum', ['ke.tar.gz'], { cwd: dir, encoding: 'utf8' }).split(' ')[0]).toBe(checksum);
    const listing = execFileSync('tar', ['tzf', 'ke.tar.gz'], { cwd: dir, encoding: 'utf8' });
    expect(listing.split('\n')).toContain('kubeedge-v1.6.2-linux-arm/edge/edgecore');
    expect(mirror.requests.map((r) => r.status)).toContain(404);
  });
});
