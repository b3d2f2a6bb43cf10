import type { StatusCause } from './errors';
import type { ResourceType } from './resources';
import { isJsonObject, type KubeObject } from './types';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const NODE_SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'];
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** Types whose names are DNS-1123 labels rather than subdomains (the API server is stricter for these). */
const LABEL_NAMED = new Set(['namespaces', 'services']);

/**
 * The checks a real API server makes that matter to edgekeeper: object names, label keys and values, taints,
 * tolerations, and the shape of required node affinity (the workflow writes it into DaemonSets). It returns every
 * problem found, with the field path the API server would print; an empty list means valid.
 */
export function validate(type: ResourceType, object: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const add = (field: string, reason: string, message: string) => causes.push({ field, reason, message });
  const name = object.metadata.name ?? '';
  // RBAC and CRD names may hold ':' ('system:node') and the like; the API server only asks for a path segment.
  const rbac = type.group === 'rbac.authorization.k8s.io';
  if (name === '') add('metadata.name', 'FieldValueRequired', 'Required value: name or generateName is required');
  else if (rbac ? /[/%]|^\.\.?$/.test(name) : !nameIsValid(type, name)) {
    add(
      'metadata.name',
      'FieldValueInvalid',
      `Invalid value: "${name}": a lowercase RFC 1123 ${LABEL_NAMED.has(type.name) ? 'label' : 'subdomain'} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
    );
  }
  validateStringMap(object.metadata.labels, 'metadata.labels', true, add);
  validateStringMap(object.metadata.annotations, 'metadata.annotations', false, add);

  const spec = isJsonObject(object.spec) ? object.spec : {};
  if (type.kind === 'Node') validateTaints(spec.taints, 'spec.taints', add);
  if (type.kind === 'Pod') validatePodSpec(spec, 'spec', add);
  if (type.kind === 'DaemonSet' || type.kind === 'Deployment') {
    const template = isJsonObject(spec.template) ? spec.template : {};
    const metadata = isJsonObject(template.metadata) ? template.metadata : {};
    validateStringMap(metadata.labels, 'spec.template.metadata.labels', true, add);
    validatePodSpec(isJsonObject(template.spec) ? template.spec : {}, 'spec.template.spec', add);
    if (!isJsonObject(spec.selector)) add('spec.selector', 'FieldValueRequired', 'Required value');
  }
  return causes;
}

/** Go's `RFC3339Micro`, the one layout a real API server decodes a MicroTime with: exactly six fraction digits. */
const RFC3339_MICRO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/;
/** The MicroTime fields, by kind, of the objects edgekeeper writes. */
const MICRO_TIME_FIELDS: Readonly<Record<string, readonly string[]>> = { Lease: ['acquireTime', 'renewTime'] };

/**
 * Why the API server could not decode the object, before any validation: a MicroTime (a Lease's `acquireTime` and
 * `renewTime`) in any other form than six fraction digits, as JavaScript's `toISOString()` writes with three.
 * A real API server answers that with 400 and this message; undefined: decodable.
 */
export function decodeProblem(type: ResourceType, object: KubeObject): string | undefined {
  const spec = isJsonObject(object.spec) ? object.spec : {};
  for (const field of MICRO_TIME_FIELDS[type.kind] ?? []) {
    const value = spec[field];
    if (value === undefined || value === null || (typeof value === 'string' && RFC3339_MICRO.test(value))) continue;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    return (
      `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: parsing time "${text}" as ` +
      `"2006-01-02T15:04:05.000000Z07:00": cannot parse "${text.slice(19)}" as ".000000"`
    );
  }
  return undefined;
}

function nameIsValid(type: ResourceType, name: string): boolean {
  if (LABEL_NAMED.has(type.name)) return name.length <= 63 && DNS1123_LABEL.test(name);
  return name.length <= 253 && DNS1123_SUBDOMAIN.test(name);
}

type Add = (field: string, reason: string, message: string) => void;

function validateStringMap(map: unknown, path: string, labels: boolean, add: Add): void {
  if (map === undefined || map === null) return;
  if (!isJsonObject(map)) {
    add(path, 'FieldValueInvalid', 'Invalid value: must be a map of strings');
    return;
  }
  for (const [k, v] of Object.entries(map)) {
    if (!qualifiedNameIsValid(k)) {
      add(
        path,
        'FieldValueInvalid',
        `Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
      );
    }
    if (typeof v !== 'string') add(`${path}.${k}`, 'FieldValueInvalid', 'Invalid value: must be a string');
    else if (labels && (v.length > 63 || !LABEL_VALUE.test(v))) {
      add(
        path,
        'FieldValueInvalid',
        `Invalid value: "${v}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
      );
    }
  }
}

/** `prefix/name` with an optional DNS subdomain prefix and a name of at most 63 characters. */
export function qualifiedNameIsValid(key: string): boolean {
  const parts = key.split('/');
  if (parts.length > 2) return false;
  const name = parts[parts.length - 1];
  const prefix = parts.length === 2 ? parts[0] : undefined;
  if (prefix !== undefined && (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) return false;
  return name.length <= 63 && QUALIFIED_NAME.test(name);
}

function validateTaints(taints: unknown, path: string, add: Add): void {
  if (taints === undefined || taints === null) return;
  if (!Array.isArray(taints)) {
    add(path, 'FieldValueInvalid', 'Invalid value: must be a list');
    return;
  }
  taints.forEach((taint, i) => {
    const at = `${path}[${i}]`;
    if (!isJsonObject(taint)) {
      add(at, 'FieldValueInvalid', 'Invalid value: must be an object');
      return;
    }
    if (typeof taint.key !== 'string' || !qualifiedNameIsValid(taint.key)) {
      add(
        `${at}.key`,
        'FieldValueInvalid',
        `Invalid value: ${JSON.stringify(taint.key ?? '')}: must be a qualified name`,
      );
    }
    if (!TAINT_EFFECTS.includes(String(taint.effect))) {
      add(
        `${at}.effect`,
        taint.effect === undefined ? 'FieldValueRequired' : 'FieldValueNotSupported',
        taint.effect === undefined
          ? 'Required value'
          : `Unsupported value: ${JSON.stringify(taint.effect)}: supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"`,
      );
    }
  });
}

