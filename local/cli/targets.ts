import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_LOG_ENV } from '../../functions/shared/powertools';
import { settingsEnvironment } from '../../functions/shared/settings';
import { COMMAND_EVENTS_ENV } from '../callbacks';
import { readSandboxInfo } from '../sandbox/sandbox';

/** Where a workflow command runs. */
export type Target =
  | { readonly kind: 'local' }
  | { readonly kind: 'sandbox'; readonly dir: string }
  | { readonly kind: 'api'; readonly url: string };

/**
 * The environment the Lambda handlers read when they run in-process (given to them with `runWithEnvironment`,
 * never written to process.env). `--local` uses the shell's own KUBECONFIG and AWS credentials untouched;
 * `--sandbox DIR` points every client at the sandbox's endpoints. Dummy AWS credentials are needed there because
 * the SDK signs every request, even to a local endpoint that ignores signatures. `logs` is where the steps' logs
 * go: a file, `stderr` or `off`.
 */
export async function handlerEnvironment(target: Target, logs?: string): Promise<Record<string, string>> {
  // without a destination, the steps log as in Lambda: Powertools' own console
  const common: Record<string, string> = logs === undefined ? {} : { [LOCAL_LOG_ENV]: logs };
  if (target.kind !== 'sandbox') return common;
  const info = await readSandboxInfo(target.dir);
  const env: Record<string, string> = {
    ...common,
    // the steps' own identity, bound by deploy/rbac.yaml as in a deployment, not the sandbox's admin
    ...settingsEnvironment({
      kubeconfigPath: info.edgekeeperKubeconfig,
      ssmEndpoint: info.ssm.endpoint,
      dynamodbEndpoint: info.dynamodb.endpoint,
      commandWaitsTable: info.dynamodb.commandWaitsTable,
      cloudcorePublicAddress: info.cloudcore.publicAddress,
      cloudcorePorts: info.cloudcore.ports,
      downloadMirror: info.downloadMirror,
    }),
    // the local runtime subscribes to SSM's command events while a workflow waits for one (local/callbacks)
    [COMMAND_EVENTS_ENV]: info.commandEvents,
    AWS_REGION: info.ssm.region,
    AWS_ACCESS_KEY_ID: 'sandbox',
    AWS_SECRET_ACCESS_KEY: 'sandbox',
  };
  return env;
}

/** Where the handlers' logs go: a sandbox keeps them beside its state; elsewhere they are dropped unless asked. */
export function defaultLogFile(target: Target): string | undefined {
  if (target.kind !== 'sandbox') return undefined;
  mkdirSync(join(target.dir, 'logs'), { recursive: true });
  return join(target.dir, 'logs', 'edgekeeper.log');
}
