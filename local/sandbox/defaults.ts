/*
 * The sandbox's defaults the CLI shows in its help. They live apart from sandbox.ts so that the CLI's command
 * wiring can name them without loading the sandbox (its cluster, hosts and edge services).
 */

/** The directory `edgekeeper sandbox start` uses when none is given. */
export const DEFAULT_SANDBOX_DIR = '.sandbox';
