import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { CoreV1Api, V1Node } from '@kubernetes/client-node';
import { z } from 'zod';
import { close, listen } from './mirror';
import { type ReadyStatus, registeredNode, withReady } from './node-object';

/** Names of cloudcore's public ports (docs/kubeedge.md §2: cloudhub 10000 … tunnel 10004). */
export type CloudcorePortName = 'cloudhub' | 'quic' | 'https' | 'stream' | 'tunnel';

/** The running cloudcore stand-in. */
export interface Cloudcore {
  readonly ports: Readonly<Record<CloudcorePortName, number>>;
  stop(): Promise<void>;
}

/** Options of {@link startCloudcore}. */
export interface CloudcoreOptions {
  readonly kubeconfigPath: string;
  /** How long a joined node stays Ready=False before Ready=True. @default 1000 */
  readonly readyDelayMs?: number;
  /** Where failures of background Node updates go. @default console.warn */
  readonly onError?: (error: unknown) => void;
}

const ReportSchema = z.object({
  nodeName: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/),
  internalIP: z.string().min(1),
  hostname: z.string(),
  architecture: z.string().min(1),
  osImage: z.string(),
  kernelVersion: z.string(),
  containerRuntimeVersion: z.string(),
  kubeedgeVersion: z.string().min(1),
  withEdgeTaint: z.boolean(),
  labels: z.string(),
});

const DisconnectSchema = z.object({ nodeName: z.string().min(1) });

class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

// A placeholder CA: edgecore stores it, nothing verifies it (the sandbox speaks plain HTTP on loopback).
const CA_PEM = '-----BEGIN CERTIFICATE-----\nc2FuZGJveC1jbG91ZGNvcmUtY2E=\n-----END CERTIFICATE-----\n';

/**
 * Starts the cloudcore stand-in: plain HTTP on 127.0.0.1 for each public port. The cert port hands out the CA and,
 * for a token equal to Secret kubeedge/tokensecret `tokendata`, an edge certificate; cloudhub takes the edgecore
 * stand-in's connect/disconnect and keeps the Node in the cluster like edged + cloudcore would.
 */
