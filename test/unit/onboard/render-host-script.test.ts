import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  assertJoinTokenShape,
  InvalidJoinSettingsError,
  InvalidJoinTokenError,
  joinCommands,
  joinTokenParameterName,
  renderHostScript,
} from '../../../functions/shared/join-script';
import { parseScriptFailure } from '../../../functions/shared/join-script-failures';
import { ARCH_PLACEHOLDER as ARCH, resolveJoinSettings } from '../../../functions/shared/join-settings/core';
import type { JoinSettings } from '../../../functions/shared/join-settings/schema';
import { script as embedded } from '../../../functions/shared/scripts/generated/join-edge-node';
import { ScriptTemplateError, shellQuote } from '../../../functions/shared/scripts/values-block';
import { CLOUDCORE_YAML } from './fixtures';

const TOKEN =
  '3f1c0a9e0b6d4c2e8a7b5d3c1e9f0a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e3f.eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDB9.c2lnbmF0dXJl';
const SCRIPT_PATH = join(__dirname, '../../../functions/shared/scripts/join-edge-node.sh');

function settings(
  kubeedgeVersion: string,
  extra: Partial<Parameters<typeof resolveJoinSettings>[0]> = {},
  region: 'zh' | 'en' = 'zh',
): JoinSettings {
  return resolveJoinSettings(
    { nodeName: 'edge-1', nodeIp: '192.168.10.21', taint: true, kubeedgeVersion, region, ...extra },
    { cloudcoreYaml: CLOUDCORE_YAML },
  );
}

function valuesBlock(script: string): string {
  return script.slice(script.indexOf('# edgekeeper:values:begin'), script.indexOf('# edgekeeper:values:end'));
}

function shellcheck(text: string): string {
  const result = spawnSync('shellcheck', ['-'], { input: text, encoding: 'utf8' });
  if (result.error) throw new Error(`shellcheck is missing (apt-get install -y shellcheck): ${result.error.message}`);
  return result.stdout + result.stderr;
}

describe('shellQuote', () => {
  it('round-trips any string through real bash', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }).filter((s) => !s.includes('\0')),
        (value) => {
          const out = execFileSync('bash', ['-c', `printf %s ${shellQuote(value)}`], { encoding: 'utf8' });
          expect(out).toBe(value);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('quotes the nasty cases and leaves safe words bare', () => {
    expect(shellQuote('')).toBe("''");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('--cloudcore-ipport=1.2.3.4:10000')).toBe('--cloudcore-ipport=1.2.3.4:10000');
    expect(shellQuote('$(reboot)')).toBe("'$(reboot)'");
    expect(() => shellQuote('a\0b')).toThrow(ScriptTemplateError);
  });
});

