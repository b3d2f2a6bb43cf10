import { readFileSync, writeFileSync } from 'node:fs';
import type { PerformanceMark } from 'node:perf_hooks';

/**
 * Where `npm run demo` spends its time, from the moment its process started: the demo prints it as one line at the
 * end ({@link formatDone}) and, with `--timings <file>`, writes it as JSON for the benchmark (bench/demo.ts), which
 * adds what happened outside the process (npm's start-up, the exit). CPU time beside wall time: on a busy machine
 * the wall time says more about the other jobs than about the demo.
 */
export interface DemoTimings {
  /** when the process started, ms since the epoch (`performance.timeOrigin`) */
  readonly processStartedAt: number;
  /** when the demo was done (sandbox stopped and removed), ms since the epoch */
  readonly endedAt: number;
  /** `endedAt - processStartedAt`: the phases, in order, add up to it */
  readonly totalMs: number;
  readonly phases: readonly DemoPhase[];
  /** CPU time of this process, and of the processes it started (the hosts' scripts, …) that ended; null when unknown */
  readonly cpuMs: { readonly process: number; readonly children: number | null };
}

export interface DemoPhase {
  /** `start-up` (Node, the TypeScript loader, the CLI), `modules`, `sandbox`, one per act, `stop` */
  readonly name: string;
  readonly ms: number;
  /** CPU time of this process in the phase */
  readonly cpuMs: number;
  /** CPU time of the processes it started that ended in the phase (host scripts, …); null when unknown */
  readonly childrenCpuMs: number | null;
}

/** A moment: ms since the process started, and the CPU time this process and its ended children had used by then. */
interface Instant {
  readonly at: number;
  readonly cpu: number;
  readonly children: number | null;
}

const CLI_MAIN_MARK = 'edgekeeper:main';

function processCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * Called by the CLI when its `main` starts: splits the process's start-up (Node, the TypeScript loader, the CLI's
 * wiring) from the loading of the demo's own modules. Keeps one mark, however often `main` runs.
 */
export function markCliMain(): void {
  performance.clearMarks(CLI_MAIN_MARK);
  performance.mark(CLI_MAIN_MARK, { detail: { cpu: processCpuMs() } });
}

/** When the CLI's main started; null when the demo runs without the CLI. */
function cliMain(): Instant | null {
  const mark = performance.getEntriesByName(CLI_MAIN_MARK, 'mark')[0] as PerformanceMark | undefined;
  // nothing it started has ended yet
  return mark ? { at: mark.startTime, cpu: (mark.detail as { cpu: number }).cpu, children: 0 } : null;
}

/**
 * CPU time of the ended children of this process and their own ended children: `cutime` and `cstime` of
 * /proc/self/stat, in clock ticks (USER_HZ, 100 on Linux). Null where there is no /proc.
 */
function childrenCpuMs(): number | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // fields after the command name, which may hold spaces: state is field 3, cutime 16, cstime 17
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return null;
  }
}

/**
 * Cuts the time since the process started into consecutive phases. Made when the demo begins: the first phases are
 * `start-up` (until the CLI's main started) and `modules` (until now: the demo's own modules loaded), or `start-up`
 * alone when the demo runs without the CLI.
 */
export class DemoClock {
  private readonly phases: DemoPhase[] = [];
  private last: Instant = { at: 0, cpu: 0, children: 0 };

  constructor(
    private readonly now: () => Instant = () => ({
      at: performance.now(),
      cpu: processCpuMs(),
      children: childrenCpuMs(),
    }),
    private readonly processStartedAt: number = performance.timeOrigin,
    mainStarted: Instant | null = cliMain(),
  ) {
    if (mainStarted) this.record('start-up', mainStarted);
    this.lap(mainStarted ? 'modules' : 'start-up');
  }

  /** Ends the current phase under `name`; the next one starts now. */
  lap(name: string): void {
    this.record(name, this.now());
  }

  timings(): DemoTimings {
    return {
      processStartedAt: Math.round(this.processStartedAt),
      endedAt: Math.round(this.processStartedAt + this.last.at),
      totalMs: Math.round(this.last.at),
      phases: [...this.phases],
      cpuMs: { process: Math.round(this.last.cpu), children: this.last.children },
    };
  }

  private record(name: string, instant: Instant): void {
    // rounded at the ends, so that the phases add up to the rounded total
    this.phases.push({
      name,
      ms: Math.round(instant.at) - Math.round(this.last.at),
      cpuMs: Math.round(instant.cpu) - Math.round(this.last.cpu),
      childrenCpuMs:
        instant.children === null || this.last.children === null ? null : instant.children - this.last.children,
    });
    this.last = instant;
  }
}

/** `Done in 5.2 s since the process started (start-up 0.3 · modules 0.9 · sandbox 1.2 · … s).` */
export function formatDone(timings: DemoTimings): string {
  const phases = timings.phases.map((phase) => `${phase.name} ${seconds(phase.ms)}`).join(' · ');
  return `Done in ${seconds(timings.totalMs)} s since the process started (${phases} s).`;
}

export function writeTimings(file: string, timings: DemoTimings): void {
  writeFileSync(file, `${JSON.stringify(timings, null, 2)}\n`);
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}