function validatePodSpec(spec: Record<string, unknown>, path: string, add: Add): void {
  validateTolerations(spec.tolerations, `${path}.tolerations`, add);
  const affinity = isJsonObject(spec.affinity) ? spec.affinity : {};
  const nodeAffinity = isJsonObject(affinity.nodeAffinity) ? affinity.nodeAffinity : {};
  const required = nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution;
  if (required === undefined || required === null) return;
  const at = `${path}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution`;
  if (!isJsonObject(required)) {
    add(at, 'FieldValueInvalid', 'Invalid value: must be an object');
    return;
  }
  const terms = required.nodeSelectorTerms;
  if (!Array.isArray(terms) || terms.length === 0) {
    add(`${at}.nodeSelectorTerms`, 'FieldValueRequired', 'Required value: must have at least one node selector term');
    return;
  }
  terms.forEach((term, t) => {
    const termAt = `${at}.nodeSelectorTerms[${t}]`;
    if (!isJsonObject(term)) {
      add(termAt, 'FieldValueInvalid', 'Invalid value: must be an object');
      return;
    }
    for (const list of ['matchExpressions', 'matchFields'] as const) {
      const expressions = term[list];
      if (expressions === undefined || expressions === null) continue;
      if (!Array.isArray(expressions)) {
        add(`${termAt}.${list}`, 'FieldValueInvalid', 'Invalid value: must be a list');
        continue;
      }
      for (const [e, expression] of expressions.entries()) {
        validateNodeSelectorRequirement(expression, `${termAt}.${list}[${e}]`, add);
      }
    }
  });
}

function validateNodeSelectorRequirement(expression: unknown, at: string, add: Add): void {
  if (!isJsonObject(expression)) {
    add(at, 'FieldValueInvalid', 'Invalid value: must be an object');
    return;
  }
  const { key, operator, values } = expression;
  if (typeof key !== 'string' || !qualifiedNameIsValid(key)) {
    add(`${at}.key`, 'FieldValueInvalid', `Invalid value: ${JSON.stringify(key ?? '')}: must be a qualified name`);
  }
  if (typeof operator !== 'string' || !NODE_SELECTOR_OPERATORS.includes(operator)) {
    add(
      `${at}.operator`,
      'FieldValueNotSupported',
      `Unsupported value: ${JSON.stringify(operator ?? '')}: supported values: "DoesNotExist", "Exists", "Gt", "In", "Lt", "NotIn"`,
    );
    return;
  }
  const list = Array.isArray(values) ? values : values === undefined || values === null ? [] : undefined;
  if (list === undefined) {
    add(`${at}.values`, 'FieldValueInvalid', 'Invalid value: must be a list of strings');
    return;
  }
  if ((operator === 'In' || operator === 'NotIn') && list.length === 0) {
    add(`${at}.values`, 'FieldValueRequired', "Required value: must be specified when `operator` is 'In' or 'NotIn'");
  }
  if ((operator === 'Exists' || operator === 'DoesNotExist') && list.length > 0) {
    add(
      `${at}.values`,
      'FieldValueForbidden',
      "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
    );
  }
  if ((operator === 'Gt' || operator === 'Lt') && (list.length !== 1 || !/^-?\d+$/.test(String(list[0])))) {
    add(
      `${at}.values`,
      'FieldValueRequired',
      "Required value: must be specified single value when `operator` is 'Lt' or 'Gt'",
    );
  }
}

function validateTolerations(tolerations: unknown, path: string, add: Add): void {
  if (tolerations === undefined || tolerations === null) return;
  if (!Array.isArray(tolerations)) {
    add(path, 'FieldValueInvalid', 'Invalid value: must be a list');
    return;
  }
  tolerations.forEach((toleration, i) => {
    const at = `${path}[${i}]`;
    if (!isJsonObject(toleration)) {
      add(at, 'FieldValueInvalid', 'Invalid value: must be an object');
      return;
    }
    const { key, operator = 'Equal', value, effect } = toleration;
    if (key !== undefined && key !== '' && (typeof key !== 'string' || !qualifiedNameIsValid(key))) {
      add(`${at}.key`, 'FieldValueInvalid', `Invalid value: ${JSON.stringify(key)}: must be a qualified name`);
    }
    if ((key === undefined || key === '') && operator !== 'Exists') {
      add(
        `${at}.operator`,
        'FieldValueInvalid',
        `Invalid value: ${JSON.stringify(operator)}: operator must be Exists when \`key\` is empty, which means "match all values and all keys"`,
      );
    }
    if (operator !== 'Exists' && operator !== 'Equal') {
      add(
        `${at}.operator`,
        'FieldValueNotSupported',
        `Unsupported value: ${JSON.stringify(operator)}: supported values: "Equal", "Exists"`,
      );
    }
    if (operator === 'Exists' && value !== undefined && value !== '') {
      add(
        `${at}.operator`,
        'FieldValueInvalid',
        'Invalid value: "Exists": value must be empty when `operator` is \'Exists\'',
      );
    }
    if (effect !== undefined && effect !== '' && !TAINT_EFFECTS.includes(String(effect))) {
      add(
        `${at}.effect`,
        'FieldValueNotSupported',
        `Unsupported value: ${JSON.stringify(effect)}: supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"`,
      );
    }
  });
}
