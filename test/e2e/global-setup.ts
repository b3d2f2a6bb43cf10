import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACCESS_LOG_DIR_ENV } from '../../local/sandbox/cluster/request-log';

/** Set when this setup created the directory, so the teardown removes only what it made. */
export const CREATED_ACCESS_LOG_ENV = 'EDGEKEEPER_E2E_CREATED_ACCESS_LOG';

/**
 * Gives every sandbox of the e2e run one directory to record the edgekeeper identity's requests in (workers and
 * the CLI's child processes inherit the variable). A directory already named in the environment is kept, so
 * several partial runs can add to one log and check it together.
 */
export default function globalSetup(): void {
  if (process.env[ACCESS_LOG_DIR_ENV]) return;
  process.env[ACCESS_LOG_DIR_ENV] = mkdtempSync(join(tmpdir(), 'edgekeeper-access-'));
  process.env[CREATED_ACCESS_LOG_ENV] = '1';
}
