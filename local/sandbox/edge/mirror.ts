import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DOWNLOAD_ARCHES,
  type DownloadArch,
  FORK_RELEASES,
  type KeadmRelease,
  KUBEEDGE_VERSIONS,
  UPSTREAM_RELEASES,
} from './keadm-releases';
import type { BuiltAsset, KeadmLayout, TarballBuilder } from './tarballs';

/** Real hosts whose paths the mirror reproduces, so a base-URL swap is the only difference. */
export const REAL_DOWNLOAD_BASES = {
  zh: 'https://kubeedge.pek3b.qingstor.com',
  en: 'https://github.com',
  upstream: 'https://github.com',
} as const;

/** What a mirror path names: a keadm or KubeEdge tarball, or its `checksum_<file>.txt`. */
export type MirrorAsset =
  | { kind: 'keadm'; release: KeadmRelease; arch: DownloadArch; layout: KeadmLayout; checksum: boolean }
  | { kind: 'kubeedge'; version: string; arch: DownloadArch; checksum: boolean };

const VERSION = String.raw`v\d+\.\d+\.\d+`;
const FILE = String.raw`(checksum_)?(keadm|kubeedge)-(${VERSION})-linux-([a-z0-9_]+)\.tar\.gz(\.txt)?`;
const LAYOUTS: { pattern: RegExp; keadm: readonly KeadmRelease[]; layout: KeadmLayout }[] = [
  // zh: https://kubeedge.pek3b.qingstor.com/bin/<ver>/<arch>/<file>
  { pattern: new RegExp(`^/bin/(${VERSION})/([a-z0-9_]+)/${FILE}$`), keadm: FORK_RELEASES, layout: 'fork' },
  // en: https://github.com/kubesphere/kubeedge/releases/download/<ver>-kubesphere/<file>
  {
    pattern: new RegExp(`^/kubesphere/kubeedge/releases/download/(${VERSION})-kubesphere/()${FILE}$`),
    keadm: FORK_RELEASES,
    layout: 'fork',
  },
  // upstream: https://github.com/kubeedge/kubeedge/releases/download/<ver>/<file>
  {
    pattern: new RegExp(`^/kubeedge/kubeedge/releases/download/(${VERSION})/()${FILE}$`),
    keadm: UPSTREAM_RELEASES,
    layout: 'upstream',
  },
];

function isArch(value: string): value is DownloadArch {
  return (DOWNLOAD_ARCHES as readonly string[]).includes(value);
}

/** Maps a request path to the asset it names, or undefined (the mirror answers 404) when no real URL looks so. */
export function resolveMirrorPath(path: string): MirrorAsset | undefined {
  for (const { pattern, keadm, layout } of LAYOUTS) {
    const m = pattern.exec(path);
    if (!m) continue;
    const [, dirVersion, dirArch, checksumPrefix, kind, fileVersion, fileArch, txtSuffix] = m;
    const checksum = checksumPrefix !== undefined;
    if (checksum !== (txtSuffix !== undefined)) return undefined;
    if (dirVersion !== fileVersion || !fileArch || !isArch(fileArch)) return undefined;
    if (dirArch && dirArch !== fileArch) return undefined;
    if (kind === 'kubeedge') {
      return KUBEEDGE_VERSIONS.includes(fileVersion)
        ? { kind, version: fileVersion, arch: fileArch, checksum }
        : undefined;
    }
    const release = keadm.find((r) => r.version === fileVersion);
    return release ? { kind: 'keadm', release, arch: fileArch, layout, checksum } : undefined;
  }
  return undefined;
}

/** The running download mirror. */
export interface Mirror {
  readonly port: number;
  /** Every request path served (and refused), in order, for tests to assert what a host downloaded. */
  readonly requests: readonly { path: string; status: number }[];
  stop(): Promise<void>;
}

/** Starts the mirror on 127.0.0.1 at a random port. */
export async function startMirror(builder: TarballBuilder): Promise<Mirror> {
  const requests: { path: string; status: number }[] = [];
  const server = createServer((req, res) => {
    serve(builder, req, res).then(
      (status) => requests.push({ path: req.url ?? '', status }),
      (error: unknown) => {
        requests.push({ path: req.url ?? '', status: 500 });
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`mirror failed: ${error instanceof Error ? error.message : String(error)}\n`);
      },
    );
  });
  const port = await listen(server);
  return { port, requests, stop: () => close(server) };
}

async function serve(builder: TarballBuilder, req: IncomingMessage, res: ServerResponse): Promise<number> {
  const path = new URL(req.url ?? '/', 'http://mirror').pathname;
  const asset = req.method === 'GET' || req.method === 'HEAD' ? resolveMirrorPath(path) : undefined;
  if (!asset) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found\n');
    return 404;
  }
  const built: BuiltAsset =
    asset.kind === 'keadm'
      ? await builder.keadm(asset.release, asset.arch, asset.layout)
      : await builder.kubeedge(asset.version, asset.arch);
  if (asset.checksum) {
    res.writeHead(200, { 'content-type': 'text/plain' }).end(req.method === 'HEAD' ? undefined : built.sha512);
    return 200;
  }
  res.writeHead(200, { 'content-type': 'application/gzip' });
  if (req.method === 'HEAD') res.end();
  else createReadStream(built.path).pipe(res);
  return 200;
}

/** Listens on 127.0.0.1 at a random port and resolves the port. */
export function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

/** Closes a server, dropping idle keep-alive connections so the close does not wait for them. */
export function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
