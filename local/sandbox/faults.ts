import type { IncomingMessage } from 'node:http';

/**
 * Fault hooks of the sandbox, for the fault-injection tests: the sandbox's Kubernetes API server and SSM endpoint
 * consult one FaultPlan before serving each request, and its hosts can be taken offline in the middle of a command.
 *
 *     sandbox.faults.inject({ service: 'kube', method: 'PATCH', path: /\/nodes\/edge-1$/, times: 2,
 *                             fault: { kind: 'status', status: 429, retryAfterSeconds: 1 } });
 *     sandbox.faults.inject({ service: 'ssm', operation: 'SendCommand', fault: { kind: 'throttle' } });
 *     await sandbox.faults.refuseConnections('ssm', 2000);
 *     sandbox.faults.takeHostOffline('mi-…');
 *     sandbox.faults.interceptCommandEvents({ action: 'drop', times: Infinity });
 *
 * Rules match in the order they were added; each applies to the next `times` matching requests, then retires.
 */

/** Which front end a rule applies to. */
export type FaultService = 'kube' | 'ssm';

/** What happens to a matched request. */
export type Fault =
  /** answers with this HTTP status: a Kubernetes `Status` (kube) or an AWS JSON error (ssm), with Retry-After if given */
  | { readonly kind: 'status'; readonly status: number; readonly retryAfterSeconds?: number; readonly message?: string }
  /** SSM's throttling answer: HTTP 400 `ThrottlingException` (the SDK retries it) */
  | { readonly kind: 'throttle' }
  /** holds the request this long before serving it; without `ms`, never answers (the client's timeout decides) */
  | { readonly kind: 'stall'; readonly ms?: number }
  /** destroys the connection without an answer: the client sees ECONNRESET or "socket hang up" */
  | { readonly kind: 'reset' };

export interface FaultRule {
  readonly service: FaultService;
  /** HTTP method (kube); any when absent */
  readonly method?: string;
  /** the URL path (kube), a substring or a pattern; any when absent */
  readonly path?: string | RegExp;
  /** the AWS operation (ssm), e.g. `SendCommand`; any when absent */
  readonly operation?: string;
  /** how many matching requests get the fault @default 1 */
  readonly times?: number;
  readonly fault: Fault;
}

/** One request a fault was injected into. */
export interface InjectedFault {
  readonly service: FaultService;
  readonly method: string;
  readonly path: string;
  readonly operation?: string;
  readonly fault: Fault;
  readonly at: Date;
}

/** What the service knows about a request when it asks for a fault. */
export interface FaultRequest {
  readonly method: string;
  readonly path: string;
  readonly operation?: string;
}

/** What a host's command runner does when its host goes offline or comes back. */
export interface HostSwitch {
  /** `kill`: the host lost power, its running scripts die; otherwise only its agent's connection is lost */
  setOnline(instanceId: string, online: boolean, options: { kill: boolean }): void;
}

/**
 * What happens to SSM's command status-change events (local/sandbox/aws/command-events.ts): `drop` loses them, as
 * a missed EventBridge delivery would; `duplicate` sends each twice, as EventBridge's at-least-once delivery may.
 */
export interface CommandEventRule {
  readonly action: 'drop' | 'duplicate';
  /** how many events (the next ones, optionally only of one command) @default 1 */
  readonly times?: number;
  readonly commandId?: string;
}

/** One command event a rule applied to. */
export interface InterceptedCommandEvent {
  readonly action: CommandEventRule['action'];
  readonly commandId: string;
  readonly instanceId: string;
  readonly status: string;
  readonly at: Date;
}

/** A front end that can stop accepting connections for a while. */
export type ConnectionRefuser = (ms: number) => Promise<void>;

interface ActiveRule extends FaultRule {
  remaining: number;
}

export class FaultPlan {
  private rules: ActiveRule[] = [];
  private readonly injected: InjectedFault[] = [];
  private readonly refusers = new Map<FaultService, ConnectionRefuser>();
  private hostSwitch?: HostSwitch;
  private eventRules: (CommandEventRule & { remaining: number })[] = [];
  private readonly intercepted: InterceptedCommandEvent[] = [];

  /** Adds a rule; returns a function that removes it. */
  inject(rule: FaultRule): () => void {
    const active: ActiveRule = { ...rule, remaining: rule.times ?? 1 };
    this.rules.push(active);
    return () => {
      this.rules = this.rules.filter((r) => r !== active);
    };
  }

  /** Removes every rule not yet used up. */
  clear(): void {
    this.rules = [];
    this.eventRules = [];
  }

