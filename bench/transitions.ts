/**
 * Budget 3 of issue 14: Step Functions state transitions per successful onboarding, and what 1,000 onboardings
 * cost, on a fixed simulated timeline: the host command ends 60 s after it is sent, the node is Ready 45 s later.
 *
 * Nothing here counts by hand. The real onboard-node ASL runs in the local runtime (runWorkflow) with every Lambda
 * step replaced by a stand-in on a simulated clock; every state entered (Task, Pass, Choice, Wait) and every retry
 * counts, as Step Functions bills them. The stand-ins of the waiting steps run the steps' own decision logic
 * (CheckHostCommand's checkHostCommand, CheckNodeReady's checkReadiness, AwaitHostCommand's awaitHostCommand,
 * ResumeOnCommandEvent's resumeOnCommandEvent, which completes the task through the runtime's Step Functions
 * endpoint) against a command and a node that follow the timeline. Wait states and the callback's timeout move the
 * clock by what the ASL says; the runtime's real pauses are compressed to milliseconds.
 *
 * The design that polls every 5 s is the workflow before this issue (its ASL read from git at POLLING_COMMIT: a
 * Wait state before each host-command check, a read of the node per readiness check) with every wait 5 s, run in
 * the same engine the runtime uses (aws-local-stepfunctions) with the same stand-ins.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { awaitHostCommand } from '../functions/await-host-command/core';
import { checkHostCommand } from '../functions/check-host-command/core';
import { checkReadiness, type NodeSource, type NodeView } from '../functions/check-node-ready/core';
import type { StepName } from '../functions/registry';
import { COMMAND_EVENT, resumeOnCommandEvent } from '../functions/resume-on-command-event/core';
import { nextPollDelay } from '../functions/shared/backoff';
import type { CommandWaits } from '../functions/shared/command-waits';
import { EDGE_ROLE_LABELS, EDGE_TAINT } from '../functions/shared/domain';
import { readSettings } from '../functions/shared/settings';
import { stepFunctionsTaskCallbacks } from '../functions/shared/task-callbacks';
import { fillSettings, readAslFile, substitute } from '../lib/asl';
import { parseConfig } from '../lib/config';
import { STEP_MEMORY_MB } from '../lib/constructs/step-sizing';
import { localSubstitutions, runWorkflow, type StepHandler } from '../local/runtime';
import { atMost, type Budget } from './budget';
import type { OnboardingBench } from './onboarding';
import type { DocSection } from './performance-doc';

/** The simulated timeline, in seconds. */
export const TIMELINE = { hostCommandSeconds: 60, readyAfterSeconds: 45 } as const;
export const TRANSITIONS_BUDGET = 25;
/** The last commit whose onboard-node polled both the host command and the node: the polling design's ASL. */
export const POLLING_COMMIT = '32c57c54d5e6ffb11bd93271808b8fa1fcd99dee';
/** Step Functions standard workflows: $0.025 per 1,000 state transitions. */
const USD_PER_TRANSITION = 0.025 / 1000;
/** Lambda duration, per GB-second, by architecture. */
const USD_PER_GB_SECOND = { x86_64: 0.0000166667, arm64: 0.0000133334 } as const;
/** A handler's own time per invocation when the onboarding section did not run to measure it. */
const ASSUMED_HANDLER_MS = 100;
const REPO_ROOT = join(__dirname, '..');

/** One way of waiting, run once on the timeline. */
interface Design {
  readonly name: string;
  /** `current`: statemachine/onboard-node.asl.json in the local runtime; `polling`: the ASL of POLLING_COMMIT */
  readonly asl: 'current' | 'polling';
  /** CheckNodeReady watches the node (current) or reads it once per check */
  readonly watch: boolean;
  /** every wait this long instead of the backoff */
  readonly pollSeconds?: number;
  /** whether SSM's status-change event reaches ResumeOnCommandEvent */
  readonly events: boolean;
}

