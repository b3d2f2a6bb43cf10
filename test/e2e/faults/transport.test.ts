import { runWorkflow, type WorkflowEvent, type WorkflowResult } from '../../../local/runtime';
import { E2E, HOSTS, readyStatus } from '../harness';
import { CLEAN_HOST, hostState, removeNode } from '../removal-helpers';
import { type EndState, endState, lockLeasesByKubectl } from './end-state';

/**
 * Faults between the steps and the services they call, injected through the sandbox's fault hooks
 * (local/sandbox/faults.ts): the Kubernetes API answering 429 with Retry-After or 500, stalling or resetting the
 * connection; SSM throttling, answering 5xx or refusing connections; a host going offline in the middle of the
 * join script, with and without coming back. Every scenario ends in success, or in a complete rollback: no lock
 * left, no half-joined node, the host and the DaemonSets as before.
 */

let e2e: E2E;
/** a join, perhaps a removal, retries and a client timeout or two; generous, as other runs may share the machine */
const TEST_TIMEOUT_MS = 240_000;

beforeAll(async () => {
  e2e = await E2E.start({
    readyDelayMs: 100,
    prefix: 'edgekeeper-transport-',
    // a stalled call fails after 3 s instead of the default 10: the client-side timeout is what is under test
    env: { EDGEKEEPER_REQUEST_TIMEOUT_SECONDS: '3' },
    // a host that never comes back leaves its command Pending or InProgress for this long, then SSM gives up
    sandbox: { offlineDeliveryTimeoutMs: 4000 },
  });
}, 120_000);

beforeEach(() => {
  // rules a failed test left unused must not hit the next test's own reads
  e2e?.handle.faults.clear();
});

afterAll(async () => {
  await e2e?.stop();
});

const ALL_HOSTS = [HOSTS.ubuntuAmd64, HOSTS.ubuntuArm64Containerd, HOSTS.centosArmv7];
const snapshot = () => endState(e2e, ALL_HOSTS);

/** `service operation-or-method` of every fault injected so far, and forgets them for the next scenario. */
function injected(): string[] {
  return e2e.handle.faults.history().map((f) => `${f.service} ${f.operation ?? f.method} ${f.fault.kind}`);
}

/** The states whose failure the workflow retried (the engine's StateRetried events), once per retry. */
function retried(result: WorkflowResult): string[] {
  return result.events
    .filter((event: WorkflowEvent) => event.type === 'StateRetried')
    .map((event) => event.state ?? '');
}

/** What a successful join must leave: the node Ready and finished by edgekeeper, no lock. */
async function expectJoined(nodeName: string): Promise<void> {
  const node = await e2e.node(nodeName);
  expect(readyStatus(node)).toBe('True');
  expect(node?.metadata?.labels?.['edgekeeper.io/managed']).toBe('true');
  expect(await lockLeasesByKubectl(e2e)).toEqual([]);
}

