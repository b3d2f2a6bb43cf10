/**
 * The infra project's one shared synthesis, in a process of its own (`node --import tsx synth-to-file.ts <file>`,
 * started by ./global-setup.ts): writes `{ template }` or `{ error }` to `<file>`, atomically, so that a reader
 * that sees the file sees all of it. A failure is recorded, not thrown, so each test that needs the template fails
 * with the synthesis error instead of the whole run stopping.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { synthesize } from './synth';

const file = process.argv[2];
let result: { template: Record<string, unknown> } | { error: string };
try {
  result = { template: synthesize() };
} catch (error) {
  result = { error: error instanceof Error ? error.message : String(error) };
}
writeFileSync(`${file}.tmp`, JSON.stringify(result));
renameSync(`${file}.tmp`, file);
