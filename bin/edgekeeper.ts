#!/usr/bin/env node
import { main } from '../local/cli/program';

/** After the command ended, how long sockets or timers a step left behind may keep the process alive. */
const LINGER_MS = 3_000;

// The process's own launcher may set its defaults: the AWS SDK warns on Node 20 that future versions need 22;
// Lambda runs 22, and the notice only clutters the CLI. (The CLI itself never changes process.env.)
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// A reader that went away (`| head`, a killed npx) must not turn the end of a run into a crash.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // A run stopped at once can leave a step's request in flight: exit anyway, once output had time to drain.
    setTimeout(() => process.exit(code), LINGER_MS).unref();
  },
  (error: unknown) => {
    process.stderr.write(`edgekeeper: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
