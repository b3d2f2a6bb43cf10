import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { HostSpec } from './traits';

/**
 * Top-level directories a host owns. Inside its mount namespace each is bind-mounted from `<root>/<dir>`, so
 * whatever a script writes there (packages' files, /etc edits, KubeEdge state, logs) stays in the host.
 * `/usr` is an overlay instead (see namespace.ts), so the real /usr stays readable and untouched.
 */
export const HOST_OWNED_DIRS = ['etc', 'var', 'run', 'tmp', 'root', 'opt', 'home', 'mnt', 'srv'] as const;

/**
 * Files of the real /etc that bash, coreutils, curl, wget and tar need to work (dynamic linker cache,
 * Debian alternatives behind `awk` & co., users for `id`/`chown`, CA bundle for https). Nothing secret
 * (no shadow, no ssh keys) is copied.
 */
const ETC_FILES_FROM_REAL_MACHINE = [
  'alternatives',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'passwd',
  'group',
  'shells',
  'localtime',
  'timezone',
  'ssl',
  'ca-certificates',
  'ca-certificates.conf',
  'bash.bashrc',
  'profile',
  'profile.d',
  'environment',
  'inputrc',
  'login.defs',
  'gai.conf',
  'host.conf',
  'mime.types',
  'wgetrc',
];

/**
 * Directories of the real /etc that a host with namespaces of its own sees through an overlay (lower: the real
 * directory, upper: `<root>/etc/<dir>`, mounted by namespace.ts) rather than as a copy, as it sees /usr: Debian's
 * alternatives and the CA certificates' hash links are some 700 symlinks, and creating that many inodes took most
 * of a host's start (1.5 ms each on some virtual disks). Whatever a script writes there still lands in the host.
 */
const OVERLAID_ETC_DIRS = ['alternatives', 'ssl'];

/** The {@link OVERLAID_ETC_DIRS} this machine has: what a host with namespaces gets as overlays. */
export function overlaidEtcDirs(): string[] {
  return OVERLAID_ETC_DIRS.filter((name) => isDirectory(path.join('/etc', name)));
}

const STOCK_NSSWITCH = `# /etc/nsswitch.conf (stock)
passwd:         files
group:          files
shadow:         files
gshadow:        files

hosts:          files dns
networks:       files

protocols:      db files
services:       db files
ethers:         db files
rpc:            db files

netgroup:       nis
`;

const STOCK_SYSCTL_CONF = `#
# /etc/sysctl.conf - Configuration file for setting system variables
# See /etc/sysctl.d/ for additional system variables.
# See sysctl.conf (5) for information.
#

# Uncomment the next line to enable packet forwarding for IPv4
#net.ipv4.ip_forward=1
`;

/** `/etc/os-release` (and the distribution's own release files) for a host's OS trait. */
export function osReleaseFiles(spec: Pick<HostSpec, 'os' | 'osVersion'>): Record<string, string> {
  if (spec.os === 'centos') {
    const major = spec.osVersion.split('.')[0];
    return {
      'os-release': [
        'NAME="CentOS Linux"',
        `VERSION="${major} (Core)"`,
        'ID="centos"',
        'ID_LIKE="rhel fedora"',
        `VERSION_ID="${major}"`,
        `PRETTY_NAME="CentOS Linux ${major} (Core)"`,
        'HOME_URL="https://www.centos.org/"',
        '',
      ].join('\n'),
      'centos-release': `CentOS Linux release ${spec.osVersion} (Core)\n`,
      'redhat-release': `CentOS Linux release ${spec.osVersion} (Core)\n`,
    };
  }
  const codenames: Record<string, string> = { '18.04': 'bionic', '20.04': 'focal', '22.04': 'jammy', '24.04': 'noble' };
  const codename = codenames[spec.osVersion] ?? 'focal';
  return {
    'os-release': [
      'NAME="Ubuntu"',
      `VERSION="${spec.osVersion} LTS"`,
      'ID=ubuntu',
      'ID_LIKE=debian',
      `PRETTY_NAME="Ubuntu ${spec.osVersion} LTS"`,
      `VERSION_ID="${spec.osVersion}"`,
      `VERSION_CODENAME=${codename}`,
      `UBUNTU_CODENAME=${codename}`,
      '',
    ].join('\n'),
    'lsb-release': [
      'DISTRIB_ID=Ubuntu',
      `DISTRIB_RELEASE=${spec.osVersion}`,
      `DISTRIB_CODENAME=${codename}`,
      `DISTRIB_DESCRIPTION="Ubuntu ${spec.osVersion} LTS"`,
      '',
    ].join('\n'),
  };
}

const execFileAsync = promisify(execFile);

