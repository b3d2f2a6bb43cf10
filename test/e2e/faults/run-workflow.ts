/**
 * Runs one workflow in a process of its own, so that a fault test can kill it as a crash would: with SIGKILL,
 * at an exact point. Started by ./harness.ts as `node --import tsx run-workflow.ts <spec.json>`; prints one JSON
 * line per event (`{"event":…}`) and, if it lives to the end, the result (`{"result":…}`).
 */
import { readFileSync } from 'node:fs';
import { runWorkflow, type TaskContext } from '../../../local/runtime';
import type { ChildSpec } from './harness';

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8')) as ChildSpec;
const print = (line: unknown) => process.stdout.write(`${JSON.stringify(line)}\n`);

/** Dies at once, like kill -9 from outside: nothing after this line runs, no finally, no exit handler. */
function crash(): never {
  process.kill(process.pid, 'SIGKILL');
  // SIGKILL to oneself is delivered before kill() returns; this only satisfies the type checker
  throw new Error('unreachable');
}

const at = spec.killAt;
const isKillPoint = (task: TaskContext, phase: 'enter' | 'exit') =>
  at !== undefined && at.phase === phase && at.workflow === task.workflow && at.state === task.state;

runWorkflow({
  workflow: spec.workflow,
  input: spec.input,
  executionName: spec.executionName,
  executionsDir: spec.executionsDir,
  environment: spec.environment,
  waits: 'compressed',
  compressedWaitMs: spec.compressedWaitMs,
  hooks: {
    beforeTask: (task) => {
      if (isKillPoint(task, 'enter')) crash();
    },
    afterTask: (task) => {
      if (isKillPoint(task, 'exit')) crash();
    },
  },
  onEvent: (event) => {
    print({ event });
    // states that call nothing (Choice, Wait, Pass) have no side effects to interrupt: entering them is enough
    if (
      at?.phase === 'enter' &&
      event.type === 'StateEntered' &&
      event.workflow === at.workflow &&
      event.state === at.state &&
      event.stateType !== 'Task'
    ) {
      crash();
    }
  },
}).then(
  (result) => {
    print({ result: { ...result, events: [] } });
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
