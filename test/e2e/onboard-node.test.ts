import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { V1DaemonSet, V1Node } from '@kubernetes/client-node';
import {
  E2E,
  EDGE_EXCLUSION,
  EDGE_LABELS,
  EDGE_TAINT,
  HOSTS,
  internalIps,
  type OnboardRun,
  readyStatus,
  requiredTerms,
} from './harness';

const run = promisify(execFile);
const REPO = join(__dirname, '..', '..');
const NSSWITCH_HOSTS = 'hosts:          dns files mdns4_minimal [NOTFOUND=return]';
const CLOUD_DAEMONSETS = ['calico-node', 'kube-proxy', 'nodelocaldns'];

let e2e: E2E;
let before: Record<'nodeExporter' | 'edgemeshAgent' | 'nvidia', V1DaemonSet>;
let firstRun: OnboardRun;
let firstNode: V1Node | undefined;
/** stdout and stderr of every CLI child process */
const cliOutputs: string[] = [];

/** Runs the real CLI (`npx tsx bin/edgekeeper.ts …`) in a child process; never rejects. */
function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'npx',
      ['tsx', 'bin/edgekeeper.ts', ...args],
      // --json prints every event with its input and output: more than execFile's default 1 MiB
      { cwd: REPO, env: { ...process.env }, timeout: 50_000, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  e2e = await E2E.start({ prefix: 'edgekeeper-e2e-onboard-' });
  before = {
    nodeExporter: await e2e.daemonSet('kubesphere-monitoring-system', 'node-exporter'),
    edgemeshAgent: await e2e.daemonSet('kubeedge', 'edgemesh-agent'),
    nvidia: await e2e.daemonSet('kube-system', 'nvidia-device-plugin'),
  };
  firstRun = await e2e.onboard({ nodeName: 'edge-1', nodeIp: '10.20.0.11', instanceId: HOSTS.ubuntuAmd64 });
  firstNode = await e2e.node('edge-1');
});

afterAll(async () => {
  await e2e?.stop();
});

/** What EdgeMesh preparation left on a host, seen from inside it. */
async function edgemeshState(instanceId: string) {
  const out = await e2e.hostRun(
    instanceId,
    [
      'echo "count=$(grep -c \'^hosts:\' /etc/nsswitch.conf)"',
      'echo "line=$(grep \'^hosts:\' /etc/nsswitch.conf)"',
      'echo "ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)"',
      'echo "dropins=$(ls /etc/sysctl.d | tr "\\n" " ")"',
      'echo "dropin=$(cat /etc/sysctl.d/90-edgekeeper-edgemesh.conf)"',
      'echo "joins=$(grep -c \' keadm join \' /var/log/sandbox/keadm.log)"',
    ].join('\n'),
  );
  expect(out.status).toBe('Success');
  return Object.fromEntries(
    out.stdout
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1).trim()]),
  ) as Record<'count' | 'line' | 'ip_forward' | 'dropins' | 'dropin' | 'joins', string>;
}

