import { execFileSync } from 'node:child_process';
import { renderHostScript } from '../../functions/shared/join-script';
import { resolveJoinSettings } from '../../functions/shared/join-settings/core';
import { supportedVersions } from '../../functions/shared/keadm/profiles';
import { CLOUDCORE_YAML } from './onboard/fixtures';

/**
 * Golden `keadm join` commands, written by hand from what KubeSphere and keadm do (docs/kubeedge.md), not from
 * functions/shared/keadm/keadm-flags.json: the renderer and the sandbox's keadm stand-in both read that table, so
 * a wrong row there could never fail an e2e test. These literals can.
 *
 * The facts they encode:
 * - fork (KubeSphere's `vX.Y.Z-kubesphere` keadm): `--kubeedge-version` without the `v`; `--quicport`,
 *   `--tunnelport` and `--edgenode-ip` always; `--region` and `--with-edge-taint` only from v1.6.1; Docker is the
 *   default runtime; the download comes from KubeSphere's QingStor bucket (zh) or the fork's GitHub release (en).
 * - upstream keadm ≥ 1.12: `--kubeedge-version` with the `v`; no region, quic/tunnel port, node IP or taint flag
 *   (edgekeeper taints through the API, and the region changes nothing); `--labels` takes `k=v,k=v`; Docker is
 *   the default runtime in 1.12, containerd from 1.13 (Docker then needs `--runtimetype=docker`), and from 1.14
 *   Docker is reached only through cri-dockerd; `--runtimetype` is gone from 1.16.
 */
const TOKEN = 'c0ffee.eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDB9.c2ln';
const FORK_PORTS = '--cloudcore-ipport=203.0.113.9:10000 --certport=10002 --quicport=10001 --tunnelport=10004';
const UPSTREAM_PORTS = '--cloudcore-ipport=203.0.113.9:10000 --certport=10002';
const FORK_NODE = '--edgenode-name=edge-1 --edgenode-ip=192.168.10.21';

