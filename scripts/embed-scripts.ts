/**
 * Embeds the host scripts as TypeScript string modules (`generated/<name>.ts`), so Lambda bundles (esbuild),
 * jest (swc) and tsx all load them with a plain import and no loader configuration. The `.sh` files stay the
 * source of truth (shellcheck, editors); a unit test fails when a generated module is stale.
 *
 * Usage: `npm run embed` (write) or `... --check` (exit 1 when stale).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const SCRIPTS_DIR = join(__dirname, '..', 'functions', 'shared', 'scripts');

/** The generated module for a script: one exported string constant, byte-identical to the file. */
export function embeddedModule(scriptName: string, text: string): string {
  return [
    `// Generated from ${scriptName} by embed-scripts.ts: edit the .sh file, then run`,
    '// `npm run embed`. Biome may reformat this file; only the value matters.',
    // `$` as \u0024: the value is the same, and linters do not mistake `${arch}` for a forgotten template.
    `export const script = ${JSON.stringify(text).replaceAll('$', '\\u0024')};`,
    '',
  ].join('\n');
}

/** `join-edge-node.sh` → `generated/join-edge-node.ts`. */
export function generatedPathFor(scriptName: string): string {
  return join(SCRIPTS_DIR, 'generated', `${basename(scriptName, '.sh')}.ts`);
}

/** The value a generated module currently exports, or undefined when it is missing. */
function embeddedValue(target: string): string | undefined {
  try {
    // Compare values, not text: Biome may reformat the generated file (quotes, line breaks).
    const loaded: unknown = require(target);
    const value = (loaded as { script?: unknown }).script;
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Writes (or with `check`, only compares) every embedded module; returns the stale ones. */
export function embedScripts(check: boolean, names: readonly string[] = scriptNames()): string[] {
  const stale: string[] = [];
  for (const name of names) {
    const text = readFileSync(join(SCRIPTS_DIR, name), 'utf8');
    const target = generatedPathFor(name);
    if (embeddedValue(target) === text) continue;
    stale.push(target);
    if (!check) writeFileSync(target, embeddedModule(name, text));
  }
  return stale;
}

/** Every host script: each is embedded. */
function scriptNames(): string[] {
  return readdirSync(SCRIPTS_DIR).filter((name) => name.endsWith('.sh'));
}

if (require.main === module) {
  const check = process.argv.includes('--check');
  const stale = embedScripts(check);
  for (const path of stale) console.log(`${check ? 'stale' : 'wrote'} ${path}`);
  if (check && stale.length > 0) process.exit(1);
}
