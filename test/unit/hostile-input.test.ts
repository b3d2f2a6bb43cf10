import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { LockStepInput } from '../../functions/lock-node/input';
import { existingNodeNameRule, instanceIdRule, ipv4Rule } from '../../functions/shared/domain';
import { InvalidRequestError, type Problem } from '../../functions/shared/errors';
import { InvalidJoinSettingsError, renderHostScript } from '../../functions/shared/join-script';
import type { JoinSettings } from '../../functions/shared/join-settings/schema';
import { joinPlanFor } from '../../functions/shared/keadm/profiles';
import { parseExecutionArn } from '../../functions/shared/node-lock';
import { parseRemoveNodeInput } from '../../functions/shared/remove-input';
import { renderResetScript } from '../../functions/shared/reset-script';
import { OnboardRequest } from '../../functions/shared/schemas';
import { script as resetTemplate } from '../../functions/shared/scripts/generated/reset-edge-node';
import {
  assign,
  assignArray,
  ScriptTemplateError,
  VALUES_BEGIN,
  VALUES_END,
} from '../../functions/shared/scripts/values-block';
import { problemsFromIssues } from '../../functions/shared/zod-problems';
import { validateOnboardRequest } from '../../functions/validate-onboard-request/core';
import { checkExecutionNameFlag, checkOnboardFlags, checkRemoveFlags } from '../../local/cli/flags';
import { shown, UsageError } from '../../local/cli/io';
import { onboardArn } from './onboard/fake-leases';
import { healthyCluster, settingsFor } from './onboard/fixtures';

/*
 * Hostile input at scale: every input schema (onboarding request, removal/uninstall input, lock input, CLI flags),
 * the validator and the host-script renderers get generated values built to break a shell or a parser. Each case
 * must be refused with a field-level problem (the field, the value as sent, a reason), or be accepted and then, once
 * rendered into a host script, read back by a real bash as exactly the bytes that were given. The bash checks are
 * batched: one bash process reads every accepted case of a property.
 */

/** Pieces that mean something to bash, to a flag parser or to a terminal. */
const SHELL_PIECES = [
  ';',
  '|',
  '&',
  '&&',
  '$(id)',
  '$(reboot)',
  '`id`',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash expansion, as an attacker would send it
  '${IFS}',
  '$IFS',
  '$HOME',
  '\n',
  '\r',
  '\t',
  ' ',
  "'",
  '"',
  "'\\''",
  '\\',
  '\0',
  '*',
  '?',
  '[a]',
  '~',
  '{a,b}',
  '>',
  '<',
  '#',
  '!',
  '=',
  '%',
  '/',
  '..',
  '\x1b[31m',
  '\u0085',
];

/** Characters that look like the ones a valid value uses (Cyrillic, full-width, dots, hyphens, digits, invisible). */
const LOOK_ALIKES = [
  '\u0430',
  '\u0435',
  '\u043e',
  '\u0456',
  '\uff0e',
  '\u2024',
  '\u3002',
  '\u2010',
  '\u2011',
  '\u2212',
  '\uff10',
  '\u0661',
  '\u{1d7cf}',
  '\u200b',
  '\u200d',
  '\u202e',
  '\ufeff',
  '\u0131',
  '\u017f',
  '\u212a',
];

const FLAG_INJECTIONS = [
  ' --token x',
  ' --token=x',
  ' -t x',
  ' --cloudcore-ipport=203.0.113.66:10000',
  ' --force',
  '--',
];

const piece = fc.constantFrom(...SHELL_PIECES, ...LOOK_ALIKES, ...FLAG_INJECTIONS);

/** Values around a valid one: injected, substituted, random, overlong, or a flag smuggled after it. */
function hostile(valid: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc
      .tuple(fc.nat(valid.length), fc.array(piece, { minLength: 1, maxLength: 4 }))
      .map(([at, pieces]) => valid.slice(0, at) + pieces.join('') + valid.slice(at)),
    fc
      .tuple(fc.nat(Math.max(valid.length - 1, 0)), fc.constantFrom(...LOOK_ALIKES))
      .map(([at, lookAlike]) => valid.slice(0, at) + lookAlike + valid.slice(at + 1)),
    fc.array(piece, { minLength: 1, maxLength: 6 }).map((pieces) => pieces.join('')),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.integer({ min: 60, max: 5000 }).map((n) => valid + 'a'.repeat(n)),
    fc.constantFrom(...FLAG_INJECTIONS).map((flag) => `${valid}${flag}`),
    fc.constant(''),
  );
}

let cases = 0;
/** accepted cases whose rendering bash read back */
let bashChecked = 0;

