import { createHash } from 'node:crypto';
import { z } from 'zod';
import { SsmServiceError } from './ssm-errors';

/** One parameter of the sandbox's Parameter Store. */
export interface StoredParameter {
  readonly name: string;
  readonly type: 'String' | 'StringList' | 'SecureString';
  readonly value: string;
  readonly version: number;
  readonly tier: 'Standard' | 'Advanced';
  readonly lastModified: Date;
  /** from an Expiration policy: SSM deletes the parameter at this time */
  readonly expiresAt?: Date;
}

/** The longest value of a Standard-tier parameter, in characters. */
const STANDARD_LIMIT = 4096;

/** Names as SSM takes them: letters, digits, `_.-/`; a path starts with `/`; no `aws`/`ssm` prefix. */
const NAME = /^(?!\/?(aws|ssm))[A-Za-z0-9_.\-/]{1,1011}$/i;
const POLICIES = z.array(
  z.object({ Type: z.string(), Version: z.string(), Attributes: z.record(z.string(), z.string()) }),
);

function checkName(name: string): void {
  if (!NAME.test(name) || (name.includes('/') && !name.startsWith('/'))) {
    throw new SsmServiceError('ValidationException', `Parameter name ${JSON.stringify(name)} is not valid`);
  }
}

/** When an Expiration policy (the only kind the sandbox understands) deletes the parameter. */
function expiryOf(policies: string | undefined, tier: StoredParameter['tier']): Date | undefined {
  if (policies === undefined) return undefined;
  let parsed: z.infer<typeof POLICIES>;
  try {
    parsed = POLICIES.parse(JSON.parse(policies));
  } catch {
    throw new SsmServiceError('InvalidPolicyAttributeException', 'Policies is not a JSON list of policies');
  }
  if (parsed.length && tier !== 'Advanced') {
    throw new SsmServiceError('IncompatiblePolicyException', 'parameter policies need the Advanced tier');
  }
  const expiration = parsed.find((p) => p.Type === 'Expiration');
  const timestamp = expiration?.Attributes.Timestamp;
  if (timestamp === undefined) return undefined;
  const at = new Date(timestamp);
  if (Number.isNaN(at.getTime())) {
    throw new SsmServiceError('InvalidPolicyAttributeException', `Expiration Timestamp ${timestamp} is not a date`);
  }
  return at;
}

/**
 * The sandbox's Parameter Store: PutParameter, GetParameter(s) and DeleteParameter with SSM's rules for what
 * edgekeeper uses (SecureString values come back only WithDecryption; an Expiration policy deletes the parameter
 * when its time has come; Overwrite is needed to replace one). Values live in memory only, never on disk or in
 * a log, like SSM's encrypted values.
 */
export class ParameterStore {
  private readonly parameters = new Map<string, StoredParameter>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  put(input: {
    name: string;
    value: string;
    type?: StoredParameter['type'];
    overwrite?: boolean;
    /** Intelligent-Tiering: Standard unless the value, the policies or the parameter itself need Advanced */
    tier?: StoredParameter['tier'] | 'Intelligent-Tiering';
    policies?: string;
  }): StoredParameter {
    checkName(input.name);
    const existing = this.get(input.name);
    if (existing && !input.overwrite) {
      throw new SsmServiceError('ParameterAlreadyExists', `The parameter ${input.name} already exists.`);
    }
    const type = input.type ?? existing?.type;
    if (!type) throw new SsmServiceError('ValidationException', 'Type is required for a new parameter');
    const tier =
      input.tier === 'Intelligent-Tiering'
        ? input.value.length > STANDARD_LIMIT || input.policies !== undefined || existing?.tier === 'Advanced'
          ? 'Advanced'
          : 'Standard'
        : (input.tier ?? 'Standard');
    const limit = tier === 'Advanced' ? 8192 : STANDARD_LIMIT;
    if (input.value.length === 0 || input.value.length > limit) {
      throw new SsmServiceError('ValidationException', `Value must be 1-${limit} characters in the ${tier} tier`);
    }
    const expiresAt = expiryOf(input.policies, tier);
    const stored: StoredParameter = {
      name: input.name,
      type,
      value: input.value,
      version: (existing?.version ?? 0) + 1,
      tier,
      lastModified: this.now(),
      ...(expiresAt ? { expiresAt } : {}),
    };
    this.parameters.set(input.name, stored);
    return stored;
  }

  /** The parameter, or undefined when there is none (or its Expiration policy deleted it). */
  get(name: string): StoredParameter | undefined {
    const parameter = this.parameters.get(name);
    if (parameter?.expiresAt && parameter.expiresAt.getTime() <= this.now().getTime()) {
      this.parameters.delete(name);
      return undefined;
    }
    return parameter;
  }

  /** @throws SsmServiceError ParameterNotFound when there is none */
  delete(name: string): void {
    if (!this.get(name)) throw new SsmServiceError('ParameterNotFound', `Parameter ${name} not found.`);
    this.parameters.delete(name);
  }

  /** The names of the parameters that exist now (for tests and the leak scan). */
  names(): string[] {
    return [...this.parameters.keys()].filter((name) => this.get(name) !== undefined).sort();
  }
}

/**
 * GetParameter's value: a SecureString read without decryption is its ciphertext, never the value (the sandbox's
 * stand-in for a KMS ciphertext is a digest, which cannot be turned back into the value).
 */
export function visibleValue(parameter: StoredParameter, withDecryption: boolean): string {
  if (parameter.type !== 'SecureString' || withDecryption) return parameter.value;
  return `AQICAH${createHash('sha256').update(`${parameter.name}\0${parameter.version}`).digest('base64')}`;
}

/** `{{ssm:NAME}}` as the SSM agent finds it in a command's parameters (`agent/parameterstore`). */
const AGENT_REFERENCE = /\{\{ *ssm:([/\w.-]+) *\}\}/g;

/**
 * The commands as the agent runs them on the host: `{{ssm:NAME}}` replaced by a String or StringList parameter's
 * value, read with the host's credentials, while the command's Parameters (ListCommands) keep the reference. As the
 * agent does, a reference to a SecureString fails the command ("of type SecureString are not supported"), so does
 * one to a missing parameter; `{{ssm-secure:NAME}}` is not resolved in a shell script at all (only plugins that
 * take credentials resolve it) and reaches the shell as it is. Why edgekeeper's join reads its token with
 * `aws ssm get-parameter` instead: docs/adr/0004-join-token-handling.md.
 */
export function resolveAgentReferences(commands: readonly string[], store: ParameterStore): string[] {
  const names = [...new Set(commands.flatMap((line) => [...line.matchAll(AGENT_REFERENCE)].map((m) => m[1] ?? '')))];
  if (names.length === 0) return [...commands];
  const missing = names.filter((name) => !store.get(name));
  if (missing.length) return agentFailure(`Input contains invalid parameters [${missing.join(' ')}]`);
  const secure = names.filter((name) => store.get(name)?.type === 'SecureString');
  if (secure.length) return agentFailure(`Parameters [${secure.join(' ')}] of type SecureString are not supported`);
  return commands.map((line) => line.replace(AGENT_REFERENCE, (_match, name: string) => store.get(name)?.value ?? ''));
}

/** What the host runs when the agent refused the command's references: the agent's error, and failure. */
function agentFailure(message: string): string[] {
  return [`echo '${message.replace(/'/g, `'\\''`)}' >&2`, 'exit 1'];
}