/** The real machine's `uname -m` (what the `uname` stand-in rewrites). */
function realMachineArch(): string {
  return execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim();
}

/**
 * `uname` that reports the host's arch trait: `setarch` cannot make an x86_64 kernel say aarch64, so the real
 * output is rewritten. Only installed when the edge stand-ins did not bring their own.
 */
export function unameStandIn(arch: string, realArch = realMachineArch()): string {
  return `#!/bin/bash
# uname stand-in of the edgekeeper sandbox: the real uname with the machine name replaced by the host's arch.
set -euo pipefail
out=$(/usr/bin/uname "$@")
printf '%s\\n' "\${out//${realArch}/${arch}}"
`;
}

/** The files of a host's /etc that name that one host: what a copy of another host's root must rewrite. */
export function identityFiles(spec: Pick<HostSpec, 'name' | 'instanceId'>): Record<string, string> {
  return {
    hostname: `${spec.name}\n`,
    hosts: `127.0.0.1\tlocalhost\n127.0.1.1\t${spec.name}\n::1\tlocalhost ip6-localhost ip6-loopback\n`,
    'machine-id': `${spec.instanceId.slice(3).padEnd(32, '0')}\n`,
  };
}

/**
 * Creates a fresh host root at `root`: the directories a host owns, a small /etc seeded from the real machine
 * plus the host's identity (os-release, hostname, hosts, stock nsswitch and sysctl files), and `/usr` as the
 * (empty) upper layer of the host's /usr overlay. With `overlaidEtc` (a host that gets namespaces), the
 * {@link overlaidEtcDirs} are left empty, as the upper layers of their overlays, instead of copied.
 */
export async function seedHostRoot(root: string, spec: HostSpec, options: { overlaidEtc: boolean }): Promise<void> {
  // Synchronous on purpose: a few dozen directories and small files, each too small to be worth a trip through the
  // event loop, which the demo keeps busy loading modules while its hosts start (each await waited for one of them).
  for (const dir of [...HOST_OWNED_DIRS, ...SEEDED_DIRS]) mkdirSync(path.join(root, dir), { recursive: true });
  chmodSync(path.join(root, 'tmp'), 0o1777);
  chmodSync(path.join(root, 'root'), 0o700);
  chmodSync(path.join(root, 'var/tmp'), 0o1777);
  for (const [link, target] of HOST_LINKS) {
    if (!isPresent(path.join(root, link))) symlinkSync(target, path.join(root, link));
  }

  const etc = path.join(root, 'etc');
  const overlaid = options.overlaidEtc ? overlaidEtcDirs() : [];
  // An overlay's top directory takes the upper layer's owner and mode: the real directory's, as a copy would have.
  for (const name of overlaid) {
    const [real, upper] = [path.join('/etc', name), path.join(etc, name)];
    const stats = statSync(real);
    mkdirSync(upper, { recursive: true });
    chmodSync(upper, stats.mode & 0o7777);
    if (process.getuid?.() === 0) chownSync(upper, stats.uid, stats.gid);
  }
  const files: Record<string, string> = {
    ...osReleaseFiles(spec),
    ...identityFiles(spec),
    'resolv.conf': '# edgekeeper sandbox: hosts have no DNS; services are reached on 127.0.0.1\n',
    'nsswitch.conf': STOCK_NSSWITCH,
    'sysctl.conf': STOCK_SYSCTL_CONF,
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(etc, name), text);
  // Debian's os-release lives in /usr/lib; tools that read it there must see the host's OS too.
  writeFileSync(path.join(root, 'usr/lib/os-release'), files['os-release'] ?? '');
  const sources = ETC_FILES_FROM_REAL_MACHINE.filter((name) => !overlaid.includes(name))
    .map((name) => path.join('/etc', name))
    .filter((p) => isPresent(p));
  // One `cp -a` keeps symlinks and modes as they are and is far faster than fs.cp on /etc/ssl's many links.
  if (sources.length > 0) await execFileAsync('cp', ['-a', ...sources, etc]);
}

/** Symlinks of a fresh root: absolute targets, which resolve inside the host, where /run is the host's own. */
const HOST_LINKS = [
  ['var/run', '/run'],
  ['var/lock', '/run/lock'],
] as const;

/** Directories below the host-owned ones that a fresh root has. */
const SEEDED_DIRS = [
  'var/lib',
  'var/log',
  'var/cache',
  'var/spool',
  'var/tmp',
  'run/lock',
  'usr/local/bin',
  'usr/lib/sysctl.d',
  'etc/sysctl.d',
  'etc/systemd/system',
  'etc/default',
];

