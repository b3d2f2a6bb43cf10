// Jest's order of test files, for a run on few workers: the run ends when the last long file does, so the longest
// files start first and the short ones fill the gaps at the end. Jest's own order puts the files that failed last
// time first (quick feedback, but a long file that passed then starts last and stretches the run) and, for a file
// it has no duration for (a fresh machine, as in CI, or a new file), goes by its size, which says little here.
// This order goes by the duration Jest cached for the file, or else by what a file of its project usually takes.
const Sequencer = require('@jest/test-sequencer').default;

/** Seconds a file of each project usually takes, for a file Jest has no duration for. */
const TYPICAL_SECONDS = { e2e: 60, infra: 20, workflows: 10, host: 10, unit: 2 };

class LongestFirst extends Sequencer {
  sort(tests) {
    // Jest's order first: it reads the cached durations into `test.duration` (milliseconds)
    const sorted = super.sort(tests);
    const expected = (test) =>
      test.duration ?? 1000 * (TYPICAL_SECONDS[test.context.config.displayName?.name] ?? TYPICAL_SECONDS.unit);
    const position = new Map(sorted.map((test, index) => [test, index]));
    return [...sorted].sort((a, b) => expected(b) - expected(a) || position.get(a) - position.get(b));
  }
}

module.exports = LongestFirst;
