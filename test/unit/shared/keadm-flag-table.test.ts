import {
  entriesOf,
  FLAG_TABLE,
  FlagTableError,
  flagTableEntry,
  parseFlagTable,
  releaseKey,
  versionFormatOf,
} from '../../../functions/shared/keadm/flag-table';
import { JOIN_FLAGS, RESET_FLAGS } from '../../../functions/shared/keadm/generated/step-flags';
import flagTableJson from '../../../functions/shared/keadm/keadm-flags.json';
import { SUPPORTED_VERSIONS } from '../../../functions/shared/keadm/supported-versions';
import { joinFlags, resetFlags } from '../../../scripts/embed-keadm-flags';
import { thrown } from '../../support/thrown';

/** A copy of the real table with one entry changed, to show what a bad edit of the JSON does. */
function tableWith(key: string, change: (entry: Record<string, unknown>) => void): unknown {
  const copy = structuredClone(flagTableJson) as Record<string, Record<string, unknown>>;
  change(copy[key] as Record<string, unknown>);
  return copy;
}

const FORK_161 = 'kubesphere/kubeedge@v1.6.1-kubesphere';

function entry(key: string) {
  const found = flagTableEntry(key);
  if (!found) throw new Error(`no entry ${key}`);
  return found;
}

describe('the keadm flag table', () => {
  it('holds an entry, with its provenance, for every version edgekeeper installs', () => {
    // Act
    const missing = (['fork', 'upstream'] as const).flatMap((profile) =>
      SUPPORTED_VERSIONS[profile]
        .map((version) => releaseKey(profile, version))
        .filter((key) => flagTableEntry(key) === undefined),
    );

    // Assess
    expect(missing).toEqual([]);
  });

  it('keys fork releases by their -kubesphere tag and upstream ones by the plain tag', () => {
    // Act
    const fork = releaseKey('fork', 'v1.6.1');
    const upstream = releaseKey('upstream', 'v1.12.0');

    // Assess
    expect(fork).toBe('kubesphere/kubeedge@v1.6.1-kubesphere');
    expect(upstream).toBe('kubeedge/kubeedge@v1.12.0');
    expect(flagTableEntry(fork)?.ref_type).toBe('tag');
    expect(flagTableEntry(upstream)?.commit).toBe('b6ff325fa3c4bdc9f5a17e60440944944ba6ec98');
  });

  it('answers undefined for a release it does not hold, including inherited object keys', () => {
    // Assess
    expect(flagTableEntry('kubeedge/kubeedge@v9.9.9')).toBeUndefined();
    expect(flagTableEntry('constructor')).toBeUndefined();
  });

  it('lists the entries of one repository only', () => {
    // Act
    const fork = entriesOf('fork').map(([key]) => key);
    const upstream = entriesOf('upstream').map(([key]) => key);

    // Assess
    expect(fork.every((key) => key.startsWith('kubesphere/kubeedge@'))).toBe(true);
    expect(upstream.every((key) => key.startsWith('kubeedge/kubeedge@'))).toBe(true);
    expect(fork.length + upstream.length).toBe(Object.keys(FLAG_TABLE).length);
  });

  it('tells which releases take --kubeedge-version without the leading v', () => {
    // Assess
    expect(versionFormatOf(entry(FORK_161))).toBe('no-v');
    expect(versionFormatOf(entry('kubeedge/kubeedge@v1.12.0'))).toBe('v-optional');
  });

  it('gives the steps a view of it that is up to date (run `npm run embed` when this fails)', () => {
    // Assess
    expect(JOIN_FLAGS).toEqual(joinFlags());
    expect(RESET_FLAGS).toEqual(resetFlags());
  });

  it('gives the steps every join flag of a supported version, with its type and whether it is required', () => {
    // Act
    const view = JOIN_FLAGS.fork['v1.9.2'];
    const table = entry('kubesphere/kubeedge@v1.9.2-kubesphere');

    // Assess
    expect(view?.flags).toEqual(table.join.map((flag) => flag.name));
    expect(view?.types).toEqual({ labels: 'stringSlice', 'with-edge-taint': 'bool' });
    expect(view?.required).toEqual(['cloudcore-ipport']);
    expect(JOIN_FLAGS.upstream['v1.12.0']?.runtimetypeDefault).toBe('docker');
    expect(JOIN_FLAGS.upstream['v1.20.0']).not.toHaveProperty('runtimetypeDefault');
  });

  it('gives the steps the reset flags of every release, and of `reset edge` where reset is split', () => {
    // Assess
    expect(RESET_FLAGS.fork.length + RESET_FLAGS.upstream.length).toBe(Object.keys(FLAG_TABLE).length);
    expect(RESET_FLAGS.fork[0]).toEqual({ ref: 'v1.5.0-kubesphere', reset: ['kube-config'] });
    expect(RESET_FLAGS.upstream.find((release) => release.ref === 'v1.20.0')?.resetEdge).toContain('force');
  });

  it('is frozen: no caller can change what the others read', () => {
    // Act
    const fork = entry(FORK_161);

    // Assess
    expect(Object.isFrozen(FLAG_TABLE)).toBe(true);
    expect(Object.isFrozen(fork.join)).toBe(true);
    expect(Object.isFrozen(fork.join[0])).toBe(true);
  });
});

describe('parseFlagTable', () => {
  it('accepts the table as committed', () => {
    // Act
    const table = parseFlagTable(flagTableJson);

    // Assess
    expect(Object.keys(table)).toEqual(Object.keys(flagTableJson));
  });

  it.each([
    [
      'a flag type edgekeeper cannot format',
      (entry: Record<string, unknown>) => {
        (entry.join as Record<string, unknown>[])[0].type = 'int';
      },
      `${FORK_161}.join.0.type: Invalid option: expected one of "string"|"bool"|"stringSlice"|"stringArray"`,
    ],
    [
      'a default of the wrong type',
      (entry: Record<string, unknown>) => {
        const taint = (entry.join as Record<string, unknown>[]).find((flag) => flag.name === 'with-edge-taint');
        if (taint) taint.default = 'false';
      },
      `.default: a bool flag's default must be a boolean, got "false"`,
    ],
    [
      'a flag listed twice',
      (entry: Record<string, unknown>) => {
        const join = entry.join as unknown[];
        join.push(join[0]);
      },
      '--kubeedge-version twice',
    ],
    [
      'a missing provenance',
      (entry: Record<string, unknown>) => {
        delete entry.commit;
      },
      `${FORK_161}.commit: Invalid input: expected string, received undefined`,
    ],
    [
      'an unknown field (a typo would otherwise be ignored)',
      (entry: Record<string, unknown>) => {
        entry.rest = [];
      },
      `${FORK_161}: Unrecognized key: "rest"`,
    ],
  ])('refuses %s, naming the entry and the field', (_what, change, expected) => {
    // Act
    const error = thrown(() => parseFlagTable(tableWith(FORK_161, change)));

    // Assess
    expect(error).toBeInstanceOf(FlagTableError);
    expect(error.name).toBe('FlagTableError');
    expect(error.message).toMatch(/^keadm-flags\.json is invalid: /);
    expect(error.message).toContain(expected);
  });
});