const DESIGNS: readonly Design[] = [
  { name: 'events', asl: 'current', watch: true, events: true },
  { name: 'event lost (the fallback polls)', asl: 'current', watch: true, events: false },
  { name: 'polls every 5 s', asl: 'polling', watch: false, pollSeconds: 5, events: false },
  { name: 'before issue 14 (polls with backoff 2, 4, 8, 16, 30 s)', asl: 'polling', watch: false, events: false },
];

export interface DesignRun {
  readonly design: string;
  readonly asl: string;
  readonly status: string;
  /** states entered plus retries: what Step Functions bills */
  readonly transitions: number;
  readonly retries: number;
  /** states entered, by name, in the order first entered */
  readonly byState: Record<string, number>;
  /** the simulated time at which the onboarding succeeded */
  readonly simulatedSeconds: number;
  readonly lambda: {
    readonly invocations: number;
    readonly gbSeconds: number;
    /** per step: invocations and billed seconds (simulated time inside the handler plus its measured time) */
    readonly bySteps: Record<string, { readonly invocations: number; readonly seconds: number }>;
  };
  readonly costPer1000Usd: { readonly transitions: number; readonly lambda: number; readonly total: number };
}

export interface TransitionsBench {
  readonly timeline: typeof TIMELINE;
  /** what the stack deploys: the construct's memory and the CDK context's architecture (cdk.json) */
  readonly lambda: {
    readonly memoryMb: number;
    readonly architecture: 'arm64' | 'x86_64';
    readonly usdPerGbSecond: number;
  };
  readonly handlerTimes: {
    readonly source: string;
    readonly msByStep: Record<string, number>;
    readonly defaultMs: number;
  };
  readonly transitionsPerOnboarding: number | null;
  readonly runs: readonly DesignRun[];
  readonly error: string | null;
}

export async function benchTransitions(
  options: { onboarding?: OnboardingBench | null } = {},
): Promise<TransitionsBench> {
  const context = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context?: { edgekeeper?: unknown };
  };
  const architecture = parseConfig(context.context?.edgekeeper).lambda.architecture;
  const lambda = { memoryMb: STEP_MEMORY_MB, architecture, usdPerGbSecond: USD_PER_GB_SECOND[architecture] };
  const handlerTimes = measuredHandlerTimes(options.onboarding ?? null);
  const runs: DesignRun[] = [];
  try {
    for (const design of DESIGNS) runs.push(await simulate(design, lambda, handlerTimes));
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    return { timeline: TIMELINE, lambda, handlerTimes, transitionsPerOnboarding: null, runs, error: message };
  }
  const events = runs[0];
  return {
    timeline: TIMELINE,
    lambda,
    handlerTimes,
    transitionsPerOnboarding: events.status === 'SUCCEEDED' ? events.transitions : null,
    runs,
    error: null,
  };
}

