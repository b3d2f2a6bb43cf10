import { readFile } from 'node:fs/promises';
import path from 'node:path';
import yaml from 'js-yaml';
import { z } from 'zod';
import { HostFixtureError } from './errors';
import { type HostSpec, HostSpecSchema } from './traits';

/** The fixture shipped with the sandbox: `local/sandbox/fixtures/hosts.yaml`. */
export const DEFAULT_HOST_FIXTURE = path.join(__dirname, '..', 'fixtures', 'hosts.yaml');

const HostFixtureSchema = z
  .object({ hosts: z.array(HostSpecSchema).min(1) })
  .refine((f) => new Set(f.hosts.map((h) => h.instanceId)).size === f.hosts.length, 'instance ids must be unique')
  .refine((f) => new Set(f.hosts.map((h) => h.name)).size === f.hosts.length, 'host names must be unique');

/** Parses a host fixture (YAML text) into host specs. */
export function parseHostFixture(text: string, source = 'hosts fixture'): HostSpec[] {
  let raw: unknown;
  try {
    raw = yaml.load(text);
  } catch (err) {
    throw new HostFixtureError(`${source}: invalid YAML: ${(err as Error).message}`);
  }
  const parsed = HostFixtureSchema.safeParse(raw);
  if (!parsed.success) {
    throw new HostFixtureError(`${source}: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data.hosts;
}

/** Reads and parses a host fixture file. */
export async function loadHostFixture(file = DEFAULT_HOST_FIXTURE): Promise<HostSpec[]> {
  return parseHostFixture(await readFile(file, 'utf8'), file);
}
