import { join } from 'node:path';
import { LOCK_NAMESPACE } from '../../../functions/shared/domain';
import { localStateMachineArn, runWorkflow, type WorkflowResult } from '../../../local/runtime';

/** The ARN of a local execution: what a lock records as its holder. */
const executionArn = (workflow: string, name: string) =>
  `${localStateMachineArn(workflow).replace(':stateMachine:', ':execution:')}:${name}`;

import { E2E, HOSTS, internalIps, readyStatus } from '../harness';
import { hostState, removeNode, runCli } from '../removal-helpers';
import { lockLeases, lockLeasesByKubectl } from './end-state';
import { runInChild } from './harness';

/**
 * The lock promises of the fault-injection suite, on one sandbox, in order: two concurrent onboardings cannot
 * share an IP; a lock whose holder was killed frees itself for the next run; a holder id cannot be borrowed,
 * neither through an execution name nor through the input; `edgekeeper unlock` shows the holder and breaks only a
 * dead holder's lock.
 */

let e2e: E2E;

beforeAll(async () => {
  e2e = await E2E.start({ readyDelayMs: 100, prefix: 'edgekeeper-locks-' });
}, 120_000);

afterAll(async () => {
  await e2e?.stop();
});

/** Lock Leases recording this node name, and the node-name Lease itself. */
async function leasesOf(nodeName: string) {
  const { items } = await e2e.coordination.listNamespacedLease({ namespace: LOCK_NAMESPACE });
  return items.filter(
    (lease) =>
      lease.metadata?.name === `edgekeeper-node-${nodeName}` ||
      lease.metadata?.annotations?.['edgekeeper.io/node-name'] === nodeName,
  );
}

const onboardInput = (nodeName: string, nodeIp: string, instanceId: string) => ({
  nodeName,
  nodeIp,
  instanceId,
  taint: true,
  labels: {},
  dryRun: false,
});

