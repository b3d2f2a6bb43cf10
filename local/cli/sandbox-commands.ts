import { resolve } from 'node:path';
import { type SandboxInfo, startDetachedSandbox, startSandbox, stopSandbox } from '../sandbox/sandbox';
import type { Io } from './io';

/** `edgekeeper sandbox start`: in the foreground until Ctrl-C, or detached until `sandbox stop`. */
export async function startSandboxCommand(flags: { dir: string; detach?: boolean }, io: Io): Promise<number> {
  const dir = resolve(flags.dir);
  if (flags.detach) {
    const info = await startDetachedSandbox({ dir });
    io.stdout(describeSandbox(info, true));
    return 0;
  }
  const sandbox = await startSandbox({ dir });
  io.stdout(describeSandbox(sandbox.info, false));
  await new Promise<void>((done) => {
    const unsubscribe = io.onStop(() => {
      unsubscribe();
      done();
    });
  });
  await sandbox.stop();
  return 0;
}

/** `edgekeeper sandbox stop`: stops a detached sandbox and removes its namespaces and mounts. */
export async function stopSandboxCommand(flags: { dir: string }, io: Io): Promise<number> {
  await stopSandbox(resolve(flags.dir));
  io.stdout(`sandbox in ${flags.dir} stopped\n`);
  return 0;
}

function describeSandbox(info: SandboxInfo, detached: boolean): string {
  const line = (host: SandboxInfo['instances'][number]) =>
    `  ${host.instanceId}  ${host.name.padEnd(20)} ${host.os} ${host.arch} ${host.runtime.kind}` +
    `${host.runtime.version ? ` ${host.runtime.version}` : ''}${host.online ? '' : ' (offline)'}` +
    `${host.cloudcoreReachable ? '' : ' (cloudcore ports blocked)'}`;
  const edge = info.instances.filter((host) => host.role === 'edge');
  const cloud = info.instances.filter((host) => host.role === 'cloud');
  const tags = (host: SandboxInfo['instances'][number]) =>
    Object.entries(host.tags)
      .map(([key, value]) => `tag:${key}=${value}`)
      .join(' ');
  return [
    `sandbox running in ${info.dir} (edge hosts isolated with ${info.mode})`,
    `  kubectl:  KUBECONFIG=${info.kubeconfig} kubectl get nodes,ds -A`,
    `  SSM:      ${info.ssm.endpoint}`,
    'edge hosts:',
    ...edge.map(line),
    ...(cloud.length
      ? ['cloud hosts (SSM targets, not for onboarding):', ...cloud.map((h) => `${line(h)}  ${tags(h)}`)]
      : []),
    'onboard one:',
    `  npx edgekeeper onboard --sandbox ${info.dir} --name edge-1 --ip 10.20.0.11 --instance ${edge[0]?.instanceId}`,
    detached ? `stop it with: npx edgekeeper sandbox stop --dir ${info.dir}` : 'press Ctrl-C to stop',
    '',
  ].join('\n');
}
