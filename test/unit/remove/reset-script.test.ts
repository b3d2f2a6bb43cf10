import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  assertHostClean,
  decideHostReset,
  decodeMountPath,
  HostCannotBeResetError,
  HostResetIncompleteError,
  HostServesAnotherNodeError,
  hostServesAnotherNode,
  mountPointsOf,
  parseResetReport,
  type ResetReport,
  ResetReportInvalidError,
  ResetReportMissingError,
  ResetTemplateError,
  renderResetScript,
  unmountOrder,
} from '../../../functions/shared/reset-script';
import { script as RESET_SCRIPT_TEMPLATE } from '../../../functions/shared/scripts/generated/reset-edge-node';
import { shellQuote } from '../../../functions/shared/scripts/values-block';
import { embedScripts } from '../../../scripts/embed-scripts';

const SCRIPTS = join(__dirname, '..', '..', '..', 'functions', 'shared', 'scripts');

const ROOTS = ['/var/lib/edged', '/var/lib/kubeedge'];
/** The node and host every rendering below is for. */
const OWNER = { nodeName: 'edge-1', instanceId: 'mi-0123456789abcdef0', keadmTimeoutSeconds: 300 } as const;

function valuesOf(script: string): string {
  return /# edgekeeper:values:begin\n([\s\S]*?)# edgekeeper:values:end/.exec(script)?.[1] ?? '';
}

