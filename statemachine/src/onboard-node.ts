/**
 * onboard-node, the source of `statemachine/onboard-node.asl.json` (`npm run asl` writes it). State names are a
 * contract: the docs, the CLI's progress lines and the tests name them.
 */
import { POLL_DELAY } from '../../functions/shared/backoff';
import {
  type Catcher,
  choice,
  failWith,
  HOST_OFFLINE_RETRIER,
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
  type State,
  startWorkflow,
  waitFor,
  workflow,
} from './states';

/** The join script's setup and preflight checks change nothing on the host; the step names them with this error. */
export const PREFLIGHT_FAILED = 'JoinPreflightFailedError';

/**
 * The send step refuses with these before anything reaches the host (host not reachable, KubeEdge gone, token or
 * settings invalid, keadm flag unsupported), so the rollback must not reset a host this execution never touched.
 */
const NOTHING_SENT = [
  'HostUnreachableError',
  'KubeEdgeNotInstalledError',
  'InvalidJoinTokenError',
  'InvalidJoinSettingsError',
  'UnsupportedKeadmFlagError',
];

/** Before the lock is held: nothing to release, nothing to undo. */
const beforeLock = [onAnyError('Nothing to undo')];
/** Holding the lock, before anything is sent to the host. */
const beforeJoin = [onAnyError('Nothing to roll back')];
/** From the moment the join script may have run on the host (or, on a rerun, on a node joined before). */
const afterJoin = [onAnyError('Did this execution join the node?')];
/** While a person runs the join command: there is no host of ours, at most a node the command registered. */
const duringManualJoin = [onAnyError('Remove the node the manual join registered')];

/** The node's logs/exec routing, added once it is joined. */
const routing = { 'nodeName.$': '$.request.nodeName', 'nodeIp.$': '$.request.nodeIp', action: 'add' };

/**
 * The lock covers the node name, the instance (none for a manual join) and the IP; its holder is this execution. Onboarding's lock also
 * refuses while an uninstall runs, and re-checks under the lock that no other node has the name, IP or instance.
 */
const lockTarget = {
  ...lockFor('onboard'),
  'nodeName.$': '$.request.nodeName',
  'instanceId.$': '$.request.instanceId',
  'nodeIp.$': '$.request.nodeIp',
};

/**
 * Waiting for the node to register and become Ready, after the join script or while a person runs the join command:
 * the timeout counts from `start`; `check` fails once it passes, else says how long to wait before checking again.
 */
function untilNodeReady(spec: {
  readonly start: string;
  readonly check: string;
  readonly ready: string;
  readonly wait: string;
  readonly startComment: string;
  readonly checkComment: string;
  /** what the check receives besides the node, the settings and the attempt */
  readonly payload?: Readonly<Record<string, unknown>>;
  readonly catch: readonly Catcher[];
}): Record<string, State> {
  return {
    [spec.start]: pass({
      comment: spec.startComment,
      result: { attempt: 0, startedAt: null },
      resultPath: '$.readiness',
      next: spec.check,
    }),
    [spec.check]: lambda('CheckNodeReady', {
      comment: spec.checkComment,
      payload: {
        'nodeName.$': '$.request.nodeName',
        'nodeIp.$': '$.request.nodeIp',
        'settings.$': '$.join.settings',
        'startedAt.$': '$.readiness.startedAt',
        'attempt.$': '$.readiness.attempt',
        ...spec.payload,
      },
      keep: ['ready', 'missing', 'waitSeconds', 'startedAt', 'attempt', 'node'],
      resultPath: '$.readiness',
      catch: spec.catch,
      next: spec.ready,
    }),
    [spec.ready]: choice({
      choices: [isTrue('$.readiness.ready', 'Finish the node')],
      otherwise: spec.wait,
    }),
    [spec.wait]: waitFor('$.readiness.waitSeconds', spec.check),
  };
}