describe('Kubernetes API faults', () => {
  it(
    '429 with Retry-After, 500, a connection reset and a stall on chosen calls: the onboarding rides them out',
    async () => {
      const faults = e2e.handle.faults;
      const before = injected().length;
      // PATCH of the node: only edgekeeper patches nodes (the sandbox's cloudcore creates and replaces them)
      faults.inject({
        service: 'kube',
        method: 'PATCH',
        path: /\/api\/v1\/nodes\/edge-t1$/,
        times: 2,
        fault: { kind: 'status', status: 429, retryAfterSeconds: 1 },
      });
      faults.inject({ service: 'kube', method: 'POST', path: /\/leases$/, fault: { kind: 'status', status: 500 } });
      faults.inject({ service: 'kube', method: 'GET', path: /\/daemonsets$/, fault: { kind: 'reset' } });
      // never answered: only the client-side timeout ends the call. The list of lock Leases, which only edgekeeper
      // reads (the sandbox's cloudcore reads nodes through the same API server and would hang on a stalled node)
      faults.inject({
        service: 'kube',
        method: 'GET',
        path: /\/namespaces\/kube-system\/leases$/,
        fault: { kind: 'stall' },
      });

      const run = await e2e.onboard({ nodeName: 'edge-t1', nodeIp: '10.20.0.51', instanceId: HOSTS.ubuntuAmd64 });

      expect(run.result.error).toBeNull();
      expect(injected().slice(before)).toEqual(
        expect.arrayContaining([
          'kube PATCH status',
          'kube PATCH status',
          'kube POST status',
          'kube GET reset',
          'kube GET stall',
        ]),
      );
      expect(faults.pending()).toBe(0);
      await expectJoined('edge-t1');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a 500 that lasts outlives the retries: the join rolls back completely, DaemonSets and host as before',
    async () => {
      const faults = e2e.handle.faults;
      const before = await snapshot();
      // every DaemonSet patch fails: the DaemonSet guard, the last step before the release, cannot succeed
      const stop = faults.inject({
        service: 'kube',
        method: 'PATCH',
        path: /\/daemonsets\//,
        times: 1_000,
        fault: { kind: 'status', status: 500, message: 'etcdserver: request timed out' },
      });
      // a fresh DaemonSet without the exclusion, so the guard has something to patch
      await e2e.apps.createNamespacedDaemonSet({
        namespace: 'default',
        body: {
          metadata: { name: 'fault-probe' },
          spec: {
            selector: { matchLabels: { app: 'fault-probe' } },
            template: {
              metadata: { labels: { app: 'fault-probe' } },
              spec: { containers: [{ name: 'probe', image: 'busybox' }] },
            },
          },
        },
      });
      const withProbe = await snapshot();
      try {
        const run = await e2e.onboard({
          nodeName: 'edge-t2',
          nodeIp: '10.20.0.52',
          instanceId: HOSTS.ubuntuArm64Containerd,
        });
        expect(run.result.status).toBe('FAILED');
        expect(run.result.error?.message).toContain('etcdserver: request timed out');
        expect(retried(run.result)).toContain('Keep cloud DaemonSets off edge nodes');
        const failed = run.published.find((event) => event.detailType === 'Edge Node Join Failed');
        expect(failed?.detail).toMatchObject({ rollback: { result: 'done' } });
      } finally {
        stop();
      }
      expect(await snapshot()).toEqual(withProbe);
      expect(await e2e.node('edge-t2')).toBeUndefined();
      expect((await hostState(e2e, HOSTS.ubuntuArm64Containerd)).edgecore).toBe(
        before.hosts[HOSTS.ubuntuArm64Containerd].edgecore,
      );
      await e2e.apps.deleteNamespacedDaemonSet({ namespace: 'default', name: 'fault-probe' });
    },
    TEST_TIMEOUT_MS,
  );
});

describe('SSM faults', () => {
  it(
    'throttling, 5xx, a reset and refused connections: the join and the removal ride them out',
    async () => {
      const faults = e2e.handle.faults;
      const before = injected().length;
      faults.inject({ service: 'ssm', operation: 'SendCommand', fault: { kind: 'throttle' } });
      faults.inject({ service: 'ssm', operation: 'GetCommandInvocation', fault: { kind: 'status', status: 500 } });
      faults.inject({ service: 'ssm', operation: 'GetCommandInvocation', fault: { kind: 'status', status: 503 } });
      faults.inject({ service: 'ssm', operation: 'GetCommandInvocation', fault: { kind: 'reset' } });
      let refused = false;

      const result = await runWorkflow({
        workflow: 'onboard-node',
        input: {
          nodeName: 'edge-t3',
          nodeIp: '10.20.0.53',
          instanceId: HOSTS.centosArmv7,
          taint: true,
          labels: {},
          dryRun: false,
        },
        waits: 'compressed',
        compressedWaitMs: 50,
        environment: e2e.environment,
        executionsDir: e2e.executionsDir,
        hooks: {
          beforeTask: ({ state }) => {
            // SSM goes away for a moment just as the join script is sent (shorter than the retries, which the
            // compressed waits make last well under a second here). Not while the script runs: the host reads its
            // join token from SSM too, and that read is the host's, not a step's
            if (state === 'Send the join script to the host' && !refused) {
              refused = true;
              void faults.refuseConnections('ssm', 300);
            }
          },
        },
      });

      expect(result.error).toBeNull();
      expect(refused).toBe(true);
      expect(injected().slice(before)).toEqual(
        expect.arrayContaining([
          'ssm SendCommand throttle',
          'ssm GetCommandInvocation status',
          'ssm GetCommandInvocation status',
          'ssm GetCommandInvocation reset',
        ]),
      );
      await expectJoined('edge-t3');

      faults.inject({ service: 'ssm', operation: 'SendCommand', times: 2, fault: { kind: 'throttle' } });
      faults.inject({ service: 'ssm', operation: 'GetCommandInvocation', fault: { kind: 'status', status: 500 } });
      const removed = await removeNode(e2e, { mode: 'remove', nodeName: 'edge-t3' });
      expect(removed.result.error).toBeNull();
      expect(faults.pending()).toBe(0);
      expect(await e2e.node('edge-t3')).toBeUndefined();
      expect(await hostState(e2e, HOSTS.centosArmv7)).toEqual(CLEAN_HOST);
      expect(await lockLeasesByKubectl(e2e)).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});

describe('a host going offline in the middle of the join script', () => {
  async function onboardWithHostOffline(
    input: { nodeName: string; nodeIp: string; instanceId: string },
    comesBackAfterMs: number | undefined,
    options: { kill?: boolean } = {},
  ): Promise<WorkflowResult> {
    let tookOffline = false;
    return runWorkflow({
      workflow: 'onboard-node',
      input: { ...input, taint: true, labels: {}, dryRun: false },
      waits: 'compressed',
      compressedWaitMs: 50,
      // the wait for the script's end event lets go at once, so the first check comes while the script still runs
      compressedCallbackTimeoutMs: 50,
      environment: e2e.environment,
      executionsDir: e2e.executionsDir,
      hooks: {
        beforeTask: ({ state, workflow }) => {
          if (workflow !== 'onboard-node' || state !== 'Check the host script' || tookOffline) return;
          tookOffline = true;
          // the agent loses its connection; the script keeps running on the host, unseen
          e2e.handle.faults.takeHostOffline(input.instanceId, { kill: options.kill ?? false });
          if (comesBackAfterMs !== undefined) {
            setTimeout(() => e2e.handle.faults.bringHostOnline(input.instanceId), comesBackAfterMs);
          }
        },
      },
    });
  }

  it(
    'comes back: the command reports how it ended and the join succeeds',
    async () => {
      const result = await onboardWithHostOffline(
        { nodeName: 'edge-t4', nodeIp: '10.20.0.54', instanceId: HOSTS.centosArmv7 },
        1_500,
      );
      expect(result.error).toBeNull();
      await expectJoined('edge-t4');
      const removed = await removeNode(e2e, { mode: 'remove', nodeName: 'edge-t4' });
      expect(removed.result.error).toBeNull();
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'loses power and never comes back: the join fails naming the host, its Leases keep recording the host, and a plain remove cleans it once it is back',
    async () => {
      const before: EndState = await snapshot();
      const result = await onboardWithHostOffline(
        { nodeName: 'edge-t5', nodeIp: '10.20.0.55', instanceId: HOSTS.centosArmv7 },
        undefined,
        { kill: true },
      );
      expect(result.status).toBe('FAILED');
      expect(result.error?.message).toContain(HOSTS.centosArmv7);
      expect(await e2e.node('edge-t5')).toBeUndefined();
      // the rollback could not reach the host, which may still hold half a join: the Leases stay as the record of
      // what edge-t5 owns (free, their holder having ended), so no other name can take the host meanwhile
      expect(await lockLeasesByKubectl(e2e)).toEqual(
        [`edgekeeper-instance-${HOSTS.centosArmv7}`, 'edgekeeper-ip-10.20.0.55', 'edgekeeper-node-edge-t5'].sort(),
      );

      // once the host is back, a plain remove of the name finds the host through that record and resets it
      e2e.handle.faults.bringHostOnline(HOSTS.centosArmv7);
      const removed = await removeNode(e2e, { mode: 'remove', nodeName: 'edge-t5' });
      expect(removed.result.error).toBeNull();
      expect(await snapshot()).toEqual(before);
    },
    TEST_TIMEOUT_MS,
  );
});