/** The problem about `field` that names `value` as sent and gives a reason; fails the test when there is none. */
function expectFieldProblem(problems: readonly Problem[], field: string, value: unknown): void {
  const about = problems.find((p) => p.field === field && Object.is(p.value, value));
  expect({ problems, field, value, found: about !== undefined }).toEqual({ problems, field, value, found: true });
  expect(about?.reason).toMatch(/\S/);
}

// --- bash, for real ---------------------------------------------------------------------------------------------

interface BashCase {
  /** the values block of a rendered script */
  readonly block: string;
  /** variable name → the exact value bash must hold */
  readonly scalars: Readonly<Record<string, string>>;
  /** array name → the exact elements */
  readonly arrays: Readonly<Record<string, readonly string[]>>;
}

function valuesBlock(script: string): string {
  const lines = script.split('\n');
  return lines.slice(lines.indexOf(VALUES_BEGIN) + 1, lines.indexOf(VALUES_END)).join('\n');
}

/**
 * Runs every case's values block in one bash and reads back each variable, NUL-separated, as bytes. Any command the
 * block runs (an injection) has no PATH to find and reports itself on stderr.
 */
function checkWithBash(batch: readonly BashCase[]): void {
  if (batch.length === 0) return;
  bashChecked += batch.length;
  const script = [
    'command_not_found_handle() { printf "INJECTED %s\\n" "$1" >&2; return 127; }',
    'PATH=/nonexistent',
    ...batch.flatMap((c, index) => [
      c.block,
      `printf 'case %s\\0' ${index}`,
      ...Object.keys(c.scalars).map((name) => `printf '%s\\0' "$${name}"`),
      ...Object.keys(c.arrays).map((name) => `printf '%s\\0' "\${#${name}[@]}" "\${${name}[@]}"`),
    ]),
  ].join('\n');
  // the script on stdin (it can outgrow an argument), no startup files, a bare environment
  const run = spawnSync('bash', ['--norc', '--noprofile', '-s'], {
    input: script,
    env: { LC_ALL: 'C' },
    maxBuffer: 256 * 1024 * 1024,
  });
  expect({ error: run.error, status: run.status, stderr: run.stderr?.toString() }).toEqual({
    error: undefined,
    status: 0,
    stderr: '',
  });
  const fields: Buffer[] = [];
  let start = 0;
  for (let at = run.stdout.indexOf(0); at >= 0; at = run.stdout.indexOf(0, start)) {
    fields.push(run.stdout.subarray(start, at));
    start = at + 1;
  }
  let next = 0;
  batch.forEach((c, index) => {
    const expected = [
      `case ${index}`,
      ...Object.values(c.scalars),
      ...Object.values(c.arrays).flatMap((elements) => [String(elements.length), ...elements]),
    ].map((text) => Buffer.from(text, 'utf8'));
    const actual = fields.slice(next, next + expected.length);
    next += expected.length;
    const same = actual.length === expected.length && actual.every((bytes, i) => bytes.equals(expected[i] as Buffer));
    if (!same) {
      expect({ case: c, bash: actual.map((b) => b.toString('utf8')) }).toEqual({
        case: c,
        bash: expected.map((b) => b.toString('utf8')),
      });
    }
  });
  expect(next).toBe(fields.length);
}

function joinCase(settings: JoinSettings): BashCase {
  return {
    block: valuesBlock(renderHostScript(settings)),
    scalars: {
      node_name: settings.nodeName,
      node_ip: settings.nodeIp,
      kubeedge_version: settings.version,
      download_url_template: settings.downloadUrl,
      cloudcore_address: settings.cloudcore.address,
    },
    arrays: { keadm_join_args: joinPlanFor(settings).args },
  };
}

function resetCase(nodeName: string, instanceId: string, forceHost: string | undefined): BashCase {
  const options = {
    nodeName,
    instanceId,
    forceHost,
    profile: 'fork',
    version: 'v1.6.1',
    keadmTimeoutSeconds: 300,
  } as const;
  return {
    block: valuesBlock(renderResetScript(resetTemplate, options)),
    scalars: { NODE_NAME: nodeName, INSTANCE_ID: instanceId, FORCE_HOST: forceHost ?? '' },
    arrays: {},
  };
}

// --- the inputs -------------------------------------------------------------------------------------------------

const VALID = {
  nodeName: 'edge-01',
  nodeIp: '192.168.10.21',
  instanceId: 'mi-0123456789abcdef0',
  version: 'v1.6.1',
  label: 'site-a',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal placeholder the host script fills in
  url: 'https://example.com/keadm-${arch}.tar.gz',
  address: '203.0.113.9',
  arn: onboardArn('op-1'),
};

