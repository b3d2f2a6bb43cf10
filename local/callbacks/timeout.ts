/**
 * The message of the States.Timeout a `.waitForTaskToken` task fails with when no callback came in time. The
 * workflows catch it and check instead (the event was lost, or the command runs on), so the progress view shows it
 * as a wait that ended, not as a failure.
 */
export const CALLBACK_TIMEOUT_MESSAGE = 'the task timed out waiting for its token';