describe('locks under concurrency, crashes and borrowed ids', () => {
  it('one IP in two concurrent requests gives one node: the other is refused and no Lease is left', async () => {
    const loserHostBefore = {
      [HOSTS.ubuntuAmd64]: await hostState(e2e, HOSTS.ubuntuAmd64),
      [HOSTS.ubuntuArm64Containerd]: await hostState(e2e, HOSTS.ubuntuArm64Containerd),
    };
    const [a, b] = await Promise.all([
      e2e.onboard(onboardInput('edge-a', '10.20.0.41', HOSTS.ubuntuAmd64)),
      e2e.onboard(onboardInput('edge-b', '10.20.0.41', HOSTS.ubuntuArm64Containerd)),
    ]);

    const statuses = [a.result.status, b.result.status].sort();
    expect(statuses).toEqual(['FAILED', 'SUCCEEDED']);
    const [winner, loser] = a.result.status === 'SUCCEEDED' ? [a, b] : [b, a];
    const [winnerName, loserName, loserHost] =
      winner === a ? ['edge-a', 'edge-b', HOSTS.ubuntuArm64Containerd] : ['edge-b', 'edge-a', HOSTS.ubuntuAmd64];
    // refused either at its lock (the other held the IP) or at validation (the other's node or lock was there)
    expect(['NodeLockedError', 'InvalidRequestError']).toContain(loser.result.error?.name);
    expect(loser.result.error?.message).toMatch(/10\.20\.0\.41|edge-[ab]/);

    const { items: nodes } = await e2e.core.listNode();
    expect(nodes.filter((node) => internalIps(node).includes('10.20.0.41')).map((n) => n.metadata?.name)).toEqual([
      winnerName,
    ]);
    expect(readyStatus(await e2e.node(winnerName))).toBe('True');
    expect(await e2e.node(loserName)).toBeUndefined();
    // the loser never reached its host
    expect(await hostState(e2e, loserHost)).toEqual(loserHostBefore[loserHost]);
    expect(await lockLeasesByKubectl(e2e)).toEqual([]);

    const removed = await removeNode(e2e, { mode: 'remove', nodeName: winnerName });
    expect(removed.result.error).toBeNull();
  });

  it('a stale lock frees itself when its holder is gone: a new execution for the node succeeds without unlock', async () => {
    const input = onboardInput('edge-s', '10.20.0.42', HOSTS.centosArmv7);
    const killed = await runInChild(e2e, {
      workflow: 'onboard-node',
      input,
      killAt: { workflow: 'onboard-node', state: 'Lock the node', phase: 'exit' },
    });
    expect(killed.killed).toBe(true);
    const stale = await leasesOf('edge-s');
    // name, instance and IP, all held by the dead execution
    expect(stale).toHaveLength(3);
    for (const lease of stale) {
      expect(lease.spec?.holderIdentity).toBe(executionArn('onboard-node', killed.executionName));
    }

    const rerun = await e2e.onboard(input, { executionName: 'edge-s-second-try' });
    expect(rerun.result.error).toBeNull();
    expect(rerun.result.status).toBe('SUCCEEDED');
    expect(readyStatus(await e2e.node('edge-s'))).toBe('True');
    expect(await lockLeases(e2e)).toEqual([]);
  });

  describe('while a live execution holds edge-h', () => {
    let release!: (error?: Error) => void;
    let holder: Promise<WorkflowResult>;
    const holderName = 'edge-h-holder';
    const holderArn = executionArn('onboard-node', holderName);
    let held: { name: string; resourceVersion: string; holder: string }[] = [];

    const snapshotLeases = async () =>
      (await leasesOf('edge-h')).map((lease) => ({
        name: lease.metadata?.name ?? '',
        resourceVersion: lease.metadata?.resourceVersion ?? '',
        holder: lease.spec?.holderIdentity ?? '',
      }));

    beforeAll(async () => {
      // the holder stops right after its lock step and waits there, alive, until the tests let it go
      let paused!: () => void;
      const reachedPause = new Promise<void>((resolve) => {
        paused = resolve;
      });
      const gate = new Promise<Error | undefined>((resolve) => {
        release = resolve;
      });
      holder = runWorkflow({
        workflow: 'onboard-node',
        input: onboardInput('edge-h', '10.20.0.43', HOSTS.ubuntuAmd64),
        executionName: holderName,
        waits: 'compressed',
        compressedWaitMs: 50,
        environment: e2e.environment,
        executionsDir: e2e.executionsDir,
        hooks: {
          afterTask: async ({ state, workflow }) => {
            if (workflow !== 'onboard-node' || state !== 'Lock the node') return;
            paused();
            const failure = await gate;
            if (failure) throw failure;
          },
        },
      });
      await reachedPause;
      held = await snapshotLeases();
      expect(held.map((lease) => lease.holder)).toEqual([holderArn, holderArn, holderArn]);
    }, 60_000);

    afterAll(async () => {
      release?.(new Error('the test is done with this holder'));
      await holder;
    });

    it('a stolen holder id is refused: the same execution name in remove-node cannot start, nor adopt the lock', async () => {
      // on this machine, the registry keeps execution names unique across workflows, as one Step Functions account
      // would not: the name is refused before anything runs
      await expect(
        removeNode(e2e, { mode: 'remove', nodeName: 'edge-h' }, { executionName: holderName }),
      ).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
      // from another registry (another machine, or Step Functions, where each workflow has its own names), the
      // same name is another execution with another ARN: the lock stays the holder's
      const elsewhere = await runWorkflow({
        workflow: 'remove-node',
        input: { mode: 'remove', nodeName: 'edge-h' },
        executionName: holderName,
        waits: 'compressed',
        compressedWaitMs: 50,
        environment: e2e.environment,
        executionsDir: join(e2e.dir, 'another-machine'),
      });
      expect(elsewhere.status).toBe('FAILED');
      expect(elsewhere.error?.name).toBe('NodeLockedError');
      expect(elsewhere.error?.message).toContain(holderArn);
      expect(await snapshotLeases()).toEqual(held);
    });

    it('a stolen holder id is refused: holder-looking input is rejected before any lock is touched', async () => {
      const { result } = await removeNode(e2e, { mode: 'remove', nodeName: 'edge-h', lockHolder: holderArn });
      expect(result.status).toBe('FAILED');
      expect(result.error?.name).toBe('InvalidRequestError');
      expect(result.error?.message).toContain('lockHolder');
      expect(await snapshotLeases()).toEqual(held);
    });

    it('a stolen holder id is refused: a hand-started "<holder>-rollback" cannot work under the live holder’s lock', async () => {
      const hostBefore = await hostState(e2e, HOSTS.ubuntuAmd64);
      // named as the holder's rollback child would be, but the holder never handed its Leases over
      const impostor = await runWorkflow({
        workflow: 'remove-node',
        input: {
          mode: 'rollback',
          nodeName: 'edge-h',
          instanceId: HOSTS.ubuntuAmd64,
          nodeIp: '10.20.0.43',
          force: true,
          hostChanged: true,
        },
        executionName: `${holderName}-rollback`,
        waits: 'compressed',
        compressedWaitMs: 50,
        environment: e2e.environment,
        executionsDir: e2e.executionsDir,
      });
      expect(impostor.status).toBe('FAILED');
      expect(impostor.error?.name).toBe('NodeLockedError');
      expect(impostor.error?.message).toContain(holderArn);
      expect(await snapshotLeases()).toEqual(held);
      expect(await hostState(e2e, HOSTS.ubuntuAmd64)).toEqual(hostBefore);
    });

    it('`edgekeeper unlock` shows the live holder and refuses to break its lock', async () => {
      const cli = await runCli(['unlock', '--sandbox', e2e.dir, '--name', 'edge-h']);
      expect(cli.code).toBe(1);
      expect(cli.stdout).toContain(`node edge-h is locked by ${holderArn}`);
      expect(cli.stdout).toContain('still running');
      expect(cli.stdout).toContain('--force');
      expect(await snapshotLeases()).toEqual(held);
    });
  });

  it('`edgekeeper unlock` shows a killed holder as gone and breaks its lock', async () => {
    const killed = await runInChild(e2e, {
      workflow: 'onboard-node',
      input: onboardInput('edge-u', '10.20.0.44', HOSTS.ubuntuArm64Containerd),
      killAt: { workflow: 'onboard-node', state: 'Lock the node', phase: 'exit' },
    });
    expect(killed.killed).toBe(true);
    expect(await leasesOf('edge-u')).toHaveLength(3);

    const cli = await runCli(['unlock', '--sandbox', e2e.dir, '--name', 'edge-u']);
    expect(cli.code).toBe(0);
    const holderArn = executionArn('onboard-node', killed.executionName);
    expect(cli.stdout).toContain(`broke the lock of node edge-u held by ${holderArn}`);
    expect(cli.stdout).toContain('gone (its execution ended)');
    for (const key of ['edgekeeper-node-edge-u', HOSTS.ubuntuArm64Containerd, '10.20.0.44']) {
      expect(cli.stdout).toContain(key);
    }
    expect(await leasesOf('edge-u')).toEqual([]);
    expect(await lockLeasesByKubectl(e2e)).toEqual([]);
  });
});
