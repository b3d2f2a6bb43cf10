/**
 * The detached sandbox process: `tsx local/sandbox/daemon.ts <dir>`. Starts the sandbox, which writes
 * `<dir>/sandbox.json`, and stops it cleanly on SIGTERM, SIGINT or SIGHUP.
 */
import { startSandbox } from './sandbox';

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: daemon.ts <dir>');
    process.exit(2);
  }
  const sandbox = await startSandbox({ dir });
  console.log(`sandbox ready in ${sandbox.info.dir} (pid ${process.pid}, mode ${sandbox.info.mode})`);
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping the sandbox`);
    sandbox.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, shutdown);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
