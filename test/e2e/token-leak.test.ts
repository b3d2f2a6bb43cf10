import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import {
  GetCommandInvocationCommand,
  GetParameterCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  ParameterNotFound,
} from '@aws-sdk/client-ssm';
import { joinTokenParameterName } from '../../functions/shared/join-script';
import { E2E, HOSTS, type OnboardRun, readyStatus } from './harness';

/**
 * The acceptance leak scan of the join token (docs/security.md): after a join that succeeds and one that fails in
 * preflight, the token is in none of SSM's answers about the commands, no file the hosts keep (edgecore's own
 * config aside, which holds it by design), the environment of no process the join script started (keadm's
 * command line carries it, unavoidably), and no result, event, execution record or log; and the per-execution
 * parameter that carried it to the host is gone.
 */

/**
 * Files that hold the token by design: edgecore's config, which keadm writes (and the sandbox's edgecore stand-in's
 * reading of it: a real edgecore parses the YAML, the stand-in reads these lines). Everything else is scanned.
 */
const BY_DESIGN = new Set(['etc/kubeedge/config/edgecore.yaml', 'etc/kubeedge/config/sandbox-edgecore.env']);

/**
 * Tools the join script runs as plain child processes (not the sandbox's stand-ins): each gets a wrapper in the
 * host's /usr/local/bin that records its own environment and its parent's (the join script's bash, or a subshell
 * of it) before running the real tool. /proc/<pid>/environ is what any root process on the host could read.
 */
const PROBED_TOOLS = ['timeout', 'curl', 'tar', 'find', 'install', 'mktemp', 'sysctl', 'awk'];
const PROBE_DIR = 'var/tmp/edgekeeper-env-probe';

function probe(tool: string): string {
  return `#!/bin/bash
# environment probe of the token leak test: records what this child of the join script inherited
mkdir -p /${PROBE_DIR}
{ tr '\\0' '\\n' </proc/$$/environ; echo '--- parent'; tr '\\0' '\\n' </proc/$PPID/environ; } >/${PROBE_DIR}/${tool}.$$ 2>/dev/null || true
exec "$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v ${tool})" "$@"
`;
}

/** Every regular file under `dir` (symlinks are not followed: some point at the real machine). */
function filesUnder(dir: string): string[] {
  const found: string[] = [];
  const walk = (current: string) => {
    let entries: string[];
    try {
      entries = readdirSync(current);
    } catch {
      return;
    }
    for (const name of entries) {
      const path = join(current, name);
      const stat = lstatSync(path);
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile()) found.push(path);
    }
  };
  walk(dir);
  return found;
}

/** The files under `dir` whose bytes contain any of `needles`, relative to `dir`. */
function filesContaining(dir: string, needles: readonly string[], except: ReadonlySet<string> = new Set()): string[] {
  return filesUnder(dir)
    .map((path) => relative(dir, path))
    .filter((path) => !except.has(path))
    .filter((path) => {
      const bytes = readFileSync(join(dir, path));
      return needles.some((needle) => bytes.includes(needle));
    });
}

const JOINED = { name: 'leak-scan-joined', instanceId: HOSTS.ubuntuAmd64, node: 'edge-leak-1', ip: '10.20.0.41' };
const REFUSED = { name: 'leak-scan-refused', instanceId: HOSTS.firewalled, node: 'edge-leak-2', ip: '10.20.0.42' };

let e2e: E2E;
let token: string;
let needles: string[];
let joined: OnboardRun;
let refused: OnboardRun;

const hostRoot = (instanceId: string) => join(e2e.dir, 'hosts', instanceId, 'root');

beforeAll(async () => {
  e2e = await E2E.start({ prefix: 'edgekeeper-e2e-leak-' });
  const secret = await e2e.joinToken();
  token = secret.token;
  needles = [secret.token, secret.base64];
  const bin = join(hostRoot(JOINED.instanceId), 'usr/local/bin');
  await mkdir(bin, { recursive: true });
  for (const tool of PROBED_TOOLS) await writeFile(join(bin, tool), probe(tool), { mode: 0o755 });
  joined = await e2e.onboard(
    { nodeName: JOINED.node, nodeIp: JOINED.ip, instanceId: JOINED.instanceId },
    { executionName: JOINED.name },
  );
  refused = await e2e.onboard(
    { nodeName: REFUSED.node, nodeIp: REFUSED.ip, instanceId: REFUSED.instanceId },
    { executionName: REFUSED.name },
  );
});

afterAll(async () => {
  await e2e?.stop();
});

