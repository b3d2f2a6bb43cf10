import { spawn } from 'node:child_process';
import net from 'node:net';

/** One relay: connections to `insidePort` on a host's loopback go to `targetPort` on the real loopback. */
export interface ForwardRoute {
  readonly insidePort: number;
  readonly targetPort: number;
}

/** The listening sockets of a host's relays. */
export interface Forwarders {
  close(): Promise<void>;
}

/**
 * Runs for a moment inside the host's network namespace: binds 127.0.0.1:<port> there for each route and hands
 * the listening sockets to the sandbox over Node's IPC channel (SCM_RIGHTS), then exits. A socket keeps the
 * namespace it was created in, so the sandbox then accepts connections made *inside* the host and relays them on
 * the real loopback. No process per host stays behind, and no route exists that the sandbox did not make.
 */
const LISTENER_SCRIPT = `
const net = require('node:net');
const ports = JSON.parse(process.env.EDGEKEEPER_FORWARD_PORTS);
let sent = 0;
for (const port of ports) {
  const server = net.createServer();
  server.on('error', (err) => { console.error(String(err)); process.exit(1); });
  server.listen({ host: '127.0.0.1', port }, () => {
    process.send({ port }, server, () => {
      server.close();
      if (++sent === ports.length) process.disconnect();
    });
  });
}
`;

function relay(inside: net.Socket, targetPort: number): void {
  const outside = net.connect({ host: '127.0.0.1', port: targetPort });
  const closeBoth = () => {
    inside.destroy();
    outside.destroy();
  };
  inside.on('error', closeBoth);
  outside.on('error', closeBoth);
  inside.pipe(outside).pipe(inside);
}

/**
 * Opens the relays of a host. `nsenterArgs` selects the host's network namespace (see HostNamespace).
 * A route missing here is a port that refuses connections inside the host, like a firewalled one.
 */
export async function openForwarders(nsenterArgs: string[], routes: readonly ForwardRoute[]): Promise<Forwarders> {
  if (routes.length === 0) return { close: async () => undefined };
  const targets = new Map(routes.map((r) => [r.insidePort, r.targetPort]));
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  await new Promise<void>((resolve, reject) => {
    const child = spawn('nsenter', [...nsenterArgs, '--', process.execPath, '-e', LISTENER_SCRIPT], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { EDGEKEEPER_FORWARD_PORTS: JSON.stringify([...targets.keys()]) },
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('message', (message: unknown, handle: unknown) => {
      const port = (message as { port?: number }).port;
      const target = port === undefined ? undefined : targets.get(port);
      if (!(handle instanceof net.Server) || target === undefined) return;
      handle.on('connection', (socket: net.Socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        relay(socket, target);
      });
      servers.push(handle);
    });
    child.on('error', reject);
    // 'close' (not 'exit') comes after the IPC channel is drained, so every handle has arrived by then.
    child.on('close', (code) => {
      if (code === 0 && servers.length === targets.size) resolve();
      else reject(new Error(`cannot open forwarders in the host: exit ${code}: ${stderr.trim()}`));
    });
  });
  return {
    async close() {
      for (const socket of sockets) socket.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