describe('onboarding on the sandbox', () => {
  it('joins edge-1 with the fork profile: Ready, edge labels, taint, InternalIP, and reports it', async () => {
    expect(firstRun.result.error).toBeNull();
    expect(firstRun.result.status).toBe('SUCCEEDED');
    expect(firstRun.result.output).toMatchObject({
      nodeName: 'edge-1',
      nodeIp: '10.20.0.11',
      instanceId: HOSTS.ubuntuAmd64,
      alreadyJoined: false,
    });
    expect(readyStatus(firstNode)).toBe('True');
    for (const label of EDGE_LABELS) expect(firstNode?.metadata?.labels).toHaveProperty([label]);
    expect(firstNode?.spec?.taints).toContainEqual(expect.objectContaining(EDGE_TAINT));
    expect(internalIps(firstNode)).toEqual(['10.20.0.11']);
    // the readiness check watches the node: it sees it turn Ready in one check instead of polling for it
    const readinessChecks = firstRun.result.events.filter(
      (event) => event.type === 'StateEntered' && event.state === 'Check node readiness',
    );
    expect(readinessChecks).toHaveLength(1);
    expect(firstRun.published.map((event) => event.detailType)).toEqual(['Edge Node Joined']);
    expect(await e2e.lease('edge-1')).toBeUndefined();
  });

  it('keeps calico-node, kube-proxy and nodelocaldns off edge-1 and adds the exclusion to nvidia-device-plugin', async () => {
    for (const name of CLOUD_DAEMONSETS) {
      const terms = requiredTerms(await e2e.daemonSet('kube-system', name));
      expect(terms).toBeDefined();
      for (const term of terms ?? []) expect(term.matchExpressions).toContainEqual(EDGE_EXCLUSION);
    }
    const onEdge = await e2e.daemonSetPodsOn('edge-1');
    for (const name of CLOUD_DAEMONSETS) expect(onEdge).not.toContain(`kube-system/${name}`);
    expect(onEdge).not.toContain('kube-system/nvidia-device-plugin');

    const nvidiaBefore = requiredTerms(before.nvidia) ?? [];
    const nvidiaAfter = requiredTerms(await e2e.daemonSet('kube-system', 'nvidia-device-plugin')) ?? [];
    expect(nvidiaAfter).toHaveLength(nvidiaBefore.length);
    nvidiaBefore.forEach((term, i) => {
      expect(nvidiaAfter[i].matchExpressions).toEqual([...(term.matchExpressions ?? []), EDGE_EXCLUSION]);
    });
  });

  it('leaves node-exporter and edgemesh-agent untouched', async () => {
    const nodeExporter = await e2e.daemonSet('kubesphere-monitoring-system', 'node-exporter');
    const edgemeshAgent = await e2e.daemonSet('kubeedge', 'edgemesh-agent');
    expect(nodeExporter.metadata?.resourceVersion).toBe(before.nodeExporter.metadata?.resourceVersion);
    expect(nodeExporter.spec).toEqual(before.nodeExporter.spec);
    // edgemesh-agent is meant for edge nodes: its controller status counts edge-1 now, but nobody changed it
    expect(edgemeshAgent.metadata?.generation).toBe(before.edgemeshAgent.metadata?.generation);
    expect(edgemeshAgent.metadata?.annotations).toEqual(before.edgemeshAgent.metadata?.annotations);
    expect(edgemeshAgent.spec).toEqual(before.edgemeshAgent.spec);
  });

  it('prepares EdgeMesh on the host: one hosts line in nsswitch.conf and net.ipv4.ip_forward = 1', async () => {
    const state = await edgemeshState(HOSTS.ubuntuAmd64);
    expect(state.count).toBe('1');
    expect(state.line).toBe(NSSWITCH_HOSTS);
    expect(state.ip_forward).toBe('1');
    expect(state.dropins.split(' ').filter((f) => f === '90-edgekeeper-edgemesh.conf')).toHaveLength(1);
    expect(state.dropin).toBe('net.ipv4.ip_forward = 1');
    expect(state.joins).toBe('1');
  });

  it('joins with the upstream profile (v1.15.0) on the arm64 containerd host, tainting through the API', async () => {
    const host = e2e.instance(HOSTS.ubuntuArm64Containerd);
    const { result } = await e2e.onboard({
      nodeName: 'edge-upstream',
      nodeIp: host.ipAddress,
      instanceId: host.instanceId,
      kubeedgeVersion: 'v1.15.0',
    });
    expect(result.error).toBeNull();
    expect(result.output).toMatchObject({ nodeName: 'edge-upstream', nodeIp: host.ipAddress, alreadyJoined: false });
    const node = await e2e.node('edge-upstream');
    expect(readyStatus(node)).toBe('True');
    for (const label of EDGE_LABELS) expect(node?.metadata?.labels).toHaveProperty([label]);
    expect(node?.metadata?.labels).toHaveProperty(['kubernetes.io/arch'], 'arm64');
    expect(node?.spec?.taints).toContainEqual(expect.objectContaining(EDGE_TAINT));
    expect(internalIps(node)).toEqual([host.ipAddress]);
    const keadm = await e2e.hostRun(host.instanceId, "grep ' keadm join ' /var/log/sandbox/keadm.log");
    const joins = keadm.stdout.trim().split('\n');
    expect(joins).toHaveLength(1);
    // upstream keadm has neither --edgenode-ip nor --with-edge-taint, and joins through containerd
    expect(joins[0]).not.toContain('--edgenode-ip');
    expect(joins[0]).not.toContain('--with-edge-taint');
    expect(joins[0]).toContain('--remote-runtime-endpoint=unix:///run/containerd/containerd.sock');
  });

  it('joins through the real CLI in a child process, and real kubectl sees the nodes Ready and tainted', async () => {
    const host = e2e.instance(HOSTS.centosArmv7);
    const cli = await runCli([
      'onboard',
      '--sandbox',
      e2e.dir,
      '--name',
      'edge-cli',
      '--ip',
      '10.20.0.13',
      '--instance',
      host.instanceId,
      '--json',
    ]);
    cliOutputs.push(cli.stdout, cli.stderr);
    expect(cli).toMatchObject({ code: 0 });
    const printed = JSON.parse(cli.stdout);
    expect(printed).toMatchObject({
      status: 'SUCCEEDED',
      error: null,
      output: { nodeName: 'edge-cli', nodeIp: '10.20.0.13', instanceId: host.instanceId, alreadyJoined: false },
    });
    expect(Array.isArray(printed.events)).toBe(true);

    for (const name of ['edge-1', 'edge-cli']) {
      const { stdout } = await run(
        '/usr/bin/kubectl',
        ['--cache-dir', join(e2e.dir, 'kube-cache'), 'get', 'node', name, '-o', 'json'],
        { env: { ...process.env, KUBECONFIG: e2e.kubeconfig }, timeout: 20_000 },
      );
      const node = JSON.parse(stdout) as V1Node;
      expect(readyStatus(node)).toBe('True');
      expect(node.spec?.taints).toContainEqual(expect.objectContaining(EDGE_TAINT));
    }
  });

  it('reruns the succeeded request without a second join and with the same result', async () => {
    const { result } = await e2e.onboard({ nodeName: 'edge-1', nodeIp: '10.20.0.11', instanceId: HOSTS.ubuntuAmd64 });
    expect(result.error).toBeNull();
    expect(result.output).toMatchObject({
      nodeName: 'edge-1',
      nodeIp: '10.20.0.11',
      instanceId: HOSTS.ubuntuAmd64,
      alreadyJoined: true,
    });
    const node = await e2e.node('edge-1');
    expect(node?.metadata?.uid).toBe(firstNode?.metadata?.uid);
    expect(readyStatus(node)).toBe('True');
    expect(node?.spec?.taints).toEqual(firstNode?.spec?.taints);
    const state = await edgemeshState(HOSTS.ubuntuAmd64);
    expect(state).toMatchObject({ count: '1', line: NSSWITCH_HOSTS, ip_forward: '1', joins: '1' });
    expect(state.dropins.split(' ').filter((f) => f === '90-edgekeeper-edgemesh.conf')).toHaveLength(1);
    expect(await e2e.lease('edge-1')).toBeUndefined();
  });

  it('applies a changed rerun to the joined node (its labels, no taint) and converges back, never joining twice', async () => {
    const same = { nodeName: 'edge-1', nodeIp: '10.20.0.11', instanceId: HOSTS.ubuntuAmd64 };
    const changed = await e2e.onboard({ ...same, labels: { site: 'plant-9' }, taint: false });
    expect(changed.result.error).toBeNull();
    expect(changed.result.output).toMatchObject({ nodeName: 'edge-1', alreadyJoined: true });
    const relabelled = await e2e.node('edge-1');
    expect(relabelled?.metadata?.labels).toHaveProperty(['site'], 'plant-9');
    expect(relabelled?.spec?.taints ?? []).not.toContainEqual(expect.objectContaining(EDGE_TAINT));

    const back = await e2e.onboard(same);
    expect(back.result.error).toBeNull();
    const node = await e2e.node('edge-1');
    expect(node?.metadata?.labels).not.toHaveProperty(['site']);
    expect(node?.spec?.taints).toContainEqual(expect.objectContaining(EDGE_TAINT));
    expect(node?.metadata?.uid).toBe(firstNode?.metadata?.uid);
    expect(readyStatus(node)).toBe('True');
    expect((await edgemeshState(HOSTS.ubuntuAmd64)).joins).toBe('1');
    expect(await e2e.lease('edge-1')).toBeUndefined();
  });

  it('refuses a rerun that asks for another KubeEdge version, naming both, and leaves the node as it was', async () => {
    const { result } = await e2e.onboard({
      nodeName: 'edge-1',
      nodeIp: '10.20.0.11',
      instanceId: HOSTS.ubuntuAmd64,
      kubeedgeVersion: 'v1.9.2',
    });
    expect(result.status).toBe('FAILED');
    expect(result.error).toEqual({
      name: 'InvalidRequestError',
      message:
        'kubeedgeVersion v1.9.2 differs from v1.6.1, the version node edge-1 runs: edgekeeper does not upgrade ' +
        'nodes; remove it and onboard it again',
    });
    const node = await e2e.node('edge-1');
    expect(node?.metadata?.uid).toBe(firstNode?.metadata?.uid);
    expect(readyStatus(node)).toBe('True');
    expect(await e2e.lease('edge-1')).toBeUndefined();
  });

  it('refuses another name on the instance that backs edge-1, naming both nodes, and leaves edge-1 Ready', async () => {
    const { result } = await e2e.onboard({
      nodeName: 'edge-other',
      nodeIp: '10.20.0.19',
      instanceId: HOSTS.ubuntuAmd64,
    });
    expect(result.status).toBe('FAILED');
    expect(result.error).toEqual({
      name: 'InvalidRequestError',
      message: `instanceId ${HOSTS.ubuntuAmd64} already backs node edge-1; it cannot also back node edge-other`,
    });
    expect(await e2e.node('edge-other')).toBeUndefined();
    expect(readyStatus(await e2e.node('edge-1'))).toBe('True');
    expect((await edgemeshState(HOSTS.ubuntuAmd64)).joins).toBe('1');
  });

  it('never lets the join token out: not in any result, event or log of the runs', async () => {
    const { token, base64 } = await e2e.joinToken();
    expect(token.length).toBeGreaterThan(20);
    expect(e2e.allRuns().length).toBeGreaterThanOrEqual(3);
    for (const { result, published } of e2e.allRuns()) {
      const text = JSON.stringify({ result, published });
      expect(text).not.toContain(token);
      expect(text).not.toContain(base64);
    }
    for (const output of cliOutputs) {
      expect(output).not.toContain(token);
      expect(output).not.toContain(base64);
    }
    const logs = e2e.handlerLogs();
    // the steps did log (the in-process runs and the CLI child append to the same file)
    // one JSON object per line; whether it is indented depends on where the log goes
    expect(logs).toMatch(/"step":\s*"SendJoinScript"/);
    expect(logs).not.toContain(token);
    expect(logs).not.toContain(base64);
  });
});
