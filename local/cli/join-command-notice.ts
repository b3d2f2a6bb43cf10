import type { Io } from './io';

/*
 * How the CLI shows a manual join's command, whether it rendered it itself (local/cli/manual-join.ts) or the REST
 * API did (local/cli/api-client.ts): once, on stdout, or with `--json` on stderr, since the `--json` document is
 * the workflow's result and never holds a secret (docs/adr/0009). It reads no cluster, so the --api-url path can
 * load it.
 */

/** What the caller is told along with the command (stderr, so stdout keeps just the command and the result). */
const HOW_TO_RUN =
  'Run this command once, as root, on the device (it holds the cluster join token and is shown only now; ' +
  'edgekeeper waits for the node to be Ready):';
const ON_STDERR = '(the join command goes to stderr: the --json document on stdout never holds it)';

export function showJoinCommand(io: Io, json: boolean, command: string): void {
  io.stderr(`\n${json ? ON_STDERR : HOW_TO_RUN}\n`);
  if (json) io.stderr(`${command}\n`);
  else io.stdout(`\n${command}\n`);
}
