import { DNS1123_SUBDOMAIN, MANAGED_LABEL_PREFIXES, type Rule } from './domain';

/*
 * The rules of a Kubernetes label, shared by the onboarding request's schema (schemas.ts) and the join script, which
 * checks the labels again before it writes them into a shell script; plain functions, so the script's step does not
 * build the request's schemas to use them (ADR 0016).
 */

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** A Kubernetes label key: optional DNS-1123 subdomain prefix (≤ 253) + `/` + name (≤ 63); managed prefixes refused. */
export const labelKeyRule: Rule<string> = (key) => {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined) {
    if (prefix.length === 0 || prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix)) {
      return 'is not a valid label key: the prefix must be a DNS-1123 subdomain of at most 253 characters';
    }
    const managed = MANAGED_LABEL_PREFIXES.find((managedPrefix) => `${prefix}/` === managedPrefix);
    if (managed) return `is not allowed: labels under ${managed} are managed by edgekeeper and KubeEdge`;
  }
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) {
    return 'is not a valid label key: the name must be 1-63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric';
  }
  return undefined;
};

/** A Kubernetes label value: empty, or ≤ 63 characters of `[A-Za-z0-9-_.]` starting and ending alphanumeric. */
export const labelValueRule: Rule<string> = (value) =>
  value === '' || (value.length <= 63 && LABEL_NAME.test(value))
    ? undefined
    : 'is not a valid label value: at most 63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric, or empty';