export function transitionsBudgets(bench: TransitionsBench): Budget[] {
  const of = (name: string) => bench.runs.find((run) => run.design === name);
  const polling = of('polls every 5 s');
  const lost = of('event lost (the fallback polls)');
  return [
    atMost(
      'transitions.perOnboarding',
      'state transitions per successful onboarding (host command 60 s, Ready 45 s later)',
      bench.transitionsPerOnboarding ?? Number.NaN,
      TRANSITIONS_BUDGET,
      'transitions',
      `event lost: ${lost?.transitions ?? '—'}; polling every 5 s: ${polling?.transitions ?? '—'}`,
    ),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// The simulation

/** The onboarding every design runs. */
const REQUEST = { nodeName: 'edge-sim', nodeIp: '10.20.0.11', instanceId: 'mi-0123456789abcdef0' };
/** A step of the pinned pre-change workflow that issue 14 folded into validation. */
const RETIRED_STEP = 'ResolveJoinSettings';

const JOIN_SETTINGS = {
  nodeName: REQUEST.nodeName,
  nodeIp: REQUEST.nodeIp,
  profile: 'fork',
  version: 'v1.6.2',
  region: 'zh',
  downloadUrl: 'https://kubeedge.pek3b.qingstor.com/bin/v1.6.2/$arch/keadm-v1.6.2-linux-$arch.tar.gz',
  cloudcore: {
    address: '203.0.113.10',
    ports: { cloudhub: 10000, quic: 10001, https: 10002, stream: 10003, tunnel: 10004 },
  },
  taint: true,
  labels: {},
} as const;
/** Simulated second 0, as a date. */
const EPOCH_MS = Date.parse('2026-01-01T00:00:00.000Z');

/** One invocation of a Lambda the simulation saw. */
interface Invocation {
  readonly step: string;
  /** simulated second it started */
  readonly at: number;
  /** how far the clock moved during it (a watch, a callback's wait) */
  readonly advance: number;
  /** of that, the time the Lambda itself ran (a watch runs in the Lambda, a callback's wait does not) */
  readonly lambdaSeconds: number;
}

/** The simulated world: its clock, the host command and the node. */
class Timeline {
  seconds = 0;
  commandEndsAt: number | null = null;
  readonly invocations: Invocation[] = [];

  epochMs(): number {
    return EPOCH_MS + this.seconds * 1000;
  }

  iso(): string {
    return new Date(this.epochMs()).toISOString();
  }

  commandStatus(): string {
    return this.commandEndsAt !== null && this.seconds >= this.commandEndsAt ? 'Success' : 'InProgress';
  }

  /** When the node changes: it registers (NotReady) as the host command ends, and is Ready 45 s later. */
  nodeChanges(): number[] {
    return this.commandEndsAt === null ? [] : [this.commandEndsAt, this.commandEndsAt + TIMELINE.readyAfterSeconds];
  }

  node(): NodeView | null {
    const [registers, ready] = this.nodeChanges();
    if (registers === undefined || this.seconds < registers) return null;
    return {
      metadata: { name: REQUEST.nodeName, labels: Object.fromEntries(EDGE_ROLE_LABELS.map((label) => [label, ''])) },
      spec: { taints: [{ key: EDGE_TAINT.key, effect: EDGE_TAINT.effect }] },
      status: {
        conditions: [{ type: 'Ready', status: this.seconds >= ready ? 'True' : 'False' }],
        addresses: [{ type: 'InternalIP', address: REQUEST.nodeIp }],
      },
    };
  }
}

/** Lets the event stream catch up (a Wait state entered moves the clock) before a stand-in reads the clock. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Where the wait for the host script's callback is (its TimeoutSeconds), when the ASL has one. */
function callbackTimeoutSeconds(definition: StateMachineDefinition): number | null {
  for (const state of Object.values(definition.States) as unknown as Record<string, unknown>[]) {
    if (state.Type === 'Task' && String(state.Resource).endsWith('.waitForTaskToken')) {
      return Number(state.TimeoutSeconds);
    }
  }
  return null;
}

/** The stand-ins of every step an onboarding runs, on the simulated timeline. */
function standIns(
  design: Design,
  world: Timeline,
  callbackTimeout: number | null,
): Partial<Record<StepName, StepHandler>> {
  const waits = memoryWaits();
  const settings = readSettings();
  const record =
    (step: string, run: (input: Record<string, unknown>) => Promise<unknown> | unknown, inLambda = true) =>
    async (event: unknown) => {
      await settle();
      const at = world.seconds;
      const result = await run(event as Record<string, unknown>);
      const advance = world.seconds - at;
      world.invocations.push({ step, at, advance, lambdaSeconds: inLambda ? advance : 0 });
      return result;
    };
  const pollWait = (seconds: number) => design.pollSeconds ?? seconds;
  return {
    ValidateOnboardRequest: record('ValidateOnboardRequest', (input) => ({
      request: { ...(input.request as object), mode: 'ssm', taint: true, labels: {}, dryRun: false },
      alreadyJoined: false,
      adopting: false,
      join: { settings: JOIN_SETTINGS },
    })),
    LockNode: record('LockNode', () => ({ lock: 'acquired', keys: [] })),
    SendJoinScript: record('SendJoinScript', () => {
      world.commandEndsAt = world.seconds + TIMELINE.hostCommandSeconds;
      return {
        commandId: 'sim-command',
        instanceId: REQUEST.instanceId,
        startedAt: world.iso(),
        attempt: 0,
        waitSeconds: pollWait(nextPollDelay(0)),
      };
    }),
    AwaitHostCommand: record(
      'AwaitHostCommand',
      async (input) => {
        const callbacks = stepFunctionsTaskCallbacks(readSettings());
        const timeout = callbackTimeout ?? 0;
        const request = input as unknown as Parameters<typeof awaitHostCommand>[1];
        const outcome = await awaitHostCommand(
          { waits, readInvocationStatus: async () => world.commandStatus(), callbacks },
          request,
          { now: new Date(world.epochMs()), waitSeconds: timeout },
        );
        if (outcome.outcome !== 'waiting') return outcome;
        const endsAt = world.commandEndsAt ?? Number.POSITIVE_INFINITY;
        if (design.events && endsAt <= world.seconds + timeout) {
          // SSM's event, through EventBridge to ResumeOnCommandEvent (a Lambda of its own), as the command ends
          world.seconds = endsAt;
          await record('ResumeOnCommandEvent', () =>
            resumeOnCommandEvent({ waits, callbacks }, commandEvent(world.commandStatus())),
          )({});
        } else {
          world.seconds += timeout;
        }
        return outcome;
      },
      false,
    ),
    // the pinned pre-change workflow still calls it; validation resolves the settings since
    ...({
      [RETIRED_STEP]: record(RETIRED_STEP, () => ({ settings: JOIN_SETTINGS })),
    } as unknown as Partial<Record<StepName, StepHandler>>),
    CheckHostCommand: record('CheckHostCommand', async (input) => {
      const check = await checkHostCommand(
        {
          readInvocation: async () => ({ status: world.commandStatus(), responseCode: 0, stdout: '', stderr: '' }),
          cancelCommand: async () => undefined,
        },
        {
          commandId: String(input.commandId),
          instanceId: String(input.instanceId),
          startedAt: String(input.startedAt),
          attempt: Number(input.attempt),
          script: 'join',
        },
        { nowMs: world.epochMs(), timeoutSeconds: settings.hostCommandTimeoutSeconds },
      );
      return check.status === 'InProgress' ? { ...check, waitSeconds: pollWait(check.waitSeconds) } : check;
    }),
    CheckNodeReady: record('CheckNodeReady', async (input) => {
      const since = (input.startedAt as string | null) ?? world.iso();
      const decision = await checkReadiness(
        simulatedNode(world),
        { ...JOIN_SETTINGS, nodeName: REQUEST.nodeName, nodeIp: REQUEST.nodeIp },
        {
          attempt: Number(input.attempt),
          deadlineMs: Date.parse(since) + settings.nodeReadyTimeoutSeconds * 1000,
          watch: design.watch,
        },
        () => world.epochMs(),
      );
      return {
        ready: decision.done,
        missing: decision.done ? [] : decision.missing,
        waitSeconds: decision.done ? 0 : pollWait(decision.waitSeconds),
        startedAt: since,
        attempt: Number(input.attempt) + 1,
        node: null,
      };
    }),
    FinishNode: record('FinishNode', () => ({
      nodeName: REQUEST.nodeName,
      patched: true,
      labelsSet: [],
      labelsRemoved: [],
      taint: 'unchanged',
    })),
    // routing is off by default: the step says so at once
    RouteNodeStreams: record('RouteNodeStreams', () => ({
      status: 'Done',
      outcome: { step: 'routing', result: 'skipped', detail: 'logs/exec routing is off' },
    })),
    KeepDaemonSetsOffEdge: record('KeepDaemonSetsOffEdge', () => ({ patched: [], skipped: [] })),
    ReleaseNodeLock: record('ReleaseNodeLock', () => ({ lock: 'released', released: [] })),
  };
}

/** The node as a watch or a read sees it on the timeline; a watch moves the clock to what it saw last. */
function simulatedNode(world: Timeline): NodeSource {
  return {
    read: async () => world.node(),
    watch: async (seconds, done) => {
      const end = world.seconds + seconds;
      let seen = world.node();
      if (done(seen)) return seen;
      for (const at of world.nodeChanges().filter((t) => t > world.seconds && t <= end)) {
        world.seconds = at;
        seen = world.node();
        if (done(seen)) return seen;
      }
      world.seconds = end;
      return seen;
    },
  };
}

/** SSM's status-change event as EventBridge delivers it (functions/resume-on-command-event). */
function commandEvent(status: string) {
  return {
    source: COMMAND_EVENT.source,
    'detail-type': COMMAND_EVENT.detailType,
    detail: { 'command-id': 'sim-command', 'instance-id': REQUEST.instanceId, status },
  };
}

/** The table of waits, in memory: put replaces, take removes and returns (atomic in one process). */
function memoryWaits(): CommandWaits {
  const tokens = new Map<string, string>();
  return {
    put: async (wait) => {
      tokens.set(`${wait.commandId}/${wait.instanceId}`, wait.taskToken);
    },
    take: async (commandId, instanceId) => {
      const key = `${commandId}/${instanceId}`;
      const token = tokens.get(key) ?? null;
      tokens.delete(key);
      return token;
    },
  };
}

/** A state entered or retried, as both engines report it. */
interface SeenEvent {
  readonly type: string;
  readonly execution: string;
  readonly state?: string;
  readonly stateType?: string;
  readonly input?: unknown;
}

async function simulate(
  design: Design,
  lambda: TransitionsBench['lambda'],
  handlerTimes: TransitionsBench['handlerTimes'],
): Promise<DesignRun> {
  const text =
    design.asl === 'current'
      ? readAslFile('onboard-node').text
      : execFileSync('git', ['show', `${POLLING_COMMIT}:statemachine/onboard-node.asl.json`], {
          cwd: REPO_ROOT,
          encoding: 'utf8',
        });
  const definition = JSON.parse(text) as StateMachineDefinition;
  const world = new Timeline();
  const handlers = standIns(design, world, callbackTimeoutSeconds(definition));
  const events: SeenEvent[] = [];
  const onEvent = (event: SeenEvent) => {
    events.push(event);
    // a Wait state moves the clock by what it waits (compressed to a millisecond for real)
    if (event.type === 'StateEntered' && event.stateType === 'Wait' && event.state) {
      world.seconds += waitSeconds(definition, event.state, event.input);
    }
  };
  const status =
    design.asl === 'current'
      ? await runCurrent(design, handlers, onEvent)
      : await runDefinition(text, executionName(design), handlers, onEvent);
  const root = events.filter((event) => event.execution === executionName(design));
  checkClock(root, definition, world);
  const byState: Record<string, number> = {};
  for (const event of root) {
    if (event.type === 'StateEntered' && event.state) byState[event.state] = (byState[event.state] ?? 0) + 1;
  }
  const retries = root.filter((event) => event.type === 'StateRetried').length;
  const transitions = Object.values(byState).reduce((sum, n) => sum + n, 0) + retries;
  const bySteps: Record<string, { invocations: number; seconds: number }> = {};
  let gbSeconds = 0;
  for (const call of world.invocations) {
    const ms = handlerTimes.msByStep[call.step] ?? handlerTimes.defaultMs;
    // Lambda bills each invocation's duration rounded up to the millisecond
    const seconds = Math.ceil(call.lambdaSeconds * 1000 + ms) / 1000;
    const entry = bySteps[call.step] ?? { invocations: 0, seconds: 0 };
    bySteps[call.step] = { invocations: entry.invocations + 1, seconds: entry.seconds + seconds };
    gbSeconds += seconds * (lambda.memoryMb / 1024);
  }
  const transitionsUsd = transitions * USD_PER_TRANSITION * 1000;
  const lambdaUsd = gbSeconds * lambda.usdPerGbSecond * 1000;
  return {
    design: design.name,
    asl:
      design.asl === 'current'
        ? 'statemachine/onboard-node.asl.json'
        : `git ${POLLING_COMMIT.slice(0, 7)}:statemachine/onboard-node.asl.json`,
    status,
    transitions,
    retries,
    byState,
    simulatedSeconds: world.seconds,
    lambda: { invocations: world.invocations.length, gbSeconds, bySteps },
    costPer1000Usd: { transitions: transitionsUsd, lambda: lambdaUsd, total: transitionsUsd + lambdaUsd },
  };
}

function executionName(design: Design): string {
  return `transitions-${design.asl}-${design.pollSeconds ?? 'backoff'}-${design.events ? 'events' : 'no-events'}`;
}

/** The current ASL in the local runtime, as `edgekeeper onboard` runs it, with compressed pauses. */
async function runCurrent(
  design: Design,
  handlers: Partial<Record<StepName, StepHandler>>,
  onEvent: (event: SeenEvent) => void,
): Promise<string> {
  const executionsDir = mkdtempSync(join(tmpdir(), 'edgekeeper-transitions-'));
  try {
    const result = await runWorkflow({
      workflow: 'onboard-node',
      input: REQUEST,
      executionName: executionName(design),
      executionsDir,
      waits: 'compressed',
      compressedWaitMs: 1,
      // a callback that comes, comes during the stand-in's invocation; one that does not is a timeout
      compressedCallbackTimeoutMs: 20,
      handlers,
      onEvent,
      // what the local runtime's Step Functions endpoint expects of an SDK client (nothing leaves the machine)
      environment: { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' },
    });
    if (result.status !== 'SUCCEEDED') throw new Error(`${design.name}: ${result.status} ${result.error?.message}`);
    return result.status;
  } finally {
    rmSync(executionsDir, { recursive: true, force: true });
  }
}

/**
 * An ASL that is not the checked-out one, in the engine the local runtime uses, with its Lambda tasks served by the
 * stand-ins (Lambda's payload shape) and its pauses compressed to a millisecond.
 */
async function runDefinition(
  text: string,
  name: string,
  handlers: Partial<Record<StepName, StepHandler>>,
  onEvent: (event: SeenEvent) => void,
): Promise<string> {
  // a step the registry no longer has gets the ARN it would have had, served by its stand-in
  const retiredArn = localSubstitutions(
    `\${ValidateOnboardRequestFunctionArn}`,
  ).ValidateOnboardRequestFunctionArn.replace('ValidateOnboardRequest', RETIRED_STEP);
  const filled = fillSettings(text.replaceAll(`\${${RETIRED_STEP}FunctionArn}`, retiredArn), readSettings());
  const definition = JSON.parse(substitute(filled, localSubstitutions(filled))) as StateMachineDefinition;
  const states = Object.entries(definition.States) as unknown as [string, Record<string, unknown>][];
  const serve = (resource: string) => async (input: Record<string, unknown>) => {
    if (resource === 'arn:aws:states:::events:putEvents') return { FailedEntryCount: 0, Entries: [] };
    const step = String(input.FunctionName).split(':').pop()?.replace('edgekeeper-', '') as StepName;
    const handler = handlers[step];
    if (!resource.startsWith('arn:aws:states:::lambda:invoke') || !handler) {
      throw new Error(`the simulation does not serve ${resource} ${step}`);
    }
    return { StatusCode: 200, Payload: JSON.parse(JSON.stringify((await handler(input.Payload)) ?? null)) };
  };
  const machine = new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } });
  const execution = machine.run(REQUEST, {
    overrides: {
      taskResourceLocalHandlers: Object.fromEntries(
        states.filter(([, state]) => state.Type === 'Task').map(([n, state]) => [n, serve(String(state.Resource))]),
      ) as never,
      waitTimeOverrides: Object.fromEntries(states.filter(([, s]) => s.Type === 'Wait').map(([n]) => [n, 1])),
    },
    context: {
      Execution: { Id: `local:${name}`, Name: name, Input: REQUEST, StartTime: new Date(EPOCH_MS).toISOString() },
    },
  });
  const streaming = (async () => {
    for await (const raw of execution.eventLogs) {
      const event = raw as { type: string; state?: { name: string; type: string; input?: unknown } };
      onEvent({
        type: event.type,
        execution: name,
        state: event.state?.name,
        stateType: event.state?.type,
        input: event.state?.input,
      });
    }
  })();
  try {
    await execution.result;
  } finally {
    await streaming;
  }
  return 'SUCCEEDED';
}

