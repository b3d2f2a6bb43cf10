import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { manualJoinCommand } from '../../functions/shared/manual-join';
import { readSettings, runWithEnvironment } from '../../functions/shared/settings';
import { MANUAL_JOIN_WAIT_STATE } from '../../local/cli/manual-join';
import { type PublishedEvent, runWorkflow, type WorkflowResult } from '../../local/runtime';
import { E2E, EDGE_EXCLUSION, HOSTS, readyStatus, requiredTerms } from './harness';

/*
 * A manual join on the sandbox, the test playing the person: it starts onboard-node without an instance, renders
 * the join command as the CLI and the REST API do (outside the workflow), and runs it inside an edge host of its
 * own sandbox, as someone pasting it in a root shell there would. The node must end Ready and finished, and the
 * join token must appear in none of the events, the execution's result and history, its record, or the logs.
 */

const REQUEST = { nodeName: 'edge-manual-1', nodeIp: '10.20.0.61' };
/** The device the person types on: not an SSM instance as far as the workflow knows. */
const DEVICE = HOSTS.ubuntuAmd64;
const CLOUD_DAEMONSETS = ['calico-node', 'kube-proxy', 'nodelocaldns'];
/** The CLI's manual join, on a second device of the same sandbox. */
const CLI_REQUEST = { nodeName: 'edge-manual-2', nodeIp: '10.20.0.62' };
const CLI_DEVICE = HOSTS.ubuntuArm64Containerd;
const REPO = join(__dirname, '..', '..');
/** A manual join whose finish fails after its node registered: it must leave nothing in the cluster. */
const FAILING_REQUEST = { nodeName: 'edge-manual-3', nodeIp: '10.20.0.63' };
const FAILING_DEVICE = HOSTS.centosArmv7;

let e2e: E2E;
let result: WorkflowResult;
const published: PublishedEvent[] = [];
let paste: { code: number; stdout: string; stderr: string };
let cli: { code: number | null; stdout: string; stderr: string };
let failed: { result: WorkflowResult; published: PublishedEvent[] };

/**
 * Runs a manual onboarding in-process and plays the person once the run waits for the node: renders the command
 * (as the CLI and the REST API do, outside the workflow) and runs it on `device`.
 */
async function manualJoin(request: typeof REQUEST, device: string, executionName: string) {
  const events: PublishedEvent[] = [];
  let waiting!: () => void;
  const started = new Promise<void>((resolve) => {
    waiting = resolve;
  });
  const run = runWorkflow({
    workflow: 'onboard-node',
    input: request,
    executionName,
    waits: 'compressed',
    compressedWaitMs: 50,
    onPublish: (event) => events.push(event),
    onEvent: (event) => {
      if (event.type === 'StateEntered' && event.state === MANUAL_JOIN_WAIT_STATE) waiting();
    },
    environment: e2e.environment,
    executionsDir: e2e.executionsDir,
  });
  await Promise.race([started, run]);
  const env = { ...process.env, ...e2e.environment };
  const command = await runWithEnvironment(env, () => manualJoinCommand(readSettings(env), request));
  const ran = await pasteOn(device, command);
  return { result: await run, published: events, paste: ran };
}

/** Runs `command` in a root shell on `device`, as a person who pasted it there (the SSM command only names a file). */
async function pasteOn(device: string, command: string) {
  const pasted = join(e2e.dir, 'hosts', device, 'root', 'root', 'edgekeeper-paste.sh');
  await mkdir(join(pasted, '..'), { recursive: true });
  await writeFile(pasted, command, { mode: 0o600 });
  // biome-ignore lint/suspicious/noTemplateCurlyInString: expanded by the host's shell (set only on portable hosts)
  const ran = await e2e.hostRun(device, 'bash "${SANDBOX_HOST_ROOT:-}/root/edgekeeper-paste.sh"');
  await rm(pasted);
  return ran;
}

/**
 * `edgekeeper onboard --sandbox DIR --name N --ip IP --json` in a child process: the person reads the join command
 * on its stderr and runs it on the device while the CLI waits for the node.
 */
function onboardWithCli(): Promise<typeof cli> {
  return new Promise((resolve) => {
    const args = ['tsx', 'bin/edgekeeper.ts', 'onboard', '--sandbox', e2e.dir, '--json'];
    const child = spawn('npx', [...args, '--name', CLI_REQUEST.nodeName, '--ip', CLI_REQUEST.nodeIp], { cwd: REPO });
    let stdout = '';
    let stderr = '';
    let pasting: Promise<unknown> | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const command = /^# edgekeeper: join this device[\s\S]*?^\)$/m.exec(stderr)?.[0];
      if (command && !pasting) pasting = pasteOn(CLI_DEVICE, `${command}\n`);
    });
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every file under `dir` whose bytes hold one of `needles`. */
function filesHolding(dir: string, needles: readonly string[]): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesHolding(path, needles);
    const bytes = readFileSync(path);
    return needles.some((needle) => bytes.includes(needle)) ? [path] : [];
  });
}