/** Version → region → the command a Docker host runs (taint requested, no labels). */
const DOCKER_COMMANDS: Record<string, Record<'zh' | 'en', string>> = {
  'v1.5.0': {
    zh: `keadm join --kubeedge-version=1.5.0 ${FORK_PORTS} ${FORK_NODE} --token=${TOKEN}`,
    en: `keadm join --kubeedge-version=1.5.0 ${FORK_PORTS} ${FORK_NODE} --token=${TOKEN}`,
  },
  'v1.6.0': {
    zh: `keadm join --kubeedge-version=1.6.0 ${FORK_PORTS} ${FORK_NODE} --token=${TOKEN}`,
    en: `keadm join --kubeedge-version=1.6.0 ${FORK_PORTS} ${FORK_NODE} --token=${TOKEN}`,
  },
  'v1.6.1': {
    zh: `keadm join --kubeedge-version=1.6.1 --region=zh ${FORK_PORTS} ${FORK_NODE} --with-edge-taint --token=${TOKEN}`,
    en: `keadm join --kubeedge-version=1.6.1 --region=en ${FORK_PORTS} ${FORK_NODE} --with-edge-taint --token=${TOKEN}`,
  },
  'v1.6.2': {
    zh: `keadm join --kubeedge-version=1.6.2 --region=zh ${FORK_PORTS} ${FORK_NODE} --with-edge-taint --token=${TOKEN}`,
    en: `keadm join --kubeedge-version=1.6.2 --region=en ${FORK_PORTS} ${FORK_NODE} --with-edge-taint --token=${TOKEN}`,
  },
  'v1.7.2': {
    zh: `keadm join --kubeedge-version=1.7.2 --region=zh ${FORK_PORTS} ${FORK_NODE} --with-edge-taint --token=${TOKEN}`,
    en: `keadm join --kubeedge-version=1.7.2 --region=en ${FORK_PORTS} ${FORK_NODE} --with-edge-taint --token=${TOKEN}`,
  },
  'v1.9.2': {
    zh: `keadm join --kubeedge-version=1.9.2 --region=zh ${FORK_PORTS} ${FORK_NODE} --with-edge-taint --token=${TOKEN}`,
    en: `keadm join --kubeedge-version=1.9.2 --region=en ${FORK_PORTS} ${FORK_NODE} --with-edge-taint --token=${TOKEN}`,
  },
  'v1.12.0': {
    zh: `keadm join --kubeedge-version=v1.12.0 ${UPSTREAM_PORTS} --edgenode-name=edge-1 --token=${TOKEN}`,
    en: `keadm join --kubeedge-version=v1.12.0 ${UPSTREAM_PORTS} --edgenode-name=edge-1 --token=${TOKEN}`,
  },
  'v1.13.0': {
    zh: `keadm join --kubeedge-version=v1.13.0 ${UPSTREAM_PORTS} --edgenode-name=edge-1 --runtimetype=docker --token=${TOKEN}`,
    en: `keadm join --kubeedge-version=v1.13.0 ${UPSTREAM_PORTS} --edgenode-name=edge-1 --runtimetype=docker --token=${TOKEN}`,
  },
  'v1.15.0': {
    zh: `keadm join --kubeedge-version=v1.15.0 ${UPSTREAM_PORTS} --edgenode-name=edge-1 --runtimetype=remote --remote-runtime-endpoint=unix:///var/run/cri-dockerd.sock --token=${TOKEN}`,
    en: `keadm join --kubeedge-version=v1.15.0 ${UPSTREAM_PORTS} --edgenode-name=edge-1 --runtimetype=remote --remote-runtime-endpoint=unix:///var/run/cri-dockerd.sock --token=${TOKEN}`,
  },
  'v1.17.0': {
    zh: `keadm join --kubeedge-version=v1.17.0 ${UPSTREAM_PORTS} --edgenode-name=edge-1 --remote-runtime-endpoint=unix:///var/run/cri-dockerd.sock --token=${TOKEN}`,
    en: `keadm join --kubeedge-version=v1.17.0 ${UPSTREAM_PORTS} --edgenode-name=edge-1 --remote-runtime-endpoint=unix:///var/run/cri-dockerd.sock --token=${TOKEN}`,
  },
  'v1.20.0': {
    zh: `keadm join --kubeedge-version=v1.20.0 ${UPSTREAM_PORTS} --edgenode-name=edge-1 --remote-runtime-endpoint=unix:///var/run/cri-dockerd.sock --token=${TOKEN}`,
    en: `keadm join --kubeedge-version=v1.20.0 ${UPSTREAM_PORTS} --edgenode-name=edge-1 --remote-runtime-endpoint=unix:///var/run/cri-dockerd.sock --token=${TOKEN}`,
  },
};

/** Version → region → the keadm download URL (`${arch}` is filled in on the host). */
const DOWNLOADS: Record<string, Record<'zh' | 'en', string>> = Object.fromEntries(
  ['v1.5.0', 'v1.6.0', 'v1.6.1', 'v1.6.2', 'v1.7.2', 'v1.9.2']
    .map((v) => [
      v,
      {
        zh: `https://kubeedge.pek3b.qingstor.com/bin/${v}/\${arch}/keadm-${v}-linux-\${arch}.tar.gz`,
        en: `https://github.com/kubesphere/kubeedge/releases/download/${v}-kubesphere/keadm-${v}-linux-\${arch}.tar.gz`,
      },
    ])
    .concat(
      ['v1.12.0', 'v1.13.0', 'v1.15.0', 'v1.17.0', 'v1.20.0'].map((v) => {
        const url = `https://github.com/kubeedge/kubeedge/releases/download/${v}/keadm-${v}-linux-\${arch}.tar.gz`;
        return [v, { zh: url, en: url }];
      }),
    ),
);

interface Rendered {
  /** `keadm` and its arguments for a host with this runtime, as the script runs it, token included */
  command(runtime: 'docker' | 'containerd'): string;
  downloadUrl: string;
}

/**
 * Renders the host script for edge-1 and evaluates its values block in bash, so quoting is read as the host reads
 * it. The script appends the runtime's flags and then `--token=<token>` to `keadm_join_args` (join-edge-node.sh).
 */