const BASE_REQUEST = { nodeName: VALID.nodeName, nodeIp: VALID.nodeIp, instanceId: VALID.instanceId };

/** An onboarding request with one field replaced; where the problem must point; how an accepted one renders. */
const ONBOARD_FIELDS: readonly {
  readonly field: string;
  readonly valid: string;
  readonly request: (value: string) => Record<string, unknown>;
  readonly problemField: (value: string) => string;
}[] = [
  {
    field: 'nodeName',
    valid: VALID.nodeName,
    request: (v) => ({ ...BASE_REQUEST, nodeName: v }),
    problemField: () => 'nodeName',
  },
  {
    field: 'nodeIp',
    valid: VALID.nodeIp,
    request: (v) => ({ ...BASE_REQUEST, nodeIp: v }),
    problemField: () => 'nodeIp',
  },
  {
    field: 'instanceId',
    valid: VALID.instanceId,
    request: (v) => ({ ...BASE_REQUEST, instanceId: v }),
    problemField: () => 'instanceId',
  },
  {
    field: 'kubeedgeVersion',
    valid: VALID.version,
    request: (v) => ({ ...BASE_REQUEST, kubeedgeVersion: v }),
    problemField: () => 'kubeedgeVersion',
  },
  { field: 'region', valid: 'zh', request: (v) => ({ ...BASE_REQUEST, region: v }), problemField: () => 'region' },
  {
    field: 'labels key',
    valid: 'site',
    request: (v) => ({ ...BASE_REQUEST, labels: { [v]: VALID.label } }),
    problemField: () => 'labels',
  },
  {
    field: 'labels value',
    valid: VALID.label,
    request: (v) => ({ ...BASE_REQUEST, labels: { site: v } }),
    problemField: () => 'labels.site',
  },
];