/** How long a Wait state waits: its Seconds, or the number at its SecondsPath in its input. */
function waitSeconds(definition: StateMachineDefinition, state: string, input: unknown): number {
  const spec = definition.States[state] as unknown as { Seconds?: number; SecondsPath?: string };
  if (typeof spec.Seconds === 'number') return spec.Seconds;
  let value: unknown = input;
  for (const key of String(spec.SecondsPath)
    .replace(/^\$\.?/, '')
    .split('.')
    .filter(Boolean)) {
    value = (value as Record<string, unknown> | null)?.[key];
  }
  if (typeof value !== 'number') throw new Error(`Wait state "${state}": no seconds at ${spec.SecondsPath}`);
  return value;
}

/**
 * The stand-ins read the clock as the event stream moved it; a stand-in that ran before its Wait state's event
 * arrived would have read a stale clock and the count would be of another timeline. Replays the events: each Lambda
 * task must have started when the Wait states before it and the tasks' own advances say.
 */
function checkClock(events: readonly SeenEvent[], definition: StateMachineDefinition, world: Timeline): void {
  const calls = world.invocations.filter((call) => call.step !== 'ResumeOnCommandEvent');
  let at = 0;
  let next = 0;
  for (const event of events) {
    if (event.type !== 'StateEntered' || !event.state) continue;
    if (event.stateType === 'Wait') at += waitSeconds(definition, event.state, event.input);
    const spec = definition.States[event.state] as unknown as { Resource?: string };
    if (event.stateType !== 'Task' || !String(spec.Resource).startsWith('arn:aws:states:::lambda:invoke')) continue;
    const call = calls[next++];
    if (!call || call.at !== at) {
      const trail = events
        .filter((e) => e.type === 'StateEntered' || e.type === 'StateRetried')
        .map((e) => `${e.type === 'StateRetried' ? 'retry ' : ''}${e.state}`);
      throw new Error(
        `simulated clock out of step at "${event.state}": ${call?.at ?? 'no call'} s, expected ${at} s (${trail.join(' → ')}; ${JSON.stringify(world.invocations)})`,
      );
    }
    at += call.advance;
  }
}

