import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { listAslFiles } from '../../lib/asl';

/**
 * "Transient vs permanent is a decision made once, in the error class": the ASL must retry exactly the errors
 * whose class says `transient = true`. Read from the sources, so a new error class cannot slip past.
 */
interface ErrorClass {
  readonly name: string;
  readonly transient: boolean;
  readonly file: string;
}

/** Every named error class under functions/, with whether it declares itself transient. */
function errorClasses(): ErrorClass[] {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', 'functions'], {
    encoding: 'utf8',
  })
    .split('\n')
    // a file deleted in the work tree is still listed as cached until the deletion is committed
    .filter((file) => file.endsWith('.ts') && existsSync(file));
  const classes: ErrorClass[] = [];
  for (const file of files) {
    const source = readFileSync(file, 'utf8');
    for (const body of source.split(/\bexport class \w+ extends /).slice(1)) {
      const classBody = body.slice(0, body.search(/\n}\n/));
      const name = /override readonly name = '(\w+)'/.exec(classBody)?.[1];
      if (name) classes.push({ name, transient: /override readonly transient = true/.test(classBody), file });
    }
  }
  return classes;
}

function transientErrorNames(): string[] {
  return errorClasses()
    .filter((error) => error.transient)
    .map((error) => error.name)
    .sort();
}

/** The edgekeeper error names the workflows list under `field` (Retry or Catch). */
function errorNamesIn(field: 'Retry' | 'Catch'): string[] {
  const names = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        if (key === field) {
          for (const clause of child as { ErrorEquals: string[] }[])
            for (const name of clause.ErrorEquals) names.add(name);
        }
        visit(child);
      }
    }
  };
  for (const file of listAslFiles()) visit(JSON.parse(file.text));
  // errors raised by AWS services or Step Functions itself are not edgekeeper's to classify
  return [...names].filter((name) => !/^(Lambda|States|StepFunctions)\./.test(name)).sort();
}

function retriedErrorNames(): string[] {
  return errorNamesIn('Retry');
}

describe('the error contract between steps and workflows', () => {
  it('gives every error class a name of its own, so a Retry or Catch by name means one thing', () => {
    const byName = new Map<string, string[]>();
    for (const error of errorClasses()) byName.set(error.name, [...(byName.get(error.name) ?? []), error.file]);
    const shared = [...byName]
      .filter(([, files]) => files.length > 1)
      .map(([name, files]) => `${name}: ${files.join(', ')}`);
    expect(shared).toEqual([]);
  });

  it('catches by name only errors some class throws, so a renamed class cannot silently disable a Catch', () => {
    const classes = errorClasses().map((error) => error.name);
    const unknown = errorNamesIn('Catch').filter((name) => !classes.includes(name));
    expect(unknown).toEqual([]);
  });

  it('retries exactly the errors whose class declares them transient', () => {
    expect(transientErrorNames()).toEqual(['HostOfflineError', 'TransientServiceError']);
    expect(retriedErrorNames()).toEqual(transientErrorNames());
  });
});
