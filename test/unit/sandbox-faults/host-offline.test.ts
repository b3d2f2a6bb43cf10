import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandRunner, type RunnableHost } from '../../../local/sandbox/hosts/commands';
import type { HostSpec } from '../../../local/sandbox/hosts/traits';

const ID = 'mi-0ed9e000000000001';

/** A host that runs scripts with this machine's bash: enough to exercise the runner's bookkeeping. */
function plainHost(dir: string): RunnableHost {
  mkdirSync(join(dir, 'commands'), { recursive: true });
  return {
    spec: { instanceId: ID, name: 'plain', online: true } as HostSpec,
    dir,
    async runScript(_id: string, script: string) {
      const child = spawn('bash', ['-c', script], { detached: true });
      return {
        stdout: child.stdout,
        stderr: child.stderr,
        exit: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
        kill: () => process.kill(-(child.pid as number), 'SIGKILL'),
      };
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function settle(runner: CommandRunner, commandId: string) {
  for (;;) {
    const invocation = runner.invocation(commandId, ID);
    if (invocation && ['Success', 'Failed', 'TimedOut', 'Cancelled'].includes(invocation.status)) return invocation;
    await sleep(20);
  }
}

describe('sandbox fault hooks: a host going offline mid-command', () => {
  let dir: string;
  let runner: CommandRunner;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'edgekeeper-offline-'));
  });
  afterEach(async () => {
    await runner.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const send = () =>
    runner.send({
      documentName: 'AWS-RunShellScript',
      commands: ['sleep 0.3; echo done'],
      instanceIds: [ID],
      parameters: {},
    }).commandId;

  it('keeps the command InProgress while the host is away and reports its end once it is back', async () => {
    runner = new CommandRunner(new Map([[ID, plainHost(dir)]]), { offlineDeliveryTimeoutMs: 10_000 });
    const commandId = send();
    await sleep(100);
    runner.setOnline(ID, false, { kill: false });
    expect(runner.isOnline(ID)).toBe(false);
    await sleep(500);
    expect(runner.invocation(commandId, ID)?.status).toBe('InProgress');
    runner.setOnline(ID, true, { kill: false });
    await expect(settle(runner, commandId)).resolves.toMatchObject({ status: 'Success', responseCode: 0 });
  });

  it('times the command out when the host does not come back', async () => {
    runner = new CommandRunner(new Map([[ID, plainHost(dir)]]), { offlineDeliveryTimeoutMs: 200 });
    const commandId = send();
    await sleep(100);
    runner.setOnline(ID, false, { kill: true });
    await expect(settle(runner, commandId)).resolves.toMatchObject({
      status: 'TimedOut',
      statusDetails: 'ExecutionTimedOut',
      stdout: '',
    });
  });

  it('never delivers a command sent while the host is offline', async () => {
    runner = new CommandRunner(new Map([[ID, plainHost(dir)]]), { offlineDeliveryTimeoutMs: 200 });
    runner.setOnline(ID, false, { kill: false });
    const commandId = send();
    await expect(settle(runner, commandId)).resolves.toMatchObject({
      status: 'TimedOut',
      statusDetails: 'DeliveryTimedOut',
    });
  });
});