describe('hostile input', () => {
  it.each(ONBOARD_FIELDS)(
    'onboarding request $field: schema and validator refuse naming the field, or it renders byte for byte',
    (spec) => {
      const accepted: BashCase[] = [];
      fc.assert(
        fc.property(hostile(spec.valid), fc.constantFrom('v1.6.1', 'v1.13.0'), (value, version) => {
          cases += 1;
          const request = spec.request(value);
          const parsed = OnboardRequest.safeParse(request);
          if (!parsed.success) {
            expectFieldProblem(problemsFromIssues(parsed.error.issues, request), spec.problemField(value), value);
          }
          // the validate step, against a cluster where everything else holds
          let decision: ReturnType<typeof validateOnboardRequest>;
          try {
            decision = validateOnboardRequest(request, healthyCluster());
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidRequestError);
            expectFieldProblem((error as InvalidRequestError).problems, spec.problemField(value), value);
            return;
          }
          // accepted: nothing was changed on the way in, and the host script carries it exactly
          expect(parsed.success).toBe(true);
          expect(decision.request).toMatchObject(request);
          const { nodeName, nodeIp, labels } = decision.request;
          accepted.push(joinCase(settingsFor(version, { nodeName, nodeIp, labels })));
        }),
        { numRuns: 400 },
      );
      checkWithBash(accepted);
    },
  );

  const RENDER_FIELDS: readonly {
    readonly field: string;
    readonly valid: string;
    readonly settings: (value: string, version: string) => JoinSettings;
  }[] = [
    { field: 'nodeName', valid: VALID.nodeName, settings: (v, ver) => settingsFor(ver, { nodeName: v }) },
    { field: 'nodeIp', valid: VALID.nodeIp, settings: (v, ver) => settingsFor(ver, { nodeIp: v }) },
    { field: 'version', valid: VALID.version, settings: (v, ver) => ({ ...settingsFor(ver), version: v }) },
    { field: 'downloadUrl', valid: VALID.url, settings: (v, ver) => settingsFor(ver, { downloadUrl: v }) },
    {
      field: 'cloudcore.address',
      valid: VALID.address,
      settings: (v, ver) => {
        const base = settingsFor(ver);
        return { ...base, cloudcore: { ...base.cloudcore, address: v } };
      },
    },
    { field: 'labels key', valid: 'site', settings: (v, ver) => settingsFor(ver, { labels: { [v]: 'a' } }) },
    { field: 'labels.site', valid: VALID.label, settings: (v, ver) => settingsFor(ver, { labels: { site: v } }) },
  ];

  it.each(RENDER_FIELDS)(
    'join script renderer $field: refused naming the field, or bash reads the same bytes',
    (spec) => {
      const accepted: BashCase[] = [];
      fc.assert(
        fc.property(hostile(spec.valid), fc.constantFrom('v1.6.1', 'v1.13.0'), (value, version) => {
          cases += 1;
          const settings = spec.settings(value, version);
          let rendered: BashCase;
          try {
            rendered = joinCase(settings);
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidJoinSettingsError);
            expect((error as Error).message.startsWith(`${spec.field} ${JSON.stringify(value)} `)).toBe(true);
            return;
          }
          accepted.push(rendered);
        }),
        { numRuns: 250 },
      );
      checkWithBash(accepted);
    },
  );

  it('shell quoting of the renderers: bash reads any value without NUL as one word of the same bytes', () => {
    const batch: BashCase[] = [];
    const word = fc.oneof(hostile(VALID.url), hostile(VALID.nodeName), fc.string({ unit: 'binary', maxLength: 200 }));
    fc.assert(
      fc.property(word, fc.array(word, { maxLength: 4 }), (value, elements) => {
        cases += 1;
        if ([value, ...elements].some((text) => text.includes('\0'))) {
          expect(() => assign('v', value + elements.join(''))).toThrow(ScriptTemplateError);
          return;
        }
        batch.push({
          block: [assign('v', value), assignArray('a', elements)].join('\n'),
          scalars: { v: value },
          arrays: { a: elements },
        });
      }),
      { numRuns: 800 },
    );
    checkWithBash(batch);
  });

  const BASE_REMOVE = { mode: 'remove', nodeName: VALID.nodeName, instanceId: VALID.instanceId };
  const REMOVE_FIELDS: readonly {
    readonly field: string;
    readonly valid: string;
    readonly input: (value: string) => Record<string, unknown>;
  }[] = [
    { field: 'nodeName', valid: VALID.nodeName, input: (v) => ({ ...BASE_REMOVE, nodeName: v }) },
    { field: 'instanceId', valid: VALID.instanceId, input: (v) => ({ ...BASE_REMOVE, instanceId: v }) },
    { field: 'nodeIp', valid: VALID.nodeIp, input: (v) => ({ ...BASE_REMOVE, nodeIp: v }) },
    { field: 'forceHost', valid: VALID.instanceId, input: (v) => ({ ...BASE_REMOVE, forceHost: v }) },
    { field: 'mode', valid: 'rollback', input: (v) => ({ ...BASE_REMOVE, mode: v }) },
    { field: 'release', valid: 'kubeedge', input: (v) => ({ mode: 'uninstall', release: v }) },
  ];

  it.each(REMOVE_FIELDS)(
    'remove-node input $field: refused naming the field, or reset script byte for byte',
    (spec) => {
      const accepted: BashCase[] = [];
      fc.assert(
        fc.property(hostile(spec.valid), (value) => {
          cases += 1;
          const input = spec.input(value);
          let parsed: ReturnType<typeof parseRemoveNodeInput>;
          try {
            parsed = parseRemoveNodeInput(input);
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidRequestError);
            expectFieldProblem((error as InvalidRequestError).problems, spec.field, value);
            return;
          }
          if (parsed.mode === 'uninstall') {
            // a release name reaches only the Kubernetes API, never a shell: it must be Helm's grammar exactly
            expect(parsed.release).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
            return;
          }
          expect(parsed).toMatchObject(input);
          accepted.push(resetCase(parsed.nodeName, parsed.instanceId ?? VALID.instanceId, parsed.forceHost));
        }),
        { numRuns: 300 },
      );
      checkWithBash(accepted);
    },
  );

  const BASE_LOCK = {
    operationId: 'op-1',
    executionId: VALID.arn,
    purpose: 'remove',
    nodeName: VALID.nodeName,
    instanceId: VALID.instanceId,
    nodeIp: VALID.nodeIp,
  };
  /** What an accepted value must satisfy: the lock accepts nothing the workflows' own inputs would refuse. */
  const LOCK_FIELDS: readonly {
    readonly field: string;
    readonly valid: string;
    readonly rule: (v: string) => boolean;
  }[] = [
    { field: 'nodeName', valid: VALID.nodeName, rule: (v) => existingNodeNameRule(v) === undefined },
    { field: 'instanceId', valid: VALID.instanceId, rule: (v) => instanceIdRule(v) === undefined },
    { field: 'nodeIp', valid: VALID.nodeIp, rule: (v) => ipv4Rule(v) === undefined },
    {
      field: 'executionId',
      valid: VALID.arn,
      rule: (v) => !/[\s\p{Cc}]/u.test(v) && parseExecutionArn(v) !== null,
    },
    { field: 'purpose', valid: 'remove', rule: (v) => ['onboard', 'remove', 'uninstall'].includes(v) },
  ];

  it.each(LOCK_FIELDS)('lock input $field: refused naming the field, or a value the workflows accept', (spec) => {
    fc.assert(
      fc.property(hostile(spec.valid), (value) => {
        cases += 1;
        const input = { ...BASE_LOCK, [spec.field]: value };
        const parsed = LockStepInput.safeParse(input);
        if (!parsed.success) {
          expectFieldProblem(problemsFromIssues(parsed.error.issues, input, 'input'), spec.field, value);
          return;
        }
        expect({ value, accepted: spec.rule(value) }).toEqual({ value, accepted: true });
      }),
      { numRuns: 300 },
    );
  });

  /** The CLI names the flag the user typed and shows the value as given. */
  function expectFlagProblem(run: () => void, flag: string, value: string): boolean {
    try {
      run();
      return false;
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      expect((error as Error).message).toContain(`${flag} ${shown(value)}`);
      return true;
    }
  }

  const ONBOARD_FLAGS: readonly { readonly flag: string; readonly field: string; readonly valid: string }[] = [
    { flag: '--name', field: 'nodeName', valid: VALID.nodeName },
    { flag: '--ip', field: 'nodeIp', valid: VALID.nodeIp },
    { flag: '--instance', field: 'instanceId', valid: VALID.instanceId },
    { flag: '--kubeedge-version', field: 'kubeedgeVersion', valid: VALID.version },
  ];

  it.each(ONBOARD_FLAGS)('CLI onboard $flag: a usage error naming the flag, or what the workflow accepts', (spec) => {
    fc.assert(
      fc.property(hostile(spec.valid), (value) => {
        cases += 1;
        const input = { ...BASE_REQUEST, [spec.field]: value };
        const refused = expectFlagProblem(() => checkOnboardFlags(input), spec.flag, value);
        expect({ value, refused }).toEqual({ value, refused: !OnboardRequest.safeParse(input).success });
      }),
      { numRuns: 300 },
    );
  });

  it('CLI onboard --label: a usage error naming the flag and key=value, or what the workflow accepts', () => {
    fc.assert(
      fc.property(hostile('site'), hostile(VALID.label), (key, value) => {
        cases += 1;
        const input = { ...BASE_REQUEST, labels: { [key]: value } };
        let message = '';
        try {
          checkOnboardFlags(input);
        } catch (error) {
          expect(error).toBeInstanceOf(UsageError);
          message = (error as Error).message;
        }
        expect({ key, value, refused: message !== '' }).toEqual({
          key,
          value,
          refused: !OnboardRequest.safeParse(input).success,
        });
        if (message) expect(message).toContain('--label ');
      }),
      { numRuns: 300 },
    );
  });

  const REMOVE_FLAGS: readonly { readonly flag: string; readonly field: string; readonly valid: string }[] = [
    { flag: '--name', field: 'nodeName', valid: VALID.nodeName },
    { flag: '--instance', field: 'instanceId', valid: VALID.instanceId },
    { flag: '--ip', field: 'nodeIp', valid: VALID.nodeIp },
  ];

  it.each(REMOVE_FLAGS)('CLI remove $flag: a usage error naming the flag, or what the workflow accepts', (spec) => {
    fc.assert(
      fc.property(hostile(spec.valid), (value) => {
        cases += 1;
        const input = { ...BASE_REMOVE, [spec.field]: value };
        const refused = expectFlagProblem(() => checkRemoveFlags(input), spec.flag, value);
        let workflowRefuses = false;
        try {
          parseRemoveNodeInput(input);
        } catch {
          workflowRefuses = true;
        }
        expect({ value, refused }).toEqual({ value, refused: workflowRefuses });
      }),
      { numRuns: 300 },
    );
  });

  it.each(['onboard-node', 'remove-node'])(
    'CLI --execution-name of %s: Step Functions’ rule, or a usage error',
    (workflow) => {
      fc.assert(
        fc.property(hostile('nightly-42'), (name) => {
          cases += 1;
          const refused = expectFlagProblem(() => checkExecutionNameFlag(name, workflow), '--execution-name', name);
          const max = workflow === 'onboard-node' ? 71 : 80;
          expect({ name, refused }).toEqual({ name, refused: !new RegExp(`^[A-Za-z0-9_-]{1,${max}}$`).test(name) });
        }),
        { numRuns: 600 },
      );
    },
  );

  it('ran at least 10,000 generated cases, and bash read back hundreds of accepted ones', () => {
    expect(cases).toBeGreaterThanOrEqual(10_000);
    expect(bashChecked).toBeGreaterThanOrEqual(500);
  });
});
