// How a failed run of the join script is explained. A module of its own (join-script.ts re-exports it) so that the
// step that polls the script does not load the renderer and its keadm flag table with it.

/** Exit codes of the join script, as documented in its header; keys are the step the code belongs to. */
export const JOIN_SCRIPT_EXIT_CODES: Readonly<Record<number, { step: string; meaning: string }>> = Object.freeze({
  1: { step: 'script', meaning: 'unexpected failure' },
  2: { step: 'setup', meaning: 'no join token given, or its parameter could not be read' },
  10: { step: 'preflight', meaning: 'CPU architecture not supported' },
  11: { step: 'preflight', meaning: 'no container runtime' },
  12: { step: 'preflight', meaning: 'docker older than 19.3.0' },
  13: { step: 'preflight', meaning: 'a required tool is missing (wget, curl, tar)' },
  14: { step: 'preflight', meaning: 'a cloudcore public port is unreachable' },
  15: { step: 'preflight', meaning: 'edgecore already runs on this host for another node' },
  16: { step: 'preflight', meaning: 'nodeIp is not an address of this host' },
  17: { step: 'edgemesh', meaning: 'EdgeMesh preparation failed' },
  20: { step: 'download', meaning: 'keadm download or unpacking failed' },
  21: { step: 'join', meaning: 'keadm join failed' },
});

/**
 * Steps of the join script that only look at the host (the token, the architecture, tools, runtime, ports, the node
 * IP, whether edgecore already runs): a failure in them leaves the host exactly as it was, so a rollback must not
 * reset it (a host refused because it serves another node would otherwise lose that node).
 */
export const READ_ONLY_JOIN_STEPS: readonly string[] = Object.freeze(['setup', 'preflight']);

/**
 * Whether a failed run of the join script may have changed the host: false only when its exit code, or for an
 * unexpected failure (exit 1) its error line, places the failure in a read-only step. Anything else (a kill, an
 * unknown code, no error line) may have changed it.
 */
export function joinFailureChangedHost(exitCode: number, stdout: string, stderr: string): boolean {
  const known = JOIN_SCRIPT_EXIT_CODES[exitCode];
  const step =
    known && known.step !== 'script'
      ? known.step
      : exitCode === 1
        ? lastMatch(`${stdout}\n${stderr}`, /^edgekeeper: ([a-z-]+): error: /gm)?.[1]
        : undefined;
  return step === undefined || !READ_ONLY_JOIN_STEPS.includes(step);
}

const TAIL_LINES = 20;

/**
 * A clear message for a failed run: `<step> failed: <reason>` from the script's own error line when there is one,
 * else from the exit code table, followed by the tail of stderr (last 20 lines).
 */
export function parseScriptFailure(exitCode: number, stdout: string, stderr: string): string {
  const errorLine = lastMatch(`${stdout}\n${stderr}`, /^edgekeeper: ([a-z-]+): error: (.*)$/gm);
  const known = JOIN_SCRIPT_EXIT_CODES[exitCode];
  const lastStep = lastMatch(stdout, /^edgekeeper: ([a-z-]+): /gm)?.[1];
  const headline = errorLine
    ? `${errorLine[1]} failed: ${errorLine[2]}`
    : known
      ? `${known.step === 'script' ? (lastStep ?? 'script') : known.step} failed: ${known.meaning} (exit ${exitCode})`
      : `${lastStep ?? 'script'} failed with exit code ${exitCode}`;
  const tail = stderr.trimEnd().split('\n').slice(-TAIL_LINES).join('\n');
  return tail ? `${headline}\nstderr (last ${TAIL_LINES} lines):\n${tail}` : headline;
}

function lastMatch(text: string, pattern: RegExp): RegExpExecArray | undefined {
  let last: RegExpExecArray | undefined;
  for (const match of text.matchAll(pattern)) last = match as RegExpExecArray;
  return last;
}
