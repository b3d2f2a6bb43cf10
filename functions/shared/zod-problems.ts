import { formatProblem, type Problem } from './errors';
import type * as z from './zod';

/*
 * zod issues as edgekeeper problems (field, value, reason), apart from the schemas: every step's wrapper turns the
 * issues of its input into problems, and importing the onboarding schemas for that would build them all in every
 * step at load (ADR 0016).
 */

/**
 * Turns zod issues into edgekeeper problems (field, value, reason), reading the value out of the original input so
 * the message shows what the caller sent.
 */
export function problemsFromIssues(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  /** what the whole value is called when it is wrong as a whole */
  subject = 'request',
): Problem[] {
  return issues.flatMap((issue): Problem[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        field: [...issue.path, key].join('.'),
        value: undefined,
        reason: 'is not a known field',
      }));
    }
    const params = issue.code === 'custom' ? (issue.params as Record<string, unknown> | undefined) : undefined;
    const field = typeof params?.field === 'string' ? params.field : issue.path.map(String).join('.');
    const value = params && 'value' in params ? params.value : valueAt(input, issue.path);
    const reason = typeof params?.reason === 'string' ? params.reason : stripSubject(issue.message, field, value);
    return [{ field: field === '' ? subject : field, value, reason }];
  });
}

/** Messages built with `formatProblem` already start with `<field> <value>`; keep only the reason. */
function stripSubject(message: string, field: string, value: unknown): string {
  const subject = formatProblem({ field, value, reason: '' });
  if (message.startsWith(subject)) return message.slice(subject.length);
  const leaf = field.split('.').at(-1) ?? field;
  const leafSubject = formatProblem({ field: leaf, value, reason: '' });
  if (message.startsWith(leafSubject)) return message.slice(leafSubject.length);
  return message;
}

/** The value at a zod issue's path in the original input: what the caller actually sent. */
export function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