beforeAll(async () => {
  e2e = await E2E.start({ prefix: 'edgekeeper-e2e-manual-' });
  const first = await manualJoin(REQUEST, DEVICE, 'manual-join-1');
  ({ result, paste } = first);
  published.push(...first.published);
  cli = await onboardWithCli();
  // the finish step cannot mark the node: the node registered, and the failure path must delete it
  e2e.handle.faults.inject({
    service: 'kube',
    method: 'PATCH',
    path: new RegExp(`/api/v1/nodes/${FAILING_REQUEST.nodeName}$`),
    fault: { kind: 'status', status: 403, message: 'patching this node is refused by the test' },
  });
  failed = await manualJoin(FAILING_REQUEST, FAILING_DEVICE, 'manual-join-3');
  e2e.handle.faults.clear();
}, 120_000);

afterAll(async () => {
  await e2e?.stop();
});

describe('a manual join on the sandbox', () => {
  it('joins the device with the pasted command, and the workflow finishes the node it registered', async () => {
    expect(paste.stdout).toContain(`edgekeeper: done: joined: node ${REQUEST.nodeName}`);
    expect(paste.code).toBe(0);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({ ...REQUEST, instanceId: null, alreadyJoined: false });
    const node = await e2e.node(REQUEST.nodeName);
    expect(readyStatus(node)).toBe('True');
    expect(node?.metadata?.labels?.['edgekeeper.io/managed']).toBe('true');
    // no SSM instance backs it: a removal resets no host
    expect(node?.metadata?.annotations?.['edgekeeper.io/instance-id']).toBeUndefined();
    expect(published.map((event) => event.detailType)).toEqual(['Edge Node Joined']);
    expect(await e2e.lease(REQUEST.nodeName)).toBeUndefined();
  });

  it('keeps the cloud DaemonSets off the node', async () => {
    for (const name of CLOUD_DAEMONSETS) {
      const terms = requiredTerms(await e2e.daemonSet('kube-system', name)) ?? [];
      expect(terms.length).toBeGreaterThan(0);
      for (const term of terms) expect(term.matchExpressions).toContainEqual(EDGE_EXCLUSION);
    }
    const onNode = await e2e.daemonSetPodsOn(REQUEST.nodeName);
    for (const name of CLOUD_DAEMONSETS) expect(onNode).not.toContain(`kube-system/${name}`);
  });

  it('never lets the join token into the events, the execution, its record or the logs', async () => {
    const secret = await e2e.joinToken();
    const needles = [secret.token, secret.base64];
    const text = JSON.stringify({ result, published });
    for (const needle of needles) expect(text).not.toContain(needle);
    expect(result.events.length).toBeGreaterThan(0);
    expect(filesHolding(e2e.executionsDir, needles)).toEqual([]);
    expect(filesHolding(join(e2e.dir, 'logs'), needles)).toEqual([]);
    // the person's output shows keadm's command line with the token masked
    for (const needle of needles) expect(`${paste.stdout}${paste.stderr}`).not.toContain(needle);
    // the command's private copy of the script and the token are gone from the device
    const left = await e2e.hostRun(DEVICE, 'ls -d /tmp/edgekeeper-join.* 2>/dev/null | wc -l');
    expect(left.stdout.trim()).toBe('0');
  });

  it('leaves nothing behind in the cluster when it fails after the node registered', async () => {
    expect(failed.result.status).toBe('FAILED');
    expect(failed.result.error?.name).toBe('ClusterAccessDeniedError');
    const entered = failed.result.events.filter((e) => e.type === 'StateEntered').map((e) => e.state);
    expect(entered).toContain('Finish the node');
    expect(entered).toContain('Remove the node the manual join registered');
    expect(await e2e.node(FAILING_REQUEST.nodeName)).toBeUndefined();
    expect(await e2e.lease(FAILING_REQUEST.nodeName)).toBeUndefined();
    expect(failed.published.map((event) => event.detailType)).toEqual(['Edge Node Join Failed']);
    expect(failed.published[0].detail).toMatchObject({
      rollback: { result: 'done', detail: `deleted node ${FAILING_REQUEST.nodeName}` },
      lock: { result: 'released' },
    });
  });

  it('through the CLI: the command on stderr, the --json document on stdout without it, the node Ready', async () => {
    expect(cli.stderr).toContain('the --json document on stdout never holds it');
    expect(cli.code).toBe(0);
    const document = JSON.parse(cli.stdout);
    expect(document).toMatchObject({ status: 'SUCCEEDED', output: { ...CLI_REQUEST, instanceId: null } });
    expect(readyStatus(await e2e.node(CLI_REQUEST.nodeName))).toBe('True');
    const secret = await e2e.joinToken();
    expect(cli.stderr).toContain(secret.token);
    for (const needle of [secret.token, secret.base64]) expect(cli.stdout).not.toContain(needle);
  });
});
