/**
 * remove-node, the source of `statemachine/remove-node.asl.json` (`npm run asl` writes it): remove a node, roll
 * back a failed join (onboard-node starts it as `<its execution name>-rollback`), or uninstall KubeEdge. State
 * names are a contract: the docs, the CLI's progress lines and the tests name them.
 */

import { POLL_DELAY } from '../../functions/shared/backoff';
import {
  choice,
  failWith,
  isPresentString,
  isString,
  isTrue,
  LOCK_REFUSED,
  lambda,
  lambdaCallback,
  lockFor,
  onAnyError,
  onError,
  pass,
  publish,
  ROUTING_TURN,
  startWorkflow,
  waitFor,
  workflow,
} from './states';

/** Before the lock is held: nothing to release. */
const beforeLock = [onAnyError('Nothing to release')];
/** Holding the lock. */
const underLock = [onAnyError('Release the lock after failure')];
/** Holding the cluster-wide uninstall lock. */
const underClusterLock = [onAnyError('Release the cluster lock after failure')];

/**
 * The lock covers the node name, the instance and the IP (each when known); its holder is this execution. A
 * rollback's lock step adopts its parent's lock, finding the parent from this execution's own name.
 */
const lockTarget = {
  ...lockFor('remove'),
  'nodeName.$': '$.request.nodeName',
  'instanceId.$': '$.instanceId',
  'nodeIp.$': '$.nodeIp',
};

/** The node's logs/exec routing, removed with the node. */
const routing = { 'nodeName.$': '$.request.nodeName', 'nodeIp.$': '$.nodeIp', action: 'remove' };

/** What the failure events say besides their type: the request, the original error, the lock release. */
const failureDetail = {
  'request.$': '$$.Execution.Input',
  'error.$': '$.error.Error',
  'cause.$': '$.error.Cause',
  'lock.$': '$.undo.lock',
};

