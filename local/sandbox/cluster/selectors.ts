import { badRequest } from './errors';
import type { KubeObject } from './types';

/** One requirement of a label selector, in the API server's own terms. */
export interface LabelRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values: readonly string[];
}

/**
 * Parses a `labelSelector` query string: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`,
 * comma-separated (commas inside parentheses belong to the set).
 */
export function parseLabelSelector(selector: string): LabelRequirement[] {
  return splitTopLevel(selector).map((term) => {
    let m = /^!\s*([^\s=!()]+)$/.exec(term);
    if (m) return { key: m[1], operator: 'DoesNotExist', values: [] };
    m = /^([^\s=!()]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
    if (m) {
      const values = m[3]
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');
      return { key: m[1], operator: m[2] === 'in' ? 'In' : 'NotIn', values };
    }
    m = /^([^\s=!()]+)\s*(==|=|!=)\s*([^\s=!(),]*)$/.exec(term);
    if (m) return { key: m[1], operator: m[2] === '!=' ? 'NotIn' : 'In', values: [m[3]] };
    m = /^([^\s=!()]+)$/.exec(term);
    if (m) return { key: m[1], operator: 'Exists', values: [] };
    throw badRequest(`unable to parse requirement: ${term}`);
  });
}

/** True when the labels satisfy every requirement. */
export function matchesLabels(requirements: readonly LabelRequirement[], labels: Record<string, string> = {}): boolean {
  return requirements.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    switch (r.operator) {
      case 'In':
        return has && r.values.includes(labels[r.key]);
      case 'NotIn':
        return !has || !r.values.includes(labels[r.key]);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
    }
    return false;
  });
}

/** A `metav1.LabelSelector` object (matchLabels + matchExpressions) as requirements. */
export function labelSelectorRequirements(selector: unknown): LabelRequirement[] {
  if (typeof selector !== 'object' || selector === null) return [];
  const { matchLabels = {}, matchExpressions = [] } = selector as {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: LabelRequirement['operator']; values?: string[] }[];
  };
  return [
    ...Object.entries(matchLabels).map(([k, v]): LabelRequirement => ({ key: k, operator: 'In', values: [v] })),
    ...matchExpressions.map((e): LabelRequirement => ({ key: e.key, operator: e.operator, values: e.values ?? [] })),
  ];
}

/** One term of a `fieldSelector`: `path=value`, `path==value` or `path!=value`. */
export interface FieldRequirement {
  readonly path: string;
  readonly equal: boolean;
  readonly value: string;
}

/** Parses a `fieldSelector` query string such as `involvedObject.name=x,involvedObject.namespace=y`. */
export function parseFieldSelector(selector: string): FieldRequirement[] {
  return splitTopLevel(selector).map((term) => {
    const m = /^([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid field selector: ${term}`);
    return { path: m[1], equal: m[2] !== '!=', value: m[3] };
  });
}

/** True when every field term holds; a missing field reads as the empty string, as in the API server. */
export function matchesFields(requirements: readonly FieldRequirement[], object: KubeObject): boolean {
  return requirements.every((r) => (fieldValue(object, r.path) === r.value) === r.equal);
}

function fieldValue(object: KubeObject, path: string): string {
  let value: unknown = object;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null) return '';
    value = (value as Record<string, unknown>)[part];
  }
  return value === undefined || value === null ? '' : String(value);
}

function splitTopLevel(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth += 1;
    if (ch === ')') depth -= 1;
    if (ch === ',' && depth === 0) {
      terms.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  terms.push(current);
  return terms.map((t) => t.trim()).filter((t) => t !== '');
}