describe('renderHostScript', () => {
  it('keeps the embedded template identical to join-edge-node.sh (run embed-scripts.ts when this fails)', () => {
    expect(embedded).toBe(readFileSync(SCRIPT_PATH, 'utf8'));
  });

  it('renders fork v1.5.0 without --region or --with-edge-taint', () => {
    const block = valuesBlock(renderHostScript(settings('v1.5.0')));
    expect(block).toContain('keadm_join_args=(join --kubeedge-version=1.5.0 --cloudcore-ipport=203.0.113.9:10000');
    expect(block).not.toContain('--region');
    expect(block).not.toContain('--with-edge-taint');
  });

  it('renders fork v1.6.1 with both, and the qingstor URL for zh', () => {
    const block = valuesBlock(renderHostScript(settings('v1.6.1')));
    expect(block).toContain('--region=zh');
    expect(block).toContain('--with-edge-taint');
    expect(block).toContain('--edgenode-ip=192.168.10.21');
    expect(block).toContain(
      `download_url_template='https://kubeedge.pek3b.qingstor.com/bin/v1.6.1/${ARCH}/keadm-v1.6.1-linux-${ARCH}.tar.gz'`,
    );
    expect(block).toContain('node_ip_must_be_local=false');
  });

  it('renders upstream 1.15 with its flags and a local-IP check', () => {
    const block = valuesBlock(renderHostScript(settings('v1.15.0')));
    for (const flag of [
      '--cloudcore-ipport=203.0.113.9:10000',
      '--edgenode-name=edge-1',
      '--kubeedge-version=v1.15.0',
    ]) {
      expect(block).toContain(flag);
    }
    expect(block).not.toContain('--edgenode-ip');
    expect(block).not.toContain('--with-edge-taint');
    expect(block).toContain('node_ip_must_be_local=true');
  });

  it('quotes hostile values so they stay data', () => {
    const s = settings('v1.9.2', { labels: { site: 'a' } });
    const script = renderHostScript({ ...s, downloadUrl: 'https://m.example/k$(id).tgz?a=1&b=2' });
    expect(script).toContain("download_url_template='https://m.example/k$(id).tgz?a=1&b=2'");
    expect(() => renderHostScript({ ...s, nodeName: 'edge-1\nrm -rf /' })).toThrow(InvalidJoinSettingsError);
    expect(() => renderHostScript({ ...s, cloudcore: { ...s.cloudcore, address: '1.2.3.4; reboot' } })).toThrow(
      'cloudcore.address "1.2.3.4; reboot" must be a host name or IPv4 address',
    );
  });

  it('never contains a token: the commands only name the parameter the host reads it from', () => {
    const script = renderHostScript(settings('v1.6.1'));
    expect(script).not.toMatch(/--token=[^$<]/);
    const commands = joinCommands(script, '/edgekeeper/join-token/onboard-edge-1');
    expect(commands.join('\n')).not.toContain(TOKEN);
    const wrapper = commands.filter((line) => !script.split('\n').includes(line));
    expect(wrapper.filter((line) => line.includes('EDGEKEEPER_TOKEN'))).toEqual([
      `EDGEKEEPER_TOKEN_PARAMETER=/edgekeeper/join-token/onboard-edge-1 bash "$edgekeeper_script" || edgekeeper_status=$?`,
    ]);
  });

  it('refuses a parameter name that is not one, before anything reaches a host', () => {
    expect(() => joinCommands('echo', "/edgekeeper/x'; reboot; '")).toThrow(InvalidJoinSettingsError);
    expect(() => joinCommands('echo', 'edgekeeper/relative')).toThrow(InvalidJoinSettingsError);
  });

  it('names the token parameter after the execution, hashing a name SSM would refuse', () => {
    expect(joinTokenParameterName('onboard-edge-1_2026.12.02')).toBe(
      '/edgekeeper/join-token/onboard-edge-1_2026.12.02',
    );
    const odd = joinTokenParameterName('übernahme-edge-1');
    expect(odd).toMatch(/^\/edgekeeper\/join-token\/sha256-[0-9a-f]{40}$/);
    expect(joinTokenParameterName('übernahme-edge-1')).toBe(odd);
    expect(joinTokenParameterName('übernahme-edge-2')).not.toBe(odd);
  });

  it('refuses a token of the wrong shape without echoing it', () => {
    expect(() => assertJoinTokenShape("x'; reboot; '")).toThrow(InvalidJoinTokenError);
    try {
      assertJoinTokenShape('secret value');
    } catch (error) {
      expect((error as Error).message).not.toContain('secret value');
    }
    expect(() => assertJoinTokenShape(TOKEN)).not.toThrow();
  });

  it.each([
    ['fork v1.5.0 zh', () => settings('v1.5.0')],
    ['fork v1.6.1 en', () => settings('v1.6.1', {}, 'en')],
    ['fork v1.9.2 labels', () => settings('v1.9.2', { labels: { 'example.com/site': 'b-1', zone: '' } })],
    ['upstream v1.15.0', () => settings('v1.15.0')],
    ['upstream v1.20.0 no taint', () => settings('v1.20.0', { taint: false })],
  ])('renders a shellcheck-clean script for %s', (_name, make) => {
    const script = renderHostScript(make());
    expect(shellcheck(script)).toBe('');
    expect(
      shellcheck(joinCommands(script, joinTokenParameterName('op-1')).join('\n').replace(/^/, '#!/bin/sh\n')),
    ).toBe('');
  });

  it('keeps the template itself shellcheck-clean', () => {
    expect(shellcheck(readFileSync(SCRIPT_PATH, 'utf8'))).toBe('');
  });
});

describe('parseScriptFailure', () => {
  it('names the failing step from the script error line, with the stderr tail', () => {
    const stderr = 'noise\nedgekeeper: preflight: error: docker 18.09.9 is older than 19.3.0\n';
    const message = parseScriptFailure(12, 'edgekeeper: preflight: architecture x86_64 -> amd64\n', stderr);
    expect(message).toBe(
      'preflight failed: docker 18.09.9 is older than 19.3.0\nstderr (last 20 lines):\nnoise\nedgekeeper: preflight: error: docker 18.09.9 is older than 19.3.0',
    );
  });

  it('falls back to the exit code table and to the last step seen', () => {
    expect(parseScriptFailure(20, '', '')).toBe('download failed: keadm download or unpacking failed (exit 20)');
    expect(parseScriptFailure(137, 'edgekeeper: join: keadm join …\n', 'Killed')).toBe(
      'join failed with exit code 137\nstderr (last 20 lines):\nKilled',
    );
  });
});