/**
 * Each step's own time per invocation: the median, over the onboarding section's real-wait onboardings on the
 * sandbox, of its Task state's time per visit. The steps that wait (CheckNodeReady's watch, the host command's
 * callback) are timed there by how long the sandbox took, not by their own work: they, and steps the section did not
 * time, get the median of the others.
 */
function measuredHandlerTimes(onboarding: OnboardingBench | null): TransitionsBench['handlerTimes'] {
  const definition = JSON.parse(readAslFile('onboard-node').text) as StateMachineDefinition;
  const stepOf = (state: string): string | null => {
    const spec = definition.States[state] as unknown as
      | { Resource?: string; Parameters?: { FunctionName?: string } }
      | undefined;
    if (spec?.Resource !== 'arn:aws:states:::lambda:invoke') return null;
    return /^\$\{(\w+)FunctionArn\}$/.exec(spec.Parameters?.FunctionName ?? '')?.[1] ?? null;
  };
  const samples = new Map<string, number[]>();
  for (const run of onboarding?.worker.onboardings ?? []) {
    if (run.waits !== 'real' || run.status !== 'SUCCEEDED') continue;
    for (const state of run.states) {
      const step = stepOf(state.state);
      if (!step || step === 'CheckNodeReady' || state.visits === 0) continue;
      samples.set(step, [...(samples.get(step) ?? []), state.totalMs / state.visits]);
    }
  }
  const msByStep = Object.fromEntries([...samples].map(([step, values]) => [step, median(values)]));
  const measured = Object.values(msByStep);
  if (measured.length === 0) {
    return {
      source: `assumed ${ASSUMED_HANDLER_MS} ms per invocation (the onboarding section did not run)`,
      msByStep: {},
      defaultMs: ASSUMED_HANDLER_MS,
    };
  }
  return {
    source:
      'median per visit of each Task state in the onboarding section’s real-wait round (sandbox, warm after the first)',
    msByStep,
    defaultMs: median(measured),
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

// ---------------------------------------------------------------------------------------------------------------
// Reports

const usd = (value: number) => `$${value.toFixed(4)}`;

export function formatTransitions(bench: TransitionsBench): string {
  const lines = [
    '',
    `State transitions per onboarding (simulated: host command ${TIMELINE.hostCommandSeconds} s, Ready ${TIMELINE.readyAfterSeconds} s later)`,
    `  Lambda ${bench.lambda.memoryMb} MB ${bench.lambda.architecture} at $${bench.lambda.usdPerGbSecond}/GB-s; handler times: ${bench.handlerTimes.source}`,
  ];
  for (const run of bench.runs) {
    lines.push(
      `  ${run.design.padEnd(55)} ${String(run.transitions).padStart(3)} transitions, ${run.lambda.invocations} invocations, ` +
        `${run.lambda.gbSeconds.toFixed(1)} GB-s; per 1,000 onboardings ${usd(run.costPer1000Usd.total)} ` +
        `(${usd(run.costPer1000Usd.transitions)} transitions + ${usd(run.costPer1000Usd.lambda)} Lambda)`,
    );
  }
  if (bench.error) lines.push(`  error: ${bench.error}`);
  return `${lines.join('\n')}\n`;
}

/** The comparison for docs/performance.md. */
export function transitionsDocSection(bench: TransitionsBench): DocSection {
  return {
    heading: 'State transitions and cost per onboarding',
    lines: [
      `Simulated timeline: the host command ends ${TIMELINE.hostCommandSeconds} s after it is sent, the node is Ready ${TIMELINE.readyAfterSeconds} s later. ` +
        `The real ASL runs in the local runtime with stand-ins on a simulated clock (bench/transitions.ts); every state entered and retry counts. ` +
        `Cost per 1,000 onboardings: $0.025 per 1,000 standard transitions plus Lambda GB-seconds (${bench.lambda.memoryMb} MB, ${bench.lambda.architecture}, $${bench.lambda.usdPerGbSecond} per GB-s; handler times: ${bench.handlerTimes.source}).`,
      '',
      '| design | ASL | transitions | Lambda invocations | GB-s | per 1,000 onboardings |',
      '| - | - | -: | -: | -: | -: |',
      ...bench.runs.map(
        (run) =>
          `| ${run.design} | ${run.asl} | ${run.transitions} | ${run.lambda.invocations} | ${run.lambda.gbSeconds.toFixed(1)} | ${usd(run.costPer1000Usd.total)} (${usd(run.costPer1000Usd.transitions)} + ${usd(run.costPer1000Usd.lambda)}) |`,
      ),
    ],
  };
}