export const removeNode = workflow('remove-node', {
  comment:
    'Remove an edge node (drain, reset the host, delete the node), roll back a failed join (the same, tolerant of what never happened), or uninstall KubeEdge from the cluster.',
  startAt: 'Which mode?',
  states: {
    'Which mode?': choice({
      comment: 'remove (the default) and rollback share one path; uninstall has its own.',
      choices: [isPresentString('$.mode', 'uninstall', 'Lock the cluster')],
      otherwise: 'Inspect the node',
    }),

    // remove and rollback
    'Inspect the node': lambda('InspectNode', {
      comment:
        'The node (an edge node; absent is fine: only what edgekeeper left for it is cleaned), its host, whether the host is this node’s to reset, and whether SSM reaches it. An offline host fails here unless force.',
      payload: { 'request.$': '$' },
      keep: ['request', 'instanceId', 'hostReset', 'keadm', 'nodeIp', 'notice'],
      catch: beforeLock,
      next: 'Lock the node',
    }),
    'Lock the node': lambda('LockNode', {
      comment:
        'The node name, instance and IP, all or none. A rollback adopts the lock of the onboarding that started it, and no other.',
      payload: lockTarget,
      // refused: the step took none of the Leases; any other failure may have left some, and releasing deletes
      // only this execution's
      catch: [onError(LOCK_REFUSED, 'Nothing to release'), ...underLock],
      next: 'Start draining',
    }),
    'Start draining': pass({
      result: { attempt: 0, startedAt: null },
      resultPath: '$.drain',
      next: 'Clear workloads off the node',
    }),
    'Clear workloads off the node': lambda('DrainNode', {
      comment:
        'Refuses while workload pods run unless drain; otherwise cordons and evicts through the Eviction API (PDBs honoured).',
      payload: {
        'nodeName.$': '$.request.nodeName',
        'drain.$': '$.request.drain',
        'startedAt.$': '$.drain.startedAt',
        'attempt.$': '$.drain.attempt',
      },
      keep: ['done', 'waitSeconds', 'startedAt', 'attempt', 'outcome'],
      resultPath: '$.drain',
      catch: underLock,
      next: 'Drained?',
    }),
    'Drained?': choice({
      choices: [isTrue('$.drain.done', 'Reset the host?')],
      otherwise: 'Wait for evictions',
    }),
    'Wait for evictions': waitFor('$.drain.waitSeconds', 'Clear workloads off the node'),
    'Reset the host?': choice({
      choices: [isString('$.hostReset.action', 'reset', 'Send the reset script to the host')],
      otherwise: 'Skip the host reset',
    }),
    'Skip the host reset': pass({
      comment:
        'Forced removal of an offline host, or a host this execution must not touch: the result says what stays on it.',
      result: { status: 'Skipped', report: null },
      resultPath: '$.command',
      next: 'Delete the node',
    }),
    'Send the reset script to the host': lambda('SendResetScript', {
      comment:
        'keadm reset, mosquitto removed, mounts under the KubeEdge dirs unmounted deepest first, files deleted, then verified.',
      payload: {
        'nodeName.$': '$.request.nodeName',
        'instanceId.$': '$.instanceId',
        'keadm.$': '$.keadm',
        'forceHost.$': '$.request.forceHost',
      },
      keep: ['commandId', 'instanceId', 'startedAt', 'attempt', 'waitSeconds'],
      resultPath: '$.command',
      catch: underLock,
      next: 'Wait for the reset script',
    }),
    'Wait for the reset script': lambdaCallback('AwaitHostCommand', {
      comment:
        "Ends as soon as SSM reports the reset command ended, as onboarding's wait for its host script does: EventBridge hands SSM's status change to ResumeOnCommandEvent, which sends this task's token back. Without that event the wait times out after the polling backoff cap and the check polls; a wait that cannot be set up falls back to polling with backoff.",
      payload: { 'commandId.$': '$.command.commandId', 'instanceId.$': '$.command.instanceId' },
      timeoutSeconds: POLL_DELAY.maxSeconds,
      catch: [
        onError(['States.Timeout'], 'Check the reset script', null),
        onAnyError('Pause before checking the reset script', null),
      ],
      next: 'Check the reset script',
    }),
    'Pause before checking the reset script': waitFor('$.command.waitSeconds', 'Check the reset script'),
    'Check the reset script': lambda('CheckHostCommand', {
      comment: 'Fails when anything is left on the host, naming it.',
      payload: {
        script: 'reset',
        'nodeName.$': '$.request.nodeName',
        'commandId.$': '$.command.commandId',
        'instanceId.$': '$.command.instanceId',
        'startedAt.$': '$.command.startedAt',
        'attempt.$': '$.command.attempt',
      },
      keep: ['commandId', 'instanceId', 'startedAt', 'attempt', 'waitSeconds', 'status', 'report'],
      resultPath: '$.command',
      catch: underLock,
      next: 'Reset finished?',
    }),
    'Reset finished?': choice({
      choices: [isString('$.command.status', 'Success', 'Delete the node')],
      otherwise: 'Wait for the reset script',
    }),
    'Delete the node': lambda('DeleteNode', {
      payload: { 'nodeName.$': '$.request.nodeName' },
      keep: ['outcome'],
      resultPath: '$.deleted',
      catch: underLock,
      next: 'Remove the logs and exec routing',
    }),
    'Remove the logs and exec routing': lambda('RouteNodeStreams', {
      comment: "Deletes the node's DNAT rules on every cloud host, whatever destination they had (off by default).",
      payload: { ...routing, wait: false },
      selector: ROUTING_TURN,
      resultPath: '$.routing',
      catch: underLock,
      next: 'Routing removed?',
    }),
    'Routing removed?': choice({
      choices: [isString('$.routing.status', 'Done', 'Release the lock')],
      otherwise: 'Wait for the routing removal',
    }),
    'Wait for the routing removal': waitFor('$.routing.result.waitSeconds', 'Check the routing removal'),
    'Check the routing removal': lambda('RouteNodeStreams', {
      comment: 'Every tagged cloud host must apply the change within the routing timeout.',
      payload: { ...routing, 'command.$': '$.routing.result.command' },
      selector: ROUTING_TURN,
      resultPath: '$.routing',
      catch: underLock,
      next: 'Routing removed?',
    }),
    'Release the lock': lambda('ReleaseNodeLock', {
      comment: 'A lock whose holder has ended is free for the next operation; the finished work is not failed for it.',
      payload: lockTarget,
      catch: [onAnyError('Publish Edge Node Removed', '$.releaseError')],
      next: 'Publish Edge Node Removed',
    }),
    'Publish Edge Node Removed': publish({
      comment: 'The node is removed whether or not the event goes out: a publishing failure does not fail the removal.',
      detailType: 'Edge Node Removed',
      detail: {
        'nodeName.$': '$.request.nodeName',
        'mode.$': '$.request.mode',
        'instanceId.$': '$.instanceId',
      },
      catch: [onAnyError('Report the removal', '$.publishError')],
      next: 'Report the removal',
    }),
    'Report the removal': pass({
      parameters: {
        'nodeName.$': '$.request.nodeName',
        'mode.$': '$.request.mode',
        'instanceId.$': '$.instanceId',
        'drain.$': '$.drain.outcome',
        'host.$': '$.hostReset',
        'hostReset.$': '$.command.report',
        'node.$': '$.deleted.outcome',
        'routing.$': '$.routing.result.outcome',
        'notice.$': '$.notice',
      },
      end: true,
    }),

    // uninstall
    'Lock the cluster': lambda('LockNode', {
      comment:
        'One cluster-wide Lease held by this execution: onboarding refuses while it is held, so no node joins a KubeEdge being removed.',
      payload: lockFor('uninstall'),
      catch: [onError(LOCK_REFUSED, 'Nothing to release'), ...underClusterLock],
      next: 'Plan the uninstall',
    }),
    'Plan the uninstall': lambda('PlanUninstall', {
      comment: 'Reads the Helm release from its Secrets (no helm binary); refuses while edge nodes exist unless force.',
      payload: { 'request.$': '$' },
      keep: ['installed', 'plan'],
      catch: underClusterLock,
      next: 'KubeEdge installed?',
    }),
    'KubeEdge installed?': choice({
      choices: [{ Variable: '$.installed', BooleanEquals: false, Next: 'Release the cluster lock: nothing to do' }],
      otherwise: 'Remove the remaining edge nodes',
    }),
    'Release the cluster lock: nothing to do': lambda('ReleaseNodeLock', {
      payload: lockFor('uninstall'),
      catch: [onAnyError('Report nothing to uninstall', '$.releaseError')],
      next: 'Report nothing to uninstall',
    }),
    'Report nothing to uninstall': pass({
      result: { uninstalled: false, reason: 'KubeEdge is not installed in this cluster' },
      end: true,
    }),
    'Remove the remaining edge nodes': {
      Type: 'Map',
      Comment: 'Only with force: each edge node is removed by this same workflow, a few at a time.',
      ItemsPath: '$.plan.nodesToRemoveFirst',
      MaxConcurrency: 4,
      ItemSelector: { mode: 'remove', 'nodeName.$': '$$.Map.Item.Value', drain: true, force: true },
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'Remove the edge node',
        States: {
          'Remove the edge node': startWorkflow({
            workflow: 'remove-node',
            input: '$',
            outputPath: '$.Output',
            catch: [{ ErrorEquals: ['States.TaskFailed'], ResultPath: '$.failure', Next: "Read the removal's error" }],
            end: true,
          }),
          "Read the removal's error": pass({
            comment: 'A failed child execution arrives as States.TaskFailed; its own error name is inside the cause.',
            parameters: { 'child.$': 'States.StringToJson($.failure.Cause)' },
            next: "Fail with the removal's error",
          }),
          "Fail with the removal's error": failWith('$.child'),
        },
      },
      ResultPath: '$.removedNodes',
      Catch: underClusterLock,
      Next: 'Delete the KubeEdge release',
    },
    'Delete the KubeEdge release': lambda('DeleteKubeEdge', {
      comment: 'Every object of the release in order (cluster-scoped too), then its Secrets, then namespace kubeedge.',
      payload: { 'plan.$': '$.plan', 'removedNodes.$': '$.plan.nodesToRemoveFirst' },
      selector: { 'report.$': '$.Payload' },
      resultPath: '$.deleted',
      catch: underClusterLock,
      next: 'Start waiting for the namespace',
    }),
    'Start waiting for the namespace': pass({
      result: { attempt: 0, startedAt: null },
      resultPath: '$.namespace',
      next: 'Check the namespace is gone',
    }),
    'Check the namespace is gone': lambda('CheckNamespaceGone', {
      payload: {
        'namespace.$': '$.plan.namespace',
        'startedAt.$': '$.namespace.startedAt',
        'attempt.$': '$.namespace.attempt',
      },
      keep: ['gone', 'waitSeconds', 'startedAt', 'attempt'],
      resultPath: '$.namespace',
      catch: underClusterLock,
      next: 'Namespace gone?',
    }),
    'Namespace gone?': choice({
      choices: [isTrue('$.namespace.gone', 'Release the cluster lock')],
      otherwise: 'Wait for the namespace',
    }),
    'Wait for the namespace': waitFor('$.namespace.waitSeconds', 'Check the namespace is gone'),
    'Release the cluster lock': lambda('ReleaseNodeLock', {
      comment: 'A lock whose holder has ended is free for the next operation; the finished work is not failed for it.',
      payload: lockFor('uninstall'),
      catch: [onAnyError('Publish KubeEdge Uninstalled', '$.releaseError')],
      next: 'Publish KubeEdge Uninstalled',
    }),
    'Publish KubeEdge Uninstalled': publish({
      comment: 'KubeEdge is gone whether or not the event goes out: a publishing failure does not fail the uninstall.',
      detailType: 'KubeEdge Uninstalled',
      detail: { 'release.$': '$.deleted.report.release' },
      catch: [onAnyError('Report the uninstall', '$.publishError')],
      next: 'Report the uninstall',
    }),
    'Report the uninstall': pass({
      parameters: { uninstalled: true, 'report.$': '$.deleted.report' },
      end: true,
    }),

    // failures of every mode: release the lock, say what happened, fail with the original error
    'Nothing to release': pass({
      comment: 'The request failed before this execution held a lock.',
      result: { result: 'not-held' },
      resultPath: '$.undo.lock',
      next: 'Which failure event?',
    }),
    'Release the lock after failure': lambda('ReleaseNodeLock', {
      payload: lockTarget,
      selector: { 'result.$': '$.Payload.lock' },
      resultPath: '$.undo.lock',
      catch: [onAnyError('Which failure event?', '$.undo.lock')],
      next: 'Which failure event?',
    }),
    'Release the cluster lock after failure': lambda('ReleaseNodeLock', {
      payload: lockFor('uninstall'),
      selector: { 'result.$': '$.Payload.lock' },
      resultPath: '$.undo.lock',
      catch: [onAnyError('Which failure event?', '$.undo.lock')],
      next: 'Which failure event?',
    }),
    'Which failure event?': choice({
      comment:
        'Each mode fails with its own event: a failed rollback means a failed join whose host may need a person, a failed uninstall removes no node.',
      choices: [
        isPresentString('$$.Execution.Input.mode', 'uninstall', 'Publish KubeEdge Uninstall Failed'),
        isPresentString('$$.Execution.Input.mode', 'rollback', 'Publish Edge Node Rollback Failed'),
      ],
      otherwise: 'Publish Edge Node Removal Failed',
    }),
    'Publish Edge Node Removal Failed': publish({
      comment:
        "The original error and the lock release's outcome; a failed publish still ends with the original error.",
      detailType: 'Edge Node Removal Failed',
      detail: failureDetail,
      catch: [onAnyError('Fail with the original error', null)],
      next: 'Fail with the original error',
    }),
    'Publish Edge Node Rollback Failed': publish({
      comment:
        "The original error and the lock release's outcome; a failed publish still ends with the original error.",
      detailType: 'Edge Node Rollback Failed',
      detail: failureDetail,
      catch: [onAnyError('Fail with the original error', null)],
      next: 'Fail with the original error',
    }),
    'Publish KubeEdge Uninstall Failed': publish({
      comment:
        "The original error and the lock release's outcome; a failed publish still ends with the original error.",
      detailType: 'KubeEdge Uninstall Failed',
      detail: failureDetail,
      catch: [onAnyError('Fail with the original error', null)],
      next: 'Fail with the original error',
    }),
    'Fail with the original error': failWith('$.error'),
  },
});
