import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHARED_SYNTH_ENV, synthesize } from './synth';

/**
 * Synthesizes the stack once for the whole infra project and leaves the result in a file the test files read
 * (workers inherit the environment variable naming it). A failure is recorded, not thrown, so each test that needs
 * the template fails with the synthesis error instead of the whole run stopping.
 */
export default function globalSetup(): void {
  const dir = mkdtempSync(join(tmpdir(), 'edgekeeper-synth-'));
  const file = join(dir, 'synth.json');
  let result: { template: Record<string, unknown> } | { error: string };
  try {
    result = { template: synthesize() };
  } catch (error) {
    result = { error: error instanceof Error ? error.message : String(error) };
  }
  writeFileSync(file, JSON.stringify(result));
  process.env[SHARED_SYNTH_ENV] = file;
}
