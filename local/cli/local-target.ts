import { SandboxInfoError } from '../sandbox/sandbox';
import { UsageError } from './io';
import { defaultLogFile, handlerEnvironment, type Target } from './targets';

/** A target whose steps run in this process: the shell's own credentials, or a started sandbox. */
export type LocalTarget = Exclude<Target, { kind: 'api' }>;

/** The flags that say where the steps' logs go. */
export interface LogFlags {
  readonly verbose?: boolean;
  readonly logFile?: string;
}

/** Where the steps' logs go: --verbose to stderr, --log-file, a sandbox's log file, or nowhere. */
export function logDestination(flags: LogFlags, target: LocalTarget): string {
  if (flags.verbose) return 'stderr';
  return flags.logFile ?? defaultLogFile(target) ?? 'off';
}

/** The steps' environment on a local target; a sandbox that is not running is a usage error that says how to start one. */
export async function environmentFor(target: LocalTarget, logs: string): Promise<Record<string, string>> {
  try {
    return await handlerEnvironment(target, logs);
  } catch (error) {
    if (target.kind === 'sandbox' && error instanceof SandboxInfoError) {
      throw new UsageError(
        `--sandbox ${target.dir}: ${error.message}; start one with: edgekeeper sandbox start --detach --dir ${target.dir}`,
      );
    }
    throw error;
  }
}
