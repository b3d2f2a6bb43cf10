import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DemoClock, formatDone, markCliMain, writeTimings } from '../../../local/demo-timings';

/**
 * A clock that reads the moments it is given: ms since the process started, CPU ms this process used by then, and
 * CPU ms of its ended children (null: unknown).
 */
function scripted(moments: [number, number, number | null][]) {
  return () => {
    const next = moments.shift();
    if (!next) throw new Error('the test ran out of moments');
    return { at: next[0], cpu: next[1], children: next[2] };
  };
}

describe("the demo's time split", () => {
  it('splits the time since the process started into phases that add up to the total', () => {
    const startedAt = 1_800_000_000_000;
    const clock = new DemoClock(
      scripted([
        [900.4, 700, 0],
        [2400.6, 1500, 1200],
        [5200.2, 1900, 4000],
        [5300, 1950, 4100],
      ]),
      startedAt,
      { at: 250.2, cpu: 200, children: 0 },
    );
    clock.lap('sandbox');
    clock.lap('add');
    clock.lap('stop');
    const timings = clock.timings();
    expect(timings.phases.map((phase) => phase.name)).toEqual(['start-up', 'modules', 'sandbox', 'add', 'stop']);
    expect(timings.phases.map((phase) => phase.ms)).toEqual([250, 650, 1501, 2799, 100]);
    expect(timings.phases.map((phase) => phase.cpuMs)).toEqual([200, 500, 800, 400, 50]);
    expect(timings.phases.map((phase) => phase.childrenCpuMs)).toEqual([0, 0, 1200, 2800, 100]);
    expect(timings.phases.reduce((sum, phase) => sum + phase.ms, 0)).toBe(timings.totalMs);
    expect(timings).toMatchObject({
      processStartedAt: startedAt,
      endedAt: startedAt + 5300,
      totalMs: 5300,
      cpuMs: { process: 1950, children: 4100 },
    });
  });

  it('counts everything before the demo as start-up when no CLI started it', () => {
    const clock = new DemoClock(scripted([[1200, 900, null]]), 0, null);
    expect(clock.timings()).toMatchObject({
      totalMs: 1200,
      phases: [{ name: 'start-up', ms: 1200, cpuMs: 900, childrenCpuMs: null }],
      cpuMs: { process: 900, children: null },
    });
  });

  it('starts from the mark the CLI leaves when its main runs', () => {
    markCliMain();
    markCliMain();
    const clock = new DemoClock();
    const [startUp, modules] = clock.timings().phases;
    expect(startUp?.name).toBe('start-up');
    expect(modules?.name).toBe('modules');
    expect(performance.getEntriesByName('edgekeeper:main', 'mark')).toHaveLength(1);
    // the CPU this process has used (jest's own start) belongs to these first phases
    expect((startUp?.cpuMs ?? 0) + (modules?.cpuMs ?? 0)).toBeGreaterThan(0);
  });

  it('prints one line, in seconds, and writes the same as JSON', () => {
    const clock = new DemoClock(
      scripted([
        [1000, 600, 0],
        [2560, 900, 300],
      ]),
      1_800_000_000_000,
      { at: 300, cpu: 250, children: 0 },
    );
    clock.lap('sandbox');
    const timings = clock.timings();
    expect(formatDone(timings)).toBe(
      'Done in 2.6 s since the process started (start-up 0.3 · modules 0.7 · sandbox 1.6 s).',
    );
    const dir = mkdtempSync(join(tmpdir(), 'edgekeeper-timings-'));
    try {
      writeTimings(join(dir, 'timings.json'), timings);
      expect(JSON.parse(readFileSync(join(dir, 'timings.json'), 'utf8'))).toEqual(timings);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
