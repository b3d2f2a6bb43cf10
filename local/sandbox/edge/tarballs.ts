import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { DownloadArch, KeadmRelease } from './keadm-releases';
import { renderEdgecore, renderKeadm } from './standin-scripts';

const run = promisify(execFile);

/** A release asset built on disk, with the sha512 hex that the `checksum_<name>.txt` assets carry. */
export interface BuiltAsset {
  readonly path: string;
  readonly sha512: string;
}

/** How a keadm tarball is laid out: the fork ships `keadm` at the top, upstream `keadm-<v>-linux-<arch>/keadm/keadm`. */
export type KeadmLayout = 'fork' | 'upstream';

/**
 * Builds release tarballs on first request and caches them in `dir` (real `tar` + gzip, so `tar xvf` on a host
 * sees exactly what a real download would give).
 */
export class TarballBuilder {
  private readonly built = new Map<string, Promise<BuiltAsset>>();

  constructor(private readonly dir: string) {}

  /** `keadm-<version>-linux-<arch>.tar.gz` for one keadm release. */
  keadm(release: KeadmRelease, arch: DownloadArch, layout: KeadmLayout): Promise<BuiltAsset> {
    const name = `keadm-${release.version}-linux-${arch}`;
    const entry = layout === 'fork' ? 'keadm' : `${name}/keadm/keadm`;
    return this.once(`${layout}/${name}.tar.gz`, [{ path: entry, content: renderKeadm(release) }]);
  }

  /** `kubeedge-<version>-linux-<arch>.tar.gz`: edgecore under `<name>/edge/`, as fork keadm extracts it. */
  kubeedge(version: string, arch: DownloadArch): Promise<BuiltAsset> {
    const name = `kubeedge-${version}-linux-${arch}`;
    return this.once(`kubeedge/${name}.tar.gz`, [
      { path: `${name}/edge/edgecore`, content: renderEdgecore(version) },
      { path: `${name}/version`, content: `${version}\n` },
    ]);
  }

  private once(relative: string, files: { path: string; content: string }[]): Promise<BuiltAsset> {
    let asset = this.built.get(relative);
    if (!asset) {
      asset = this.build(join(this.dir, relative), files);
      this.built.set(relative, asset);
    }
    return asset;
  }

  private async build(target: string, files: { path: string; content: string }[]): Promise<BuiltAsset> {
    await mkdir(this.dir, { recursive: true });
    const staging = await mkdtemp(join(this.dir, 'staging-'));
    try {
      for (const file of files) {
        const path = join(staging, file.path);
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, file.content);
        await chmod(path, 0o755);
      }
      await mkdir(dirname(target), { recursive: true });
      const top = [...new Set(files.map((f) => f.path.split('/')[0] ?? f.path))];
      await run('tar', ['-czf', target, '--owner=0', '--group=0', '-C', staging, ...top]);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
    const sha512 = createHash('sha512')
      .update(await readFile(target))
      .digest('hex');
    return { path: target, sha512 };
  }
}
