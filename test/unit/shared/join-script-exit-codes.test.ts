import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JOIN_SCRIPT_EXIT_CODES } from '../../../functions/shared/join-script-failures';

/**
 * The join script documents its exit codes in its header and the TypeScript side explains them to the user
 * (JOIN_SCRIPT_EXIT_CODES, used by parseScriptFailure). Both are read from the sources here, together with the
 * `fail N` / `exit N` statements the script really has, so none of the three can drift from the others.
 */
const SCRIPT = readFileSync(join(__dirname, '../../../functions/shared/scripts/join-edge-node.sh'), 'utf8');

/** The header table: `#   NN  meaning` lines after "exits with:". */
function documentedCodes(): Map<number, string> {
  const header = SCRIPT.slice(0, SCRIPT.indexOf('\nset -Eeuo pipefail'));
  const table = header.slice(header.indexOf('exits with:'));
  const codes = new Map<number, string>();
  for (const [, code, meaning] of table.matchAll(/^#\s+(\d+)\s{2,}(.+)$/gm)) codes.set(Number(code), meaning);
  return codes;
}

interface ShellFunction {
  readonly name: string;
  readonly body: string;
}

/** The script's top-level functions (`name() {` … a `}` in column 0), and what runs outside them. */
function shellFunctions(): { functions: ShellFunction[]; topLevel: string } {
  const functions: ShellFunction[] = [];
  let topLevel = '';
  let current: { name: string; lines: string[] } | undefined;
  for (const line of SCRIPT.split('\n')) {
    const start = /^([a-z_]+)\(\) \{(.*)$/.exec(line);
    if (!current && start?.[1]) {
      // one-line functions (`say() { …; }`) end on their own line
      if (start[2]?.trimEnd().endsWith('}')) functions.push({ name: start[1], body: start[2] });
      else current = { name: start[1], lines: [] };
    } else if (current && line === '}') {
      functions.push({ name: current.name, body: current.lines.join('\n') });
      current = undefined;
    } else if (current) current.lines.push(line);
    else topLevel += `${line}\n`;
  }
  return { functions, topLevel };
}

/**
 * Every `fail N` with the steps it can run under. `step` is one global: a function that starts with `step='x'`
 * runs under x; any other runs under whatever step its caller was in at the call, which is the caller's own, or
 * the last `step=` it assigned or step-setting function it called before that line.
 */
function failSites(): { code: number; fn: string; steps: Set<string> }[] {
  const { functions, topLevel } = shellFunctions();
  const initialStep = /^step='([a-z-]+)'$/m.exec(topLevel)?.[1] ?? '';
  const calls = (line: string, name: string) => new RegExp(`(^|[\\s;|&!(])${name}($|[\\s;)])`).test(line);
  const ownStep = (name: string) =>
    /^\s*step='([a-z-]+)'/.exec(functions.find((f) => f.name === name)?.body ?? '')?.[1];
  const stepsAtCall = (caller: ShellFunction, callee: string, seen: Set<string>): Set<string> => {
    let current = stepsOf(caller.name, seen);
    for (const line of caller.body.split('\n')) {
      if (calls(line, callee)) return current;
      const assigned = /^\s*step='([a-z-]+)'/.exec(line)?.[1];
      const entered = functions.map((f) => f.name).find((name) => calls(line, name) && ownStep(name));
      if (assigned) current = new Set([assigned]);
      else if (entered) current = new Set([ownStep(entered) ?? '']);
    }
    return current;
  };
  function stepsOf(name: string, seen: Set<string> = new Set()): Set<string> {
    const own = ownStep(name);
    if (own) return new Set([own]);
    const steps = new Set<string>(name === 'main' ? [initialStep] : []);
    for (const caller of functions) {
      if (caller.name === name || seen.has(caller.name) || !caller.body.split('\n').some((l) => calls(l, name)))
        continue;
      for (const step of stepsAtCall(caller, name, new Set([...seen, name]))) steps.add(step);
    }
    return steps;
  }
  return functions.flatMap((fn) =>
    [...fn.body.matchAll(/\bfail (\d+)\b/g)].map((match) => ({
      code: Number(match[1]),
      fn: fn.name,
      steps: stepsOf(fn.name),
    })),
  );
}

describe('the join script exit codes', () => {
  const documented = documentedCodes();
  const table = new Map(Object.entries(JOIN_SCRIPT_EXIT_CODES).map(([code, entry]) => [Number(code), entry]));

  it('are documented in the script header exactly as JOIN_SCRIPT_EXIT_CODES lists them (plus 0, success)', () => {
    expect([...documented.keys()].sort((a, b) => a - b)).toEqual([0, ...[...table.keys()].sort((a, b) => a - b)]);
    for (const [code, { meaning }] of table) {
      // the TypeScript meaning is the header's, possibly shortened
      expect([code, documented.get(code)?.toLowerCase()]).toEqual([
        code,
        expect.stringContaining(meaning.toLowerCase()),
      ]);
    }
  });

  it('are the codes the script really exits with: its fail calls, and 1 for an unexpected error', () => {
    const failed = new Set(failSites().map((site) => site.code));
    const literalExits = new Set([...SCRIPT.matchAll(/\bexit (\d+)\b/g)].map((match) => Number(match[1])));
    expect([...new Set([...failed, ...literalExits])].sort((a, b) => a - b)).toEqual(
      [...table.keys()].sort((a, b) => a - b),
    );
    // `exit 1` is only the ERR trap's: no deliberate failure may use the unexpected-failure code
    expect(failed.has(1)).toBe(false);
    expect(/trap 'on_unexpected_error /.test(SCRIPT)).toBe(true);
  });

  it('name the step each failure happens in', () => {
    const sites = failSites();
    expect(sites.length).toBeGreaterThanOrEqual(table.size - 1);
    for (const site of sites) {
      const entry = table.get(site.code);
      expect([site.code, site.fn, [...site.steps]]).toEqual([
        site.code,
        site.fn,
        expect.arrayContaining([entry?.step]),
      ]);
    }
  });
});
