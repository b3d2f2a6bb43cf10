import { runWithEnvironment } from '../../functions/shared/settings';
import { unlockNode } from '../../functions/shared/unlock';
import { EXECUTIONS_DIR_ENV, executionsDirFor } from '../executions';
import { EXIT, type Io } from './io';
import { environmentFor, type LocalTarget } from './local-target';

const HOLDER_STATE = {
  running: 'still running',
  ended: 'gone (its execution ended)',
  unknown: 'unknown to this machine',
} as const;

/** `edgekeeper unlock`: shows who holds a node name's locks and whether they are gone, then breaks them or refuses. */
export async function unlockCommand(
  flags: { readonly name: string; readonly force?: boolean; readonly json?: boolean },
  target: LocalTarget,
  io: Io,
): Promise<number> {
  const environment = await environmentFor(target, 'off');
  // the local executions' records tell whether a local holder is gone
  const executions = { [EXECUTIONS_DIR_ENV]: executionsDirFor(target, io.env) };
  const record = await runWithEnvironment({ ...io.env, ...environment, ...executions }, () =>
    unlockNode({ name: flags.name, force: Boolean(flags.force) }),
  );
  if (flags.json) io.stdout(`${JSON.stringify(record, null, 2)}\n`);
  else {
    const lines = record.locks.map(
      (lock) =>
        `  ${lock.lease} (${lock.key}${lock.instanceId ? ` ${lock.instanceId}` : ''}${lock.nodeIp ? ` ${lock.nodeIp}` : ''})` +
        ` held by ${lock.holder ?? 'nobody'}: ${HOLDER_STATE[lock.holderStatus]}` +
        `${lock.expiresAt ? `, expires ${lock.expiresAt}` : ''}; ${lock.broken ? 'broken' : (lock.note ?? 'kept')}`,
    );
    io.stdout([record.message, ...lines, ''].join('\n'));
  }
  return record.outcome === 'refused' ? EXIT.workflowFailed : EXIT.ok;
}
