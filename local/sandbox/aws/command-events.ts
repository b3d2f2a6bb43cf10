import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultPlan } from '../faults';

/**
 * The sandbox's stand-in for the EventBridge events SSM sends when a command invocation changes status: when an
 * invocation of the SSM endpoint ends, an "EC2 Command Invocation Status-change Notification" of AWS's shape goes
 * to every subscriber of the stream (`GET /command-events`, one JSON event per line). The local runtime subscribes
 * while a workflow waits, and hands each event to the step the deployed EventBridge rule targets.
 */

export const COMMAND_EVENT = {
  source: 'aws.ssm',
  detailType: 'EC2 Command Invocation Status-change Notification',
} as const;

/** What SSM puts in the event's detail (docs/events.md). */
export interface CommandInvocationDetail {
  readonly 'command-id': string;
  readonly 'document-name': string;
  readonly 'instance-id': string;
  readonly 'requested-date-time': string;
  readonly status: string;
}

export interface CommandInvocationEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': typeof COMMAND_EVENT.detailType;
  readonly source: typeof COMMAND_EVENT.source;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: string[];
  readonly detail: CommandInvocationDetail;
}

/** The sandbox's account id in ARNs. */
export const SANDBOX_ACCOUNT = '000000000000';

/** The invocation facts the event carries. */
export interface EndedInvocation {
  readonly commandId: string;
  readonly instanceId: string;
  readonly documentName: string;
  readonly requestedAt: Date;
  readonly status: string;
}

/** The event SSM sends for `invocation` in `region`; a managed instance (`mi-…`) is named by its SSM ARN. */
export function commandInvocationEvent(invocation: EndedInvocation, region: string): CommandInvocationEvent {
  const resource = invocation.instanceId.startsWith('mi-')
    ? `arn:aws:ssm:${region}:${SANDBOX_ACCOUNT}:managed-instance/${invocation.instanceId}`
    : `arn:aws:ec2:${region}:${SANDBOX_ACCOUNT}:instance/${invocation.instanceId}`;
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': COMMAND_EVENT.detailType,
    source: COMMAND_EVENT.source,
    account: SANDBOX_ACCOUNT,
    // EventBridge's `time` has whole seconds
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [resource],
    detail: {
      'command-id': invocation.commandId,
      'document-name': invocation.documentName,
      'instance-id': invocation.instanceId,
      'requested-date-time': invocation.requestedAt.toISOString(),
      status: invocation.status,
    },
  };
}

/** The subscribers of the stream, and the fault hooks that drop or duplicate events. */
export class CommandEventStream {
  private readonly subscribers = new Set<ServerResponse>();
  private readonly sent: CommandInvocationEvent[] = [];

  constructor(
    private readonly region: string,
    private readonly faults?: FaultPlan,
  ) {}

  /** An invocation ended: its event goes out (unless a fault hook drops it; twice when one duplicates it). */
  invocationEnded(invocation: EndedInvocation): void {
    const event = commandInvocationEvent(invocation, this.region);
    const fault = this.faults?.takeCommandEventFault(event.detail);
    if (fault === 'drop') return;
    // EventBridge delivers at least once: a duplicate is the same event, same id
    const copies = fault === 'duplicate' ? 2 : 1;
    for (let i = 0; i < copies; i += 1) {
      this.sent.push(event);
      const line = `${JSON.stringify(event)}\n`;
      for (const subscriber of this.subscribers) subscriber.write(line);
    }
  }

  /** Every event sent so far, a duplicate twice (tests, bench). */
  history(): readonly CommandInvocationEvent[] {
    return [...this.sent];
  }

  /** `GET /command-events`: the stream, open until the subscriber leaves or the sandbox stops. */
  subscribe(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    res.flushHeaders();
    this.subscribers.add(res);
    const leave = () => this.subscribers.delete(res);
    req.on('close', leave);
    res.on('close', leave);
  }

  /** Ends every subscription. */
  close(): void {
    for (const subscriber of this.subscribers) subscriber.end();
    this.subscribers.clear();
  }
}