/** Installs the sandbox's `uname` into the host unless the edge stand-ins provided one. */
export function ensureUnameStandIn(root: string, arch: string): void {
  const candidates = ['usr/local/bin/uname', 'usr/bin/uname', 'usr/local/sbin/uname'];
  if (candidates.some((c) => existsSync(path.join(root, c)))) return;
  writeFileSync(path.join(root, 'usr/local/bin/uname'), unameStandIn(arch), { mode: 0o755 });
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** True when something (even a dangling symlink) exists at `p`. */
function isPresent(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * `aws` as a host's AWS CLI answers the one call edgekeeper's host scripts make, `aws ssm get-parameter --name N
 * [--with-decryption] [--query Parameter.Value --output text]`, from the sandbox's SSM endpoint at
 * `AWS_ENDPOINT_URL_SSM` (what the sandbox's agent gives a script, standing in for the host's own AWS
 * configuration and credentials). Pure bash (no curl: some hosts lack it on purpose, and no here-strings: older
 * bash writes them to /tmp); errors are worded and numbered as the real CLI's.
 */
export const AWS_STAND_IN = `#!/bin/bash
# aws stand-in of the edgekeeper sandbox: only 'aws ssm get-parameter', answered by the sandbox's SSM endpoint.
set -euo pipefail
usage() {
  printf 'aws: error: %s\\n' "$*" >&2
  exit 252
}
[[ \${1:-} == ssm && \${2:-} == get-parameter ]] || usage "the sandbox's aws answers only 'aws ssm get-parameter'"
shift 2
name='' decrypt=false query='' output=json
while (($# > 0)); do
  case $1 in
    --name) name=\${2:-} ;;
    --query) query=\${2:-} ;;
    --output) output=\${2:-} ;;
    --with-decryption) decrypt=true ;;
    --no-with-decryption) decrypt=false ;;
    *) usage "unknown option $1" ;;
  esac
  case $1 in --name | --query | --output) shift 2 || usage "$1 needs a value" ;; *) shift ;; esac
done
[[ $name =~ ^[A-Za-z0-9_./-]+$ ]] || usage 'argument --name: expected a parameter name'
[[ -z $query || $query == Parameter.Value ]] || usage "the sandbox's aws answers only --query Parameter.Value"
if [[ ! \${AWS_ENDPOINT_URL_SSM:-} =~ ^http://([0-9.]+):([0-9]+)/?$ ]]; then
  echo 'Unable to locate credentials. You can configure credentials by running "aws configure".' >&2
  exit 253
fi
host=\${BASH_REMATCH[1]} port=\${BASH_REMATCH[2]}
body="{\\"Name\\":\\"\${name}\\",\\"WithDecryption\\":\${decrypt}}"
if ! exec 3<>"/dev/tcp/\${host}/\${port}"; then
  printf '\\nCould not connect to the endpoint URL: "%s"\\n' "$AWS_ENDPOINT_URL_SSM" >&2
  exit 255
fi
printf 'POST / HTTP/1.0\\r\\nHost: %s:%s\\r\\nContent-Type: application/x-amz-json-1.1\\r\\nX-Amz-Target: AmazonSSM.GetParameter\\r\\nContent-Length: %s\\r\\n\\r\\n%s' \\
  "$host" "$port" "\${#body}" "$body" >&3
response=''
IFS= read -r -d '' response <&3 || true
exec 3>&-
status_line=\${response%%$'\\r'*}
status=\${status_line#* }
status=\${status%% *}
payload=\${response#*$'\\r\\n\\r\\n'}
if [[ $status != 200 ]]; then
  type=Unknown message=''
  [[ $payload =~ \\"__type\\":\\"([^\\"]*)\\" ]] && type=\${BASH_REMATCH[1]}
  [[ $payload =~ \\"message\\":\\"([^\\"]*)\\" ]] && message=\${BASH_REMATCH[1]}
  printf '\\nAn error occurred (%s) when calling the GetParameter operation: %s\\n' "$type" "$message" >&2
  exit 254
fi
if [[ $query == Parameter.Value && $output == text ]]; then
  [[ $payload =~ \\"Value\\":\\"([^\\"\\\\]*)\\" ]] || usage 'the parameter value is not plain text'
  printf '%s\\n' "\${BASH_REMATCH[1]}"
else
  printf '%s\\n' "$payload"
fi
`;

/** Installs the sandbox's `aws` (see {@link AWS_STAND_IN}) where the edge stand-ins go: first on a root PATH. */
export function installAwsStandIn(root: string): void {
  mkdirSync(path.join(root, 'usr/local/sbin'), { recursive: true });
  writeFileSync(path.join(root, 'usr/local/sbin/aws'), AWS_STAND_IN, { mode: 0o755 });
}
