import { EdgekeeperError } from '../errors';

/**
 * Host scripts are real, runnable files whose settings sit in one block between these markers, filled with
 * example values. Rendering replaces the block with the real values, each shell-quoted; nothing else changes.
 */
export const VALUES_BEGIN = '# edgekeeper:values:begin';
export const VALUES_END = '# edgekeeper:values:end';

/** A template without a values block, or a rendering that does not assign exactly the template's names. */
export class ScriptTemplateError extends EdgekeeperError {
  override readonly name = 'ScriptTemplateError';
}

/** Words that mean the same quoted or not, left bare for readability (commas quoted: shellcheck SC2054 in arrays). */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:./-]+$/;

/**
 * Quotes one word for bash (and POSIX sh): the result expands to exactly `value`. Single quotes keep everything
 * literal; an embedded `'` becomes `'\''`. NUL cannot be passed to a shell at all, so it is refused.
 * @throws ScriptTemplateError for a value containing NUL
 */
export function shellQuote(value: string): string {
  if (value.includes('\0')) throw new ScriptTemplateError('a shell word cannot contain NUL');
  if (SAFE_WORD.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** `name=value`, quoted. */
export function assign(name: string, value: string): string {
  return `${name}=${shellQuote(value)}`;
}

/** `name=(a b c)`, each element quoted. */
export function assignArray(name: string, values: readonly string[]): string {
  return `${name}=(${values.map(shellQuote).join(' ')})`;
}

/** Names assigned in a values block, in order. */
export function valueNames(lines: readonly string[]): string[] {
  return lines.flatMap((line) => {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(line);
    return match?.[1] ? [match[1]] : [];
  });
}

/**
 * The template with its values block replaced by `lines` (assignments and comments). The template and the
 * renderer must assign the same names in the same order, or the script would run with an example value.
 * @throws ScriptTemplateError
 */
export function withValues(template: string, scriptName: string, lines: readonly string[]): string {
  const all = template.split('\n');
  const start = all.indexOf(VALUES_BEGIN);
  const end = all.indexOf(VALUES_END);
  if (start < 0 || end < start)
    throw new ScriptTemplateError(`${scriptName} has no ${VALUES_BEGIN} … ${VALUES_END} block`);
  const expected = valueNames(all.slice(start, end)).join(' ');
  const rendered = valueNames(lines).join(' ');
  if (expected !== rendered) {
    throw new ScriptTemplateError(`${scriptName}: template values (${expected}) differ from rendered (${rendered})`);
  }
  return [...all.slice(0, start + 1), ...lines, ...all.slice(end)].join('\n');
}