export const onboardNode = workflow('onboard-node', {
  comment:
    'Onboard one KubeEdge edge node: validate, lock, render, join over SSM (or wait for a person to run the join command on the device), wait until Ready, keep cloud DaemonSets off it, publish. Any failure after the join starts is rolled back.',
  startAt: 'Validate the request',
  states: {
    'Validate the request': lambda('ValidateOnboardRequest', {
      comment:
        'Name, IP, instance id, version, region and labels; name and IP unused; KubeEdge installed; host online (no host for a manual join). Every problem is reported at once. Resolves the join settings: keadm profile and version, region, download URL, cloudcore public address and ports, taint.',
      // a retried validation must not take this execution's own Leases for another's
      payload: { 'request.$': '$', execution: { 'id.$': '$$.Execution.Id' } },
      // the join settings too: resolved from the ConfigMaps validation reads, so that no later state reads them again
      keep: ['request', 'alreadyJoined', 'join'],
      alsoRetry: [HOST_OFFLINE_RETRIER],
      catch: beforeLock,
      next: 'Lock the node',
    }),
    'Lock the node': lambda('LockNode', {
      comment:
        'One Lease each for the node name, the instance and the IP, all or none, held by this execution: a concurrent operation on any of them fails fast.',
      payload: lockTarget,
      // the Leases and the versions it left them at: the release deletes them at those, without listing first
      selector: { 'keys.$': '$.Payload.keys' },
      resultPath: '$.lock',
      // refused: the step took none of the three Leases (all or none); any other failure may have left some of
      // them, and releasing deletes only this execution's
      catch: [onError(LOCK_REFUSED, 'Nothing to undo'), ...beforeJoin],
      next: 'Dry run?',
    }),
    'Dry run?': choice({
      choices: [isTrue('$.request.dryRun', 'Render the host script')],
      otherwise: 'Already joined?',
    }),
    'Already joined?': choice({
      comment:
        'A rerun of a request that already succeeded must not join twice; it applies the labels and taint of this request to the node.',
      choices: [
        isTrue('$.alreadyJoined', 'Skip the join'),
        isPresentString('$.request.mode', 'manual', 'Start waiting for the manual join'),
      ],
      otherwise: 'Send the join script to the host',
    }),
    'Skip the join': pass({
      comment: 'No readiness check has seen the node: finishing reads it.',
      result: { node: null },
      resultPath: '$.readiness',
      next: 'Finish the node',
    }),

    // A manual join: the caller renders the join command outside the workflow (it holds the join token, which must
    // never enter this execution's history, docs/adr/0009) and shows it to a person, who runs it on the device.
    ...untilNodeReady({
      start: 'Start waiting for the manual join',
      check: 'Check the manual join',
      ready: 'Manual join done?',
      wait: 'Wait for the manual join',
      startComment: 'The manual join timeout counts from here: the node must register and become Ready within it.',
      checkComment:
        'The node the person’s command registers: exists, Ready=True, edge labels, expected InternalIP, taint when asked; fails after the manual join timeout.',
      payload: {
        timeout: 'manualJoin',
        // keeps this execution's Leases fresh through a wait of up to a day
        'executionId.$': '$$.Execution.Id',
      },
      catch: duringManualJoin,
    }),

    // A dry run: show what a join would do, change nothing.
    'Render the host script': lambda('RenderHostScript', {
      comment:
        'A dry run shows the exact script a join would send: preflight, EdgeMesh preparation, keadm join. It holds no secret.',
      payload: { 'settings.$': '$.join.settings' },
      keep: ['script'],
      resultPath: '$.rendered',
      catch: beforeJoin,
      next: 'Plan the DaemonSet exclusions',
    }),
    'Plan the DaemonSet exclusions': lambda('KeepDaemonSetsOffEdge', {
      payload: { dryRun: true },
      keep: ['patched', 'skipped'],
      resultPath: '$.daemonSets',
      catch: beforeJoin,
      next: 'Release the lock after the plan',
    }),
    'Release the lock after the plan': lambda('ReleaseNodeLock', {
      comment: 'A lock whose holder has ended is free for the next operation; the plan is not failed for it.',
      payload: lockTarget,
      catch: [onAnyError('Return the plan', '$.releaseError')],
      next: 'Return the plan',
    }),
    'Return the plan': pass({
      comment: 'A dry run changes nothing and returns what it would do.',
      parameters: {
        dryRun: true,
        'nodeName.$': '$.request.nodeName',
        'settings.$': '$.join.settings',
        'script.$': '$.rendered.script',
        'daemonSetsToPatch.$': '$.daemonSets.patched',
        'daemonSetsSkipped.$': '$.daemonSets.skipped',
      },
      end: true,
    }),

    // The join.
    'Send the join script to the host': lambda('SendJoinScript', {
      comment:
        "Renders the script from the join settings and sends it with SSM Run Command; the join token goes to this execution's SecureString parameter, which the command only names; never returned.",
      payload: {
        'instanceId.$': '$.request.instanceId',
        'nodeName.$': '$.request.nodeName',
        'settings.$': '$.join.settings',
      },
      keep: ['commandId', 'instanceId', 'startedAt', 'attempt', 'waitSeconds'],
      resultPath: '$.command',
      catch: [onError(NOTHING_SENT, 'Note that the preflight changed nothing'), ...afterJoin],
      next: 'Wait for the host script',
    }),
    'Wait for the host script': lambdaCallback('AwaitHostCommand', {
      comment:
        "Ends as soon as SSM reports the command ended: EventBridge hands SSM's status change to ResumeOnCommandEvent, which sends this task's token back. Without that event the wait times out after the polling backoff cap and the check polls; a wait that cannot be set up falls back to polling with backoff.",
      payload: { 'commandId.$': '$.command.commandId', 'instanceId.$': '$.command.instanceId' },
      timeoutSeconds: POLL_DELAY.maxSeconds,
      catch: [
        onError(['States.Timeout'], 'Check the host script', null),
        onAnyError('Pause before checking the host script', null),
      ],
      next: 'Check the host script',
    }),
    'Pause before checking the host script': waitFor('$.command.waitSeconds', 'Check the host script'),
    'Check the host script': lambda('CheckHostCommand', {
      comment:
        'Backoff between checks; a failed script fails with its failing step and stderr tail; a timeout cancels it. The join token parameter is deleted once the command ends.',
      payload: {
        'commandId.$': '$.command.commandId',
        'instanceId.$': '$.command.instanceId',
        'startedAt.$': '$.command.startedAt',
        'attempt.$': '$.command.attempt',
      },
      keep: ['commandId', 'instanceId', 'startedAt', 'attempt', 'waitSeconds', 'status'],
      resultPath: '$.command',
      catch: [onError([PREFLIGHT_FAILED], 'Note that the preflight changed nothing'), ...afterJoin],
      next: 'Host script finished?',
    }),
    'Host script finished?': choice({
      choices: [isString('$.command.status', 'Success', 'Start waiting for the node')],
      otherwise: 'Wait for the host script',
    }),
    ...untilNodeReady({
      start: 'Start waiting for the node',
      check: 'Check node readiness',
      ready: 'Node ready?',
      wait: 'Wait for the node',
      startComment: 'The ready timeout counts from here.',
      checkComment:
        'Watches the node (up to a minute per check, one API request) until it exists, Ready=True, edge labels, expected InternalIP, taint when asked; fails after the ready timeout.',
      catch: afterJoin,
    }),
    'Finish the node': lambda('FinishNode', {
      comment:
        "Mark the node as managed by edgekeeper (instance id, versions, operation); apply the request's labels and taint declaratively, so a rerun converges the node to it.",
      payload: {
        'nodeName.$': '$.request.nodeName',
        'instanceId.$': '$.request.instanceId',
        'settings.$': '$.join.settings',
        // the node as the readiness check last saw it: the patch is built from it, not from another read
        'seen.$': '$.readiness.node',
      },
      catch: afterJoin,
      next: 'Route logs and exec to the node',
    }),
    'Route logs and exec to the node': lambda('RouteNodeStreams', {
      comment:
        "Off by default. On every cloud host (SSM, by tag), DNAT the node's kubelet ports 10350/10250 to cloudcore's stream server so kubectl logs/exec reach edge pods.",
      payload: { ...routing, 'cloudcore.$': '$.join.settings.cloudcore', wait: false },
      selector: ROUTING_TURN,
      resultPath: '$.routing',
      catch: afterJoin,
      next: 'Routing done?',
    }),
    'Routing done?': choice({
      choices: [isString('$.routing.status', 'Done', 'Keep cloud DaemonSets off edge nodes')],
      otherwise: 'Wait for the routing',
    }),
    'Wait for the routing': waitFor('$.routing.result.waitSeconds', 'Check the routing'),
    'Check the routing': lambda('RouteNodeStreams', {
      comment: 'Every tagged cloud host must apply the rules within the routing timeout.',
      payload: { ...routing, 'command.$': '$.routing.result.command' },
      selector: ROUTING_TURN,
      resultPath: '$.routing',
      catch: afterJoin,
      next: 'Routing done?',
    }),
    'Keep cloud DaemonSets off edge nodes': lambda('KeepDaemonSetsOffEdge', {
      comment:
        'Add node-role.kubernetes.io/edge DoesNotExist to every cloud DaemonSet that could land on edge nodes, once each.',
      payload: { dryRun: false },
      keep: ['patched', 'skipped'],
      resultPath: '$.daemonSets',
      catch: afterJoin,
      next: 'Release the lock',
    }),
    'Release the lock': lambda('ReleaseNodeLock', {
      comment: 'A lock whose holder has ended is free for the next operation; the finished work is not failed for it.',
      payload: { ...lockTarget, 'taken.$': '$.lock.keys' },
      catch: [onAnyError('Publish Edge Node Joined', '$.releaseError')],
      next: 'Publish Edge Node Joined',
    }),
    'Publish Edge Node Joined': publish({
      comment: 'The node is joined whether or not the event goes out: a publishing failure does not fail the join.',
      detailType: 'Edge Node Joined',
      detail: {
        'nodeName.$': '$.request.nodeName',
        'nodeIp.$': '$.request.nodeIp',
        'instanceId.$': '$.request.instanceId',
      },
      catch: [onAnyError('Report the joined node', '$.publishError')],
      next: 'Report the joined node',
    }),
    'Report the joined node': pass({
      parameters: {
        'nodeName.$': '$.request.nodeName',
        'nodeIp.$': '$.request.nodeIp',
        'instanceId.$': '$.request.instanceId',
        'alreadyJoined.$': '$.alreadyJoined',
        'daemonSets.$': '$.daemonSets',
      },
      end: true,
    }),

    // Failure: undo what this execution did, release its lock, say what happened, fail with the original error.
    'Nothing to undo': pass({
      comment: 'The request failed before this execution held the lock: nothing was changed, nothing is held.',
      result: { rollback: { result: 'not-needed' }, lock: { result: 'not-held' } },
      resultPath: '$.undo',
      next: 'Publish Edge Node Join Failed',
    }),
    'Nothing to roll back': pass({
      comment: 'Nothing was sent to the host yet: only the lock is to release.',
      result: { result: 'not-needed' },
      resultPath: '$.undo.rollback',
      next: 'Release the lock after failure',
    }),
    'Did this execution join the node?': choice({
      comment:
        'A rerun of a finished join must not undo the node it found: only its own join is rolled back. A manual join has no host to reset.',
      choices: [
        isTrue('$.alreadyJoined', 'Nothing to roll back'),
        isPresentString('$.request.mode', 'manual', 'Remove the node the manual join registered'),
      ],
      otherwise: 'Note that the host may have changed',
    }),
    'Note that the preflight changed nothing': pass({
      comment: "The join script's setup and preflight checks only read the host: the rollback must not reset it.",
      // an object, not a bare false: some engines take a falsy Result for no Result at all
      result: { changed: false },
      resultPath: '$.host',
      next: 'Hand the lock to the rollback',
    }),
    'Note that the host may have changed': pass({
      result: { changed: true },
      resultPath: '$.host',
      next: 'Hand the lock to the rollback',
    }),
    'Hand the lock to the rollback': lambda('ReleaseNodeLock', {
      comment:
        'Marks this execution’s Leases for its rollback child by name: only that child may work under them, not any execution named like it. A failure here lets the rollback try anyway; it then reports the lock.',
      payload: { ...lockTarget, handOver: true },
      selector: { 'result.$': '$.Payload.lock' },
      resultPath: '$.undo.handOver',
      catch: [onAnyError('Roll back the join', '$.undo.handOver')],
      next: 'Roll back the join',
    }),
    'Roll back the join': startWorkflow({
      comment:
        'remove-node in rollback mode, as a child named after this execution: it adopts this execution’s lock and undoes whatever the join left on the host and in the cluster.',
      workflow: 'remove-node',
      name: "States.Format('{}-rollback', $$.Execution.Name)",
      input: {
        mode: 'rollback',
        'nodeName.$': '$.request.nodeName',
        'instanceId.$': '$.request.instanceId',
        'nodeIp.$': '$.request.nodeIp',
        force: true,
        'hostChanged.$': '$.host.changed',
      },
      resultSelector: { result: 'done', 'output.$': '$.Output' },
      resultPath: '$.undo.rollback',
      catch: [onAnyError('Did the rollback reset the host?', '$.undo.rollback')],
      next: 'Did the rollback reset the host?',
    }),
    'Did the rollback reset the host?': choice({
      comment:
        'The Leases record which instance and IP this node name owns. Released only when the host is as before; otherwise they stay (free, their holder having ended) so that a plain remove of this name finds and resets the host, and no other name can take it meanwhile.',
      choices: [
        { Variable: '$.host.changed', BooleanEquals: false, Next: 'Release the lock after failure' },
        isPresentString('$.undo.rollback.output.host.action', 'reset', 'Release the lock after failure'),
      ],
      otherwise: 'Keep the ownership record',
    }),
    'Keep the ownership record': pass({
      comment: 'The host may still run what the join left (it was offline, or the rollback failed).',
      result: {
        result: 'kept',
        reason: 'the host may still be joined: remove this node name to reset it, which then releases the Leases',
      },
      resultPath: '$.undo.lock',
      next: 'Publish Edge Node Join Failed',
    }),
    'Remove the node the manual join registered': lambda('DeleteNode', {
      comment:
        'A failed or timed-out manual join leaves nothing in the cluster: the node is deleted if it registered with this request’s name and IP (validation saw no node of that name, and the lock kept others off it). No host is reset: edgekeeper cannot reach the device.',
      payload: { 'nodeName.$': '$.request.nodeName', 'onlyWithInternalIp.$': '$.request.nodeIp' },
      selector: { 'result.$': '$.Payload.outcome.result', 'detail.$': '$.Payload.outcome.detail' },
      resultPath: '$.undo.rollback',
      catch: [onAnyError('Release the lock after failure', '$.undo.rollback')],
      next: 'Release the lock after failure',
    }),
    'Release the lock after failure': lambda('ReleaseNodeLock', {
      payload: lockTarget,
      selector: { 'result.$': '$.Payload.lock' },
      resultPath: '$.undo.lock',
      catch: [onAnyError('Publish Edge Node Join Failed', '$.undo.lock')],
      next: 'Publish Edge Node Join Failed',
    }),
    'Publish Edge Node Join Failed': publish({
      comment:
        "The original error, the rollback's outcome and the lock release's outcome; a failed publish still ends with the original error.",
      detailType: 'Edge Node Join Failed',
      detail: {
        'request.$': '$$.Execution.Input',
        'error.$': '$.error.Error',
        'cause.$': '$.error.Cause',
        'rollback.$': '$.undo.rollback',
        'lock.$': '$.undo.lock',
      },
      catch: [onAnyError('Fail with the original error', null)],
      next: 'Fail with the original error',
    }),
    'Fail with the original error': failWith('$.error'),
  },
});
