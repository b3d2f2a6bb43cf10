import { rmSync } from 'node:fs';
import { ACCESS_LOG_DIR_ENV } from '../../local/sandbox/cluster/request-log';
import { CREATED_ACCESS_LOG_ENV } from './global-setup';
import { unusedGrants } from './rbac-coverage';

/** Asks for the coverage check on a partial run (e.g. the workflow files run one by one into one log directory). */
export const RBAC_COVERAGE_ENV = 'EDGEKEEPER_RBAC_COVERAGE';

/** The parts of Jest's global config that tell whether the run was narrowed to some files or tests. */
interface RunConfig {
  readonly testPathPatterns: { isSet(): boolean };
  readonly testNamePattern?: string;
  readonly onlyChanged: boolean;
  readonly findRelatedTests: boolean;
  readonly shard?: unknown;
}

/**
 * Fails the e2e run when deploy/rbac.yaml grants something no step used. Only a run of the whole e2e project can
 * tell (a single file exercises a few workflows), so a filtered run skips the check unless RBAC_COVERAGE_ENV is
 * `check`.
 */
export default function globalTeardown(globalConfig: RunConfig): void {
  const dir = process.env[ACCESS_LOG_DIR_ENV];
  if (!dir) return;
  try {
    const filtered =
      globalConfig.testPathPatterns.isSet() ||
      Boolean(globalConfig.testNamePattern) ||
      globalConfig.onlyChanged ||
      globalConfig.findRelatedTests ||
      globalConfig.shard !== undefined;
    if (filtered && process.env[RBAC_COVERAGE_ENV] !== 'check') return;
    const unused = unusedGrants(dir);
    if (unused.length > 0) {
      throw new Error(
        `deploy/rbac.yaml grants ${unused.length} permission(s) no step of the e2e suite used; remove them or ` +
          `add the test that needs them:\n  ${unused.join('\n  ')}`,
      );
    }
  } finally {
    if (process.env[CREATED_ACCESS_LOG_ENV]) rmSync(dir, { recursive: true, force: true });
  }
}