describe('the join token leak scan', () => {
  it('ran a join that succeeded and one the preflight refused', async () => {
    expect(token).toMatch(/^[0-9a-f]{64}\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(joined.result.status).toBe('SUCCEEDED');
    expect(readyStatus(await e2e.node(JOINED.node))).toBe('True');
    expect(refused.result.status).toBe('FAILED');
    expect(JSON.stringify(refused.result.error)).toContain('unreachable on TCP port');
  });

  it('is not in ListCommands, ListCommandInvocations or GetCommandInvocation answers', async () => {
    const { Commands = [] } = await e2e.ssm.send(new ListCommandsCommand({}));
    const joins = Commands.filter((c) => c.Comment?.startsWith('edgekeeper join '));
    expect(joins.map((c) => c.InstanceIds?.[0]).sort()).toEqual([JOINED.instanceId, REFUSED.instanceId].sort());
    const answers: unknown[] = [Commands];
    for (const command of Commands) {
      const commandId = command.CommandId as string;
      const listed = await e2e.ssm.send(new ListCommandInvocationsCommand({ CommandId: commandId, Details: true }));
      answers.push(listed.CommandInvocations);
      for (const invocation of listed.CommandInvocations ?? []) {
        answers.push(
          await e2e.ssm.send(
            new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: invocation.InstanceId as string }),
          ),
        );
      }
    }
    const text = JSON.stringify(answers);
    for (const needle of needles) expect(text).not.toContain(needle);
    // what the host was told instead: the parameter's name
    expect(JSON.stringify(joins)).toContain(joinTokenParameterName(JOINED.name));
  });

  it('leaves no token parameter behind once the join commands ended', async () => {
    for (const name of [JOINED.name, REFUSED.name]) {
      const read = e2e.ssm.send(new GetParameterCommand({ Name: joinTokenParameterName(name), WithDecryption: true }));
      await expect(read).rejects.toBeInstanceOf(ParameterNotFound);
    }
  });

  it("is in no host file after the commands ended, edgecore's config aside, and the agent's copies are gone", () => {
    const root = hostRoot(JOINED.instanceId);
    expect(readFileSync(join(root, 'etc/kubeedge/config/edgecore.yaml'), 'utf8')).toContain(token);
    for (const instanceId of [JOINED.instanceId, REFUSED.instanceId]) {
      expect(filesContaining(join(e2e.dir, 'hosts', instanceId), needles, BY_DESIGN_IN_HOST_DIR)).toEqual([]);
      const copies = filesUnder(join(hostRoot(instanceId), 'var/lib/amazon/ssm')).filter((path) =>
        path.endsWith('/_script.sh'),
      );
      const joinCopies = copies.filter((path) => readFileSync(path, 'utf8').includes('EDGEKEEPER_TOKEN_PARAMETER'));
      expect(joinCopies).toEqual([]);
    }
  });

  it("is in the environment of no process the join script started, nor of the script's own shell", () => {
    const probeDir = join(hostRoot(JOINED.instanceId), PROBE_DIR);
    const records = readdirSync(probeDir);
    // the download and the port checks ran through the probes
    expect(records.some((name) => name.startsWith('curl.'))).toBe(true);
    expect(records.some((name) => name.startsWith('timeout.'))).toBe(true);
    const leaking = records.filter((name) => {
      const text = readFileSync(join(probeDir, name), 'utf8');
      return needles.some((needle) => text.includes(needle)) || /^EDGEKEEPER_TOKEN=/m.test(text);
    });
    expect(leaking).toEqual([]);
    const parentEnvironments = records.map((name) => readFileSync(join(probeDir, name), 'utf8').split('--- parent')[1]);
    expect(parentEnvironments.join('\n')).toContain(
      `EDGEKEEPER_TOKEN_PARAMETER=${joinTokenParameterName(JOINED.name)}`,
    );
  });

  it('is in no result, event, execution record or handler log', () => {
    for (const run of [joined, refused]) {
      const text = JSON.stringify(run);
      for (const needle of needles) expect(text).not.toContain(needle);
    }
    expect(e2e.handlerLogs()).toMatch(/"step":\s*"SendJoinScript"/);
    expect(filesContaining(join(e2e.dir, 'logs'), needles)).toEqual([]);
    expect(filesContaining(e2e.executionsDir, needles)).toEqual([]);
  });
});

/** BY_DESIGN, relative to a host's directory (`root/…`), where the scan also covers the agent's output logs. */
const BY_DESIGN_IN_HOST_DIR = new Set([...BY_DESIGN].map((path) => join('root', path)));