function shellcheck(script: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'reset-sc-'));
  try {
    const file = join(dir, 'reset.sh');
    writeFileSync(file, script);
    return execFileSync('shellcheck', ['--severity=style', file], { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('renderResetScript', () => {
  it.each([
    ['fork', 'v1.5.0', 'KEADM_RESET_ARGS=(reset)', 'REMOVE_MOSQUITTO=true'],
    ['fork', 'v1.6.1', 'KEADM_RESET_ARGS=(reset --force)', 'REMOVE_MOSQUITTO=true'],
    ['fork', 'v1.9.2-kubesphere', 'KEADM_RESET_ARGS=(reset --force)', 'REMOVE_MOSQUITTO=true'],
    ['upstream', 'v1.15.0', 'KEADM_RESET_ARGS=(reset --force)', 'REMOVE_MOSQUITTO=false'],
    ['upstream', 'v1.17.0', 'KEADM_RESET_ARGS=(reset edge --force)', 'REMOVE_MOSQUITTO=false'],
  ] as const)('renders keadm %s %s with %s', (profile, version, args, mosquitto) => {
    const script = renderResetScript(RESET_SCRIPT_TEMPLATE, { ...OWNER, profile, version });
    const values = valuesOf(script);
    expect(values).toContain(`# rendered for node edge-1 on ${OWNER.instanceId}, keadm ${profile} ${version}\n`);
    expect(values).toContain(`NODE_NAME=edge-1\nINSTANCE_ID=${OWNER.instanceId}\nFORCE_HOST=''\n`);
    expect(values).toContain(`${args}\n`);
    expect(values).toContain(`${mosquitto}\n`);
    expect(values).toContain('EDGEKEEPER_DIR=/opt/edgekeeper\nKEADM_DIRS=(/usr/local/bin)\n');
    expect(values).toContain('KEADM_TIMEOUT_SECONDS=300\n');
    // only the values block changes
    expect(script.replace(valuesOf(script), '')).toBe(
      RESET_SCRIPT_TEMPLATE.replace(valuesOf(RESET_SCRIPT_TEMPLATE), ''),
    );
  });

  it('shell-quotes directories so no value can break out of the array', () => {
    const script = renderResetScript(RESET_SCRIPT_TEMPLATE, {
      ...OWNER,
      profile: 'fork',
      version: 'v1.6.1',
      keadmDirs: ['/opt/edge keeper', "/opt/it's; rm -rf /"],
      keadmTimeoutSeconds: 60,
      removeMosquitto: false,
    });
    expect(valuesOf(script)).toContain(`KEADM_DIRS=('/opt/edge keeper' '/opt/it'\\''s; rm -rf /')\n`);
    expect(valuesOf(script)).toContain('KEADM_TIMEOUT_SECONDS=60\nREMOVE_MOSQUITTO=false\n');
    const printed = execFileSync('bash', ['-c', `${valuesOf(script)}\nprintf '%s\\n' "\${KEADM_DIRS[@]}"`], {
      encoding: 'utf8',
    });
    expect(printed).toBe("/opt/edge keeper\n/opt/it's; rm -rf /\n");
  });

  it('fails on relative or missing keadm directories, a bad timeout, and a template without values block', () => {
    expect(() =>
      renderResetScript(RESET_SCRIPT_TEMPLATE, { ...OWNER, profile: 'fork', version: 'v1.6.1', keadmDirs: [] }),
    ).toThrow(ResetTemplateError);
    expect(() =>
      renderResetScript(RESET_SCRIPT_TEMPLATE, { ...OWNER, profile: 'fork', version: 'v1.6.1', keadmDirs: ['tmp'] }),
    ).toThrow('keadmDirs ["tmp"] must be a non-empty list of absolute paths');
    expect(() =>
      renderResetScript(RESET_SCRIPT_TEMPLATE, {
        ...OWNER,
        profile: 'fork',
        version: 'v1.6.1',
        keadmTimeoutSeconds: 0,
      }),
    ).toThrow('keadmTimeoutSeconds 0 must be a positive integer');
    for (const edgekeeperDir of ['/', '/opt', 'opt/edgekeeper', '/opt/../etc']) {
      expect(() =>
        renderResetScript(RESET_SCRIPT_TEMPLATE, { ...OWNER, profile: 'fork', version: 'v1.6.1', edgekeeperDir }),
      ).toThrow(`edgekeeperDir ${edgekeeperDir} must be an absolute path at least two levels deep`);
    }
    expect(() => renderResetScript('#!/bin/bash\n', { ...OWNER, profile: 'fork', version: 'v1.6.1' })).toThrow(
      'reset-edge-node.sh has no # edgekeeper:values:begin … # edgekeeper:values:end block',
    );
  });

  it('refuses a bad node name or instance id, and a forceHost that names another host', () => {
    const base = { profile: 'fork', version: 'v1.6.1' } as const;
    expect(() => renderResetScript(RESET_SCRIPT_TEMPLATE, { ...base, ...OWNER, nodeName: 'Edge_1' })).toThrow(
      'nodeName Edge_1 must be a DNS-1123 subdomain',
    );
    expect(() => renderResetScript(RESET_SCRIPT_TEMPLATE, { ...base, ...OWNER, instanceId: 'i-xyz' })).toThrow(
      'instanceId i-xyz must be an SSM managed instance id',
    );
    expect(() =>
      renderResetScript(RESET_SCRIPT_TEMPLATE, { ...base, ...OWNER, forceHost: 'mi-0000000000000000f' }),
    ).toThrow('forceHost mi-0000000000000000f must name the host the script is sent to (mi-0123456789abcdef0)');
    const forced = renderResetScript(RESET_SCRIPT_TEMPLATE, { ...base, ...OWNER, forceHost: OWNER.instanceId });
    expect(valuesOf(forced)).toContain(`FORCE_HOST=${OWNER.instanceId}\n`);
  });

  it('fails for a keadm older than the flag table knows', () => {
    expect(() => renderResetScript(RESET_SCRIPT_TEMPLATE, { ...OWNER, profile: 'fork', version: 'v1.4.0' })).toThrow(
      'keadm fork version v1.4.0 is not supported: expected fork >= 1.5.0',
    );
  });

  it('is shellcheck-clean as a template and as rendered for each profile', () => {
    expect(shellcheck(RESET_SCRIPT_TEMPLATE)).toBe('');
    expect(shellcheck(renderResetScript(RESET_SCRIPT_TEMPLATE, { ...OWNER, profile: 'fork', version: 'v1.5.0' }))).toBe(
      '',
    );
    expect(
      shellcheck(
        renderResetScript(RESET_SCRIPT_TEMPLATE, {
          ...OWNER,
          profile: 'upstream',
          version: 'v1.20.0',
          keadmDirs: ['/a b', '/c'],
        }),
      ),
    ).toBe('');
  });

  it('is bash syntax that parses (bash -n)', () => {
    const script = renderResetScript(RESET_SCRIPT_TEMPLATE, { ...OWNER, profile: 'fork', version: 'v1.6.1' });
    expect(() => execFileSync('bash', ['-n'], { input: script })).not.toThrow();
  });
});

describe('shellQuote', () => {
  it('leaves plain words alone and single-quotes the rest', () => {
    expect(shellQuote('--force')).toBe('--force');
    expect(shellQuote('/usr/local/bin')).toBe('/usr/local/bin');
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote('$(x)')).toBe("'$(x)'");
  });
});

const CLEAN: ResetReport = {
  version: 1,
  clean: true,
  keadm: 'reset',
  edgecore: 'stopped',
  mosquitto: 'removed',
  edgemesh: 'restored',
  removed: ['/var/lib/kubeedge'],
  unmounted: ['/var/lib/edged/pods/a/volumes/kubernetes.io~secret/my token'],
  lazyUnmounted: [],
  leftovers: [],
};

describe('parseResetReport', () => {
  it('reads the last report line among the step output', () => {
    const stdout = [
      'edgekeeper: keadm: reset done',
      `EDGEKEEPER_RESET_REPORT ${JSON.stringify({ ...CLEAN, removed: ['old'] })}`,
      'edgekeeper: verify: clean',
      `EDGEKEEPER_RESET_REPORT ${JSON.stringify(CLEAN)}`,
      '',
    ].join('\r\n');
    expect(parseResetReport(stdout)).toEqual(CLEAN);
  });

  it('fails with the last output lines when there is no report', () => {
    expect(() => parseResetReport('edgekeeper: preflight: must run as root (uid 1000)\n')).toThrow(
      new ResetReportMissingError('edgekeeper: preflight: must run as root (uid 1000)'),
    );
    expect(() => parseResetReport('')).toThrow('printed no EDGEKEEPER_RESET_REPORT line; last output: (none)');
  });

  it('fails on a report that is cut or of another shape', () => {
    expect(() => parseResetReport('EDGEKEEPER_RESET_REPORT {"version":1,"cle')).toThrow(ResetReportInvalidError);
    expect(() => parseResetReport('EDGEKEEPER_RESET_REPORT {"version":2}')).toThrow(/unexpected shape/);
  });
});

describe('assertHostClean', () => {
  it('returns a clean report and refuses leftovers by name', () => {
    expect(assertHostClean('edge-1', 'mi-0123456789abcdef0', CLEAN)).toBe(CLEAN);
    const dirty = { ...CLEAN, clean: false, leftovers: ['/etc/kubeedge', 'mount:/var/lib/edged/x'] };
    expect(() => assertHostClean('edge-1', 'mi-0123456789abcdef0', dirty)).toThrow(
      new HostResetIncompleteError('edge-1', 'mi-0123456789abcdef0', dirty),
    );
    expect(() => assertHostClean('edge-1', 'mi-0123456789abcdef0', dirty)).toThrow(
      'host mi-0123456789abcdef0 of node edge-1 is not clean after the reset: left /etc/kubeedge, mount:/var/lib/edged/x',
    );
  });
});

describe('decideHostReset', () => {
  const base = { nodeName: 'edge-1', instanceId: 'mi-0123456789abcdef0', force: false };

  it('resets an online host', () => {
    expect(decideHostReset({ ...base, pingStatus: 'Online' })).toEqual({ action: 'reset' });
  });

  it('fails for an offline host, saying what is not cleaned and how to go on', () => {
    const error = (() => {
      try {
        decideHostReset({ ...base, pingStatus: 'ConnectionLost' });
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected HostCannotBeResetError');
    })();
    expect(error).toBeInstanceOf(HostCannotBeResetError);
    expect(error.name).toBe('HostCannotBeResetError');
    expect(error.message).toMatch(
      /^host mi-0123456789abcdef0 of node edge-1 is offline \(SSM PingStatus ConnectionLost\): not cleaned: edgecore\.service .*\/etc\/kubeedge \(ca, certs, config\).*; pass force to clean up the cluster side only$/,
    );
  });

  it('with force, skips the host and reports what stays behind', () => {
    const decision = decideHostReset({ ...base, pingStatus: undefined, force: true });
    expect(decision).toMatchObject({
      action: 'skip',
      reason: 'host mi-0123456789abcdef0 is offline (SSM PingStatus not registered); cluster side only',
    });
    expect(decision.action === 'skip' && decision.notCleaned).toContain('/var/lib/kubeedge');
  });

  it('treats a node without instance id as unreachable', () => {
    expect(() => decideHostReset({ ...base, instanceId: undefined, pingStatus: 'Online' })).toThrow(
      /host unknown of node edge-1 is offline \(SSM PingStatus unknown \(no instance id\)\)/,
    );
  });
});

describe('unmountOrder', () => {
  const mountinfo = [
    '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
    '40 22 0:40 / /var/lib/edged rw - tmpfs tmpfs rw',
    '41 40 0:41 / /var/lib/edged/pods/p1/volumes/kubernetes.io~secret/token rw - tmpfs tmpfs rw',
    '42 40 0:42 / /var/lib/edged/pods/p1/volumes/kubernetes.io~secret/my\\040secret rw - tmpfs tmpfs rw',
    '43 40 0:43 / /var/lib/edged/pods/p2/volumes/kubernetes.io~configmap/cfg rw - tmpfs tmpfs rw',
    '44 43 0:44 / /var/lib/edged/pods/p2/volumes/kubernetes.io~configmap/cfg/nested rw - tmpfs tmpfs rw',
    '45 22 0:45 / /var/lib/kubeedge rw - tmpfs tmpfs rw',
    '46 22 0:46 / /var/lib/edged-other rw - tmpfs tmpfs rw',
    '47 22 0:47 / /var/lib/docker/overlay2/x/merged rw - overlay overlay rw',
    '48 40 0:48 / /var/lib/edged/back\\134slash\\011tab rw - tmpfs tmpfs rw',
    '49 41 0:49 / /var/lib/edged/pods/p1/volumes/kubernetes.io~secret/token rw - tmpfs tmpfs rw',
    '',
  ].join('\n');

  it('takes field 5 of each mountinfo line', () => {
    expect(mountPointsOf(mountinfo)).toHaveLength(11);
    expect(mountPointsOf(mountinfo)[3]).toBe('/var/lib/edged/pods/p1/volumes/kubernetes.io~secret/my\\040secret');
  });

  it('orders mounts under the roots deepest first, decodes octal escapes, keeps stacked layers', () => {
    expect(unmountOrder(mountPointsOf(mountinfo), ROOTS)).toEqual([
      '/var/lib/edged/pods/p2/volumes/kubernetes.io~configmap/cfg/nested',
      '/var/lib/edged/pods/p1/volumes/kubernetes.io~secret/my secret',
      '/var/lib/edged/pods/p1/volumes/kubernetes.io~secret/token',
      '/var/lib/edged/pods/p1/volumes/kubernetes.io~secret/token',
      '/var/lib/edged/pods/p2/volumes/kubernetes.io~configmap/cfg',
      '/var/lib/edged/back\\slash\ttab',
      '/var/lib/edged',
      '/var/lib/kubeedge',
    ]);
  });

  it('matches the ordering of the script itself (list_mounts in reset-edge-node.sh)', () => {
    // Prepare: run the script's own list_mounts function over the same mountinfo text.
    const dir = mkdtempSync(join(tmpdir(), 'reset-order-'));
    try {
      const info = join(dir, 'mountinfo');
      writeFileSync(info, mountinfo);
      const fn = /^is_under_mount_roots\(\) \{[\s\S]*?^\}\n[\s\S]*?^list_mounts\(\) \{[\s\S]*?^\}\n/m.exec(
        RESET_SCRIPT_TEMPLATE,
      )?.[0];
      const decode = /^decode_mount_point\(\) \{[\s\S]*?^\}\n/m.exec(RESET_SCRIPT_TEMPLATE)?.[0];
      expect(fn).toBeDefined();
      const program = [
        'set -euo pipefail',
        `MOUNT_ROOTS=(${ROOTS.join(' ')})`,
        'MOUNTINFO=$1',
        (fn ?? '').replace('</proc/self/mountinfo', '<"$MOUNTINFO"'),
        decode,
        'while IFS= read -r m; do decode_mount_point "$m"; printf "\\0"; done < <(list_mounts)',
      ].join('\n');
      // Act
      const out = execFileSync('bash', ['-c', program, 'bash', info], { encoding: 'utf8' });
      // Assess
      expect(out.split('\0').slice(0, -1)).toEqual(unmountOrder(mountPointsOf(mountinfo), ROOTS));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('decodes the four escapes the kernel writes', () => {
    expect(decodeMountPath('/a\\040b\\011c\\012d\\134e')).toBe('/a b\tc\nd\\e');
  });
});

describe('the embedded reset script', () => {
  it('is the current reset-edge-node.sh (regenerate: npm run embed)', () => {
    expect(embedScripts(true, ['reset-edge-node.sh'])).toEqual([]);
    expect(RESET_SCRIPT_TEMPLATE).toBe(readFileSync(join(SCRIPTS, 'reset-edge-node.sh'), 'utf8'));
  });
});

describe('hostServesAnotherNode', () => {
  it('names the node the script found on the host and how to force the reset', () => {
    const output =
      'edgekeeper: owner: refused: edgecore on host mi-0123456789abcdef0 is configured for node edge-9, not edge-1; nothing was changed\n';
    const error = hostServesAnotherNode('edge-1', 'mi-0123456789abcdef0', output);
    expect(error).toBeInstanceOf(HostServesAnotherNodeError);
    expect(error.name).toBe('HostServesAnotherNodeError');
    expect(error.message).toBe(
      'host mi-0123456789abcdef0 runs edgecore for node edge-9, not edge-1: not reset, nothing changed on it; ' +
        'pass forceHost mi-0123456789abcdef0 (with instanceId mi-0123456789abcdef0) to reset it anyway',
    );
    expect(hostServesAnotherNode('edge-1', 'mi-0123456789abcdef0', '').servedNode).toBe('unknown');
  });
});
