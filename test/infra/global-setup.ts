import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHARED_SYNTH_ENV, startSharedSynthesis } from './shared-synthesis';

/**
 * Starts the one synthesis of the stack the whole infra project shares, into a file the test files read (workers
 * inherit the environment variable naming it). It runs in the background: see ./shared-synthesis.ts.
 */
export default function globalSetup(): void {
  const file = join(mkdtempSync(join(tmpdir(), 'edgekeeper-synth-')), 'synth.json');
  startSharedSynthesis(file);
  process.env[SHARED_SYNTH_ENV] = file;
}