export async function startCloudcore(options: CloudcoreOptions): Promise<Cloudcore> {
  let client: CoreV1Api | undefined;
  const core = (): CoreV1Api => {
    if (!client) {
      const { CoreV1Api, KubeConfig } = kubernetes();
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromFile(options.kubeconfigPath);
      client = kubeConfig.makeApiClient(CoreV1Api);
    }
    return client;
  };
  const nodes = new NodeKeeper(core, options.readyDelayMs ?? 1000, options.onError ?? ((e) => console.warn(e)));
  const certificates = new Map<string, string>(); // certificate id -> node name

  const certServer = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://cloudcore').pathname;
    if (path === '/ca.crt') return reply(res, 200, CA_PEM, 'application/x-pem-file');
    if (path !== '/edge.crt') throw new HttpError(404, 'not found');
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token || token !== (await readToken(core()))) throw new HttpError(401, 'invalid token');
    const nodeName = String(req.headers.nodename ?? '');
    const id = randomUUID();
    certificates.set(id, nodeName);
    reply(res, 200, `-----BEGIN CERTIFICATE-----\n${id}\n-----END CERTIFICATE-----\n`, 'application/x-pem-file');
  };

  const cloudhub = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://cloudcore').pathname;
    const certificateOwner = certificates.get(String(req.headers['x-sandbox-edge-cert'] ?? ''));
    if (req.method !== 'POST') throw new HttpError(404, 'not found');
    if (path === '/sandbox/v1/edge/connect') {
      const report = ReportSchema.parse(JSON.parse(await body(req)));
      if (certificateOwner === undefined) throw new HttpError(401, 'unknown edge certificate');
      await nodes.connect(report);
      return reply(res, 200, '{"status":"connected"}\n', 'application/json');
    }
    if (path === '/sandbox/v1/edge/disconnect') {
      const { nodeName } = DisconnectSchema.parse(JSON.parse(await body(req)));
      if (certificateOwner === undefined) throw new HttpError(401, 'unknown edge certificate');
      await nodes.disconnect(nodeName);
      return reply(res, 200, '{"status":"disconnected"}\n', 'application/json');
    }
    throw new HttpError(404, 'not found');
  };

  // quic/stream/tunnel only need to accept TCP (reachability checks); nothing in the sandbox streams logs yet.
  const idle = async (_req: IncomingMessage, res: ServerResponse) => reply(res, 404, 'not served by the sandbox\n');

  const handlers: Record<CloudcorePortName, Handler> = {
    cloudhub,
    quic: idle,
    https: certServer,
    stream: idle,
    tunnel: idle,
  };
  const servers: Server[] = [];
  const ports = {} as Record<CloudcorePortName, number>;
  for (const name of Object.keys(handlers) as CloudcorePortName[]) {
    const server = createServer((req, res) => handle(handlers[name], req, res));
    servers.push(server);
    ports[name] = await listen(server);
  }
  return {
    ports,
    stop: async () => {
      await Promise.all(servers.map(close));
      await nodes.stop();
    },
  };
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * The Kubernetes client, loaded when the first edge node calls: several hundred modules that starting the sandbox
 * need not wait for (the demo loads them meanwhile, with the steps' handlers).
 */
function kubernetes(): typeof import('@kubernetes/client-node') {
  return require('@kubernetes/client-node') as typeof import('@kubernetes/client-node');
}

/** The HTTP status of a failed Kubernetes call (client-node's ApiException), if that is what it is. */
function apiStatus(error: unknown): number | undefined {
  return error instanceof kubernetes().ApiException ? error.code : undefined;
}

function handle(handler: Handler, req: IncomingMessage, res: ServerResponse): void {
  handler(req, res).catch((error: unknown) => {
    const status = error instanceof HttpError ? error.status : error instanceof z.ZodError ? 400 : 500;
    const message = error instanceof Error ? error.message : String(error);
    if (!res.headersSent) reply(res, status, `${message}\n`);
    else res.end();
  });
}

function reply(res: ServerResponse, status: number, text: string, type = 'text/plain'): void {
  res.writeHead(status, { 'content-type': type, connection: 'close' }).end(text);
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Reads the join token at request time (cloudcore refreshes it every 12 h): `<ca hash>.<jwt>`, compared whole. */
async function readToken(core: CoreV1Api): Promise<string | undefined> {
  try {
    const secret = await core.readNamespacedSecret({ name: 'tokensecret', namespace: 'kubeedge' });
    const data = secret.data?.tokendata;
    return data === undefined ? undefined : Buffer.from(data, 'base64').toString('utf8').trim();
  } catch (error) {
    if (apiStatus(error) === 404) return undefined;
    throw error;
  }
}

/**
 * Keeps each edge Node as edged would: registered Ready=False on connect, Ready=True `readyDelayMs` later,
 * Unknown on disconnect (the Node object stays, as with real KubeEdge). Updates of one node are serialised.
 */
class NodeKeeper {
  private readonly queues = new Map<string, Promise<void>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly core: () => CoreV1Api,
    private readonly readyDelayMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  connect(report: z.infer<typeof ReportSchema>): Promise<void> {
    this.cancelTimer(report.nodeName);
    return this.serialised(report.nodeName, async () => {
      await retryOnConflict(async () => {
        const existing = await this.read(report.nodeName);
        await this.write(registeredNode(report, existing, new Date()), existing);
      });
      const timer = setTimeout(() => {
        this.timers.delete(report.nodeName);
        this.setReady(report.nodeName, 'True').catch(this.onError);
      }, this.readyDelayMs);
      this.timers.set(report.nodeName, timer);
    });
  }

  disconnect(nodeName: string): Promise<void> {
    this.cancelTimer(nodeName);
    return this.setReady(nodeName, 'Unknown');
  }

  /** Cancels pending Ready flips and waits for writes in flight, so nothing talks to a cluster being stopped. */
  async stop(): Promise<void> {
    for (const name of [...this.timers.keys()]) this.cancelTimer(name);
    await Promise.allSettled([...this.queues.values()]);
  }

  private setReady(nodeName: string, status: ReadyStatus): Promise<void> {
    return this.serialised(nodeName, () =>
      retryOnConflict(async () => {
        const existing = await this.read(nodeName);
        if (existing) await this.write(withReady(existing, status, new Date()), existing);
      }),
    );
  }

  private cancelTimer(nodeName: string): void {
    clearTimeout(this.timers.get(nodeName));
    this.timers.delete(nodeName);
  }

  private serialised(nodeName: string, step: () => Promise<void>): Promise<void> {
    const next = (this.queues.get(nodeName) ?? Promise.resolve()).catch(() => undefined).then(step);
    this.queues.set(nodeName, next);
    return next;
  }

  private async read(name: string): Promise<V1Node | undefined> {
    try {
      return await this.core().readNode({ name });
    } catch (error) {
      if (apiStatus(error) === 404) return undefined;
      throw error;
    }
  }

  /** Writes metadata/spec through the Node and status through `nodes/status`, as kubelets do. */
  private async write(desired: V1Node, existing: V1Node | undefined): Promise<void> {
    const name = desired.metadata?.name ?? '';
    const stored = existing
      ? await this.core().replaceNode({ name, body: { ...desired, status: existing.status } })
      : await this.core().createNode({ body: desired });
    await this.core().replaceNodeStatus({
      name,
      body: { ...stored, status: desired.status },
    });
  }
}

/** Re-runs a read-modify-write when someone else changed the Node in between (HTTP 409), like client-go's helper. */
async function retryOnConflict(step: () => Promise<void>, attempts = 5): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (apiStatus(error) !== 409 || attempt >= attempts) throw error;
    }
  }
}
