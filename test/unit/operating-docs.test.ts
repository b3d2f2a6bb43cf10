import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { completeSettings, SETTING_SPECS, TIMEOUT_BOUNDS } from '../../functions/shared/settings';

/**
 * docs/operating.md tells operators, per named error, whether the workflow retries it and what to do. The error
 * classes are read from the sources here, so a new error cannot ship without its row, and a row cannot claim a
 * retry its class does not declare (test/infra/error-contract.test.ts holds the ASL to the same declarations).
 */
const ROOT = join(__dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every named error class under functions/ → whether it declares itself transient. */
function errorClasses(): Map<string, boolean> {
  const classes = new Map<string, boolean>();
  for (const file of sourceFiles(join(ROOT, 'functions'))) {
    for (const body of readFileSync(file, 'utf8')
      .split(/\bexport class \w+ extends /)
      .slice(1)) {
      const classBody = body.slice(0, body.search(/\n}\n/));
      const name = /override readonly name = '(\w+)'/.exec(classBody)?.[1];
      if (name) {
        if (classes.has(name)) throw new Error(`${name} is declared twice (again in ${relative(ROOT, file)})`);
        classes.set(name, /override readonly transient = true/.test(classBody));
      }
    }
  }
  return classes;
}

/** The text of the section whose heading contains `title`, up to the next section. */
function section(title: string): string {
  const doc = readFileSync(join(ROOT, 'docs', 'operating.md'), 'utf8');
  const start = doc.search(new RegExp(`^## .*${title}`, 'm'));
  if (start < 0) throw new Error(`docs/operating.md has no section "${title}"`);
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end < 0 ? undefined : end);
}

/** The catalogue's rows: error name → its "retried" cell. */
function catalogue(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const [, name, retried] of section('Error catalogue').matchAll(/^\| `(\w+)`\s*\| (\w+)\s*\|/gm))
    rows.set(name, retried);
  return rows;
}

describe('the error catalogue of docs/operating.md', () => {
  it('has one row per named error class, and no row for an error that does not exist', () => {
    expect([...catalogue().keys()].sort()).toEqual([...errorClasses().keys()].sort());
  });

  it('says "retried" exactly for the errors whose class declares itself transient', () => {
    const rows = catalogue();
    for (const [name, transient] of errorClasses()) {
      expect([name, rows.get(name)]).toEqual([name, transient ? 'yes' : 'no']);
    }
  });
});

describe('the timeout settings of docs/operating.md', () => {
  /** Timeout rows: CDK context key → [environment variable, default, bounds] as the table states them. */
  function timeoutRows(): Map<string, string[]> {
    const rows = new Map<string, string[]>();
    for (const [, key, env, fallback, bounds] of section('Settings').matchAll(
      /^\| `(timeouts\.\w+)`\s*\| `(\w+)`\s*\| (\d+)\s*\| (\d+–\d+)\s*\|/gm,
    )) {
      rows.set(key, [env, fallback, bounds]);
    }
    return rows;
  }

  it('states each timeout with its variable, its default and its bounds as the settings table declares them', () => {
    const defaults = completeSettings({}) as Record<string, unknown>;
    const declared = new Map(
      Object.entries(TIMEOUT_BOUNDS).map(([name, { min, max }]) => {
        const spec = SETTING_SPECS[name as keyof typeof TIMEOUT_BOUNDS];
        return [spec.context.join('.'), [spec.env, String(defaults[name]), `${min}–${max}`]] as const;
      }),
    );
    expect(Object.fromEntries(timeoutRows())).toEqual(Object.fromEntries(declared));
  });
});