function render(
  kubeedgeVersion: string,
  region: 'zh' | 'en',
  extra: { taint?: boolean; labels?: Record<string, string> } = {},
): Rendered {
  const settings = resolveJoinSettings(
    { nodeName: 'edge-1', nodeIp: '192.168.10.21', taint: extra.taint ?? true, kubeedgeVersion, region, ...extra },
    { cloudcoreYaml: CLOUDCORE_YAML },
  );
  const script = renderHostScript(settings);
  const block = script.slice(script.indexOf('# edgekeeper:values:begin'), script.indexOf('# edgekeeper:values:end'));
  // one bash run: each array's words one per line, the arrays and the URL separated by an empty line
  const program = ['keadm_join_args', 'runtime_args_docker', 'runtime_args_containerd']
    .map((array) => `printf '%s\\n' \${${array}[@]+"\${${array}[@]}"}; echo`)
    .concat('printf %s "$download_url_template"')
    .join('\n');
  const out = execFileSync('bash', ['-c', `${block}\n${program}`], { encoding: 'utf8' }).split('\n\n');
  const [join = [], docker = [], containerd = [], downloadUrl = []] = out.map((part) =>
    part.split('\n').filter(Boolean),
  );
  const runtimes = { docker, containerd };
  return {
    command: (runtime) => ['keadm', ...join, ...runtimes[runtime], `--token=${TOKEN}`].join(' '),
    downloadUrl: downloadUrl.join('\n'),
  };
}

describe('golden keadm join commands', () => {
  it('cover every supported version', () => {
    expect(Object.keys(DOCKER_COMMANDS)).toEqual(supportedVersions());
  });

  describe.each(Object.keys(DOCKER_COMMANDS))('KubeEdge %s', (version) => {
    it.each(['zh', 'en'] as const)('region %s: the Docker host command and the download URL', (region) => {
      const rendered = render(version, region);
      expect(rendered.command('docker')).toBe(DOCKER_COMMANDS[version]?.[region]);
      expect(rendered.downloadUrl).toBe(DOWNLOADS[version]?.[region]);
    });
  });

  it('selects containerd with --runtimetype=remote until keadm drops that flag (upstream 1.16)', () => {
    const containerd = '--remote-runtime-endpoint=unix:///run/containerd/containerd.sock';
    expect(render('v1.6.1', 'zh').command('containerd')).toBe(
      `keadm join --kubeedge-version=1.6.1 --region=zh ${FORK_PORTS} ${FORK_NODE} --with-edge-taint --runtimetype=remote ${containerd} --token=${TOKEN}`,
    );
    expect(render('v1.15.0', 'en').command('containerd')).toBe(
      `keadm join --kubeedge-version=v1.15.0 ${UPSTREAM_PORTS} --edgenode-name=edge-1 --runtimetype=remote ${containerd} --token=${TOKEN}`,
    );
    expect(render('v1.17.0', 'en').command('containerd')).toBe(
      `keadm join --kubeedge-version=v1.17.0 ${UPSTREAM_PORTS} --edgenode-name=edge-1 ${containerd} --token=${TOKEN}`,
    );
  });

  it('leaves --with-edge-taint out when no taint is asked for', () => {
    expect(render('v1.6.1', 'zh', { taint: false }).command('docker')).toBe(
      `keadm join --kubeedge-version=1.6.1 --region=zh ${FORK_PORTS} ${FORK_NODE} --token=${TOKEN}`,
    );
  });

  it('passes labels to upstream keadm as one comma-separated --labels', () => {
    expect(render('v1.20.0', 'zh', { labels: { site: 'lab', tier: 'edge' } }).command('containerd')).toBe(
      `keadm join --kubeedge-version=v1.20.0 ${UPSTREAM_PORTS} --edgenode-name=edge-1 --labels=site=lab,tier=edge --remote-runtime-endpoint=unix:///run/containerd/containerd.sock --token=${TOKEN}`,
    );
  });
});