  /** Every fault injected so far, oldest first: lets a test prove its fault happened. */
  history(): readonly InjectedFault[] {
    return [...this.injected];
  }

  /** How many rules still wait for a matching request. */
  pending(): number {
    return this.rules.length;
  }

  /** Makes a service refuse connections (ECONNREFUSED) for `ms`, then listen again on the same port. */
  async refuseConnections(service: FaultService, ms: number): Promise<void> {
    const refuse = this.refusers.get(service);
    if (!refuse) throw new Error(`the ${service} service of this sandbox cannot refuse connections`);
    await refuse(ms);
  }

  /** A host loses its connection (or its power, with `kill`): its running command stops reporting, new ones wait. */
  takeHostOffline(instanceId: string, options: { kill?: boolean } = {}): void {
    this.requireHosts().setOnline(instanceId, false, { kill: options.kill ?? false });
  }

  /** The host is reachable again: a command still running reports its result. */
  bringHostOnline(instanceId: string): void {
    this.requireHosts().setOnline(instanceId, true, { kill: false });
  }

  /** Services call this for each request: the fault to inject, if a rule matches (and is then used once). */
  take(service: FaultService, request: FaultRequest): Fault | undefined {
    const rule = this.rules.find((r) => r.service === service && matches(r, request));
    if (!rule) return undefined;
    rule.remaining -= 1;
    if (rule.remaining <= 0) this.rules = this.rules.filter((r) => r !== rule);
    this.injected.push({ service, ...request, fault: rule.fault, at: new Date() });
    return rule.fault;
  }

  /** Drops or duplicates the next command events; returns a function that removes the rule. */
  interceptCommandEvents(rule: CommandEventRule): () => void {
    const active = { ...rule, remaining: rule.times ?? 1 };
    this.eventRules.push(active);
    return () => {
      this.eventRules = this.eventRules.filter((r) => r !== active);
    };
  }

  /** Every command event a rule dropped or duplicated, oldest first. */
  interceptedCommandEvents(): readonly InterceptedCommandEvent[] {
    return [...this.intercepted];
  }

  /** @internal the event stream asks this for each event: what to do with it, if a rule matches (used once) */
  takeCommandEventFault(detail: {
    readonly 'command-id': string;
    readonly 'instance-id': string;
    readonly status: string;
  }): CommandEventRule['action'] | undefined {
    const rule = this.eventRules.find((r) => r.commandId === undefined || r.commandId === detail['command-id']);
    if (!rule) return undefined;
    rule.remaining -= 1;
    if (rule.remaining <= 0) this.eventRules = this.eventRules.filter((r) => r !== rule);
    this.intercepted.push({
      action: rule.action,
      commandId: detail['command-id'],
      instanceId: detail['instance-id'],
      status: detail.status,
      at: new Date(),
    });
    return rule.action;
  }

  /** @internal the sandbox wires its services in */
  attachRefuser(service: FaultService, refuse: ConnectionRefuser): void {
    this.refusers.set(service, refuse);
  }

  /** @internal */
  attachHosts(hosts: HostSwitch): void {
    this.hostSwitch = hosts;
  }

  private requireHosts(): HostSwitch {
    if (!this.hostSwitch) throw new Error('this sandbox has no hosts to take offline');
    return this.hostSwitch;
  }
}

function matches(rule: FaultRule, request: FaultRequest): boolean {
  if (rule.method && rule.method.toUpperCase() !== request.method.toUpperCase()) return false;
  if (rule.operation && rule.operation !== request.operation) return false;
  if (rule.path !== undefined) {
    if (typeof rule.path === 'string' ? !request.path.includes(rule.path) : !rule.path.test(request.path)) return false;
  }
  return true;
}

/**
 * Applies a fault to a request. Resolves to true when the request was answered (or dropped) and must not be
 * served, false when it should be served now (a stall that ended).
 */
export async function applyFault(
  fault: Fault,
  req: IncomingMessage,
  answer: (status: number, retryAfterSeconds: number | undefined, message: string) => void,
): Promise<boolean> {
  switch (fault.kind) {
    case 'reset':
      req.socket.destroy();
      return true;
    case 'stall':
      // never answered without `ms`: the connection ends when the client gives up or the sandbox stops
      if (fault.ms === undefined) return true;
      await new Promise((resolve) => setTimeout(resolve, fault.ms));
      return req.socket.destroyed;
    case 'throttle':
      answer(400, undefined, 'Rate exceeded');
      return true;
    case 'status':
      answer(fault.status, fault.retryAfterSeconds, fault.message ?? `injected fault: HTTP ${fault.status}`);
      return true;
  }
}
