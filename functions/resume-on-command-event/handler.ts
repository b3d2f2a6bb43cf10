import { dynamodbCommandWaits } from '../shared/command-waits';
import { type LambdaContext, logger, withLogKeys } from '../shared/powertools';
import { readSettings } from '../shared/settings';
import { stepFunctionsTaskCallbacks } from '../shared/task-callbacks';
import { type ResumeOutcome, resumeOnCommandEvent } from './core';

/**
 * The target of the rule on SSM's `EC2 Command Invocation Status-change Notification` (and, locally, of the
 * sandbox's copy of it): resumes the workflow waiting on a command that has ended. Not a workflow step, so it takes
 * the event itself rather than a step input; it logs the command, host, status and outcome, never the task token.
 */
export async function handler(event: unknown, context?: LambdaContext): Promise<ResumeOutcome> {
  if (context) logger.addContext(context as Parameters<typeof logger.addContext>[0]);
  // the keys live with this call, as a step's do (steps and this handler overlap in a local run)
  return withLogKeys({ step: 'ResumeOnCommandEvent' }, () => resume(event));
}

async function resume(event: unknown): Promise<ResumeOutcome> {
  try {
    const settings = readSettings();
    const table = settings.commandWaitsTable;
    // without a table AwaitHostCommand stores no wait either: nothing can be waiting
    const result: ResumeOutcome = table
      ? await resumeOnCommandEvent(
          { waits: dynamodbCommandWaits(settings, table), callbacks: stepFunctionsTaskCallbacks(settings) },
          event,
        )
      : { outcome: 'no-wait' };
    logger.info('command event handled', { ...result });
    return result;
  } catch (error) {
    logger.warn('command event not handled; the waiting workflow polls when its wait times out', {
      errorName: error instanceof Error ? error.name : 'Error',
      errorMessage: error instanceof Error ? error.message : String(error),
    });
    throw error;
  }
}
