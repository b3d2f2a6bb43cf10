/**
 * The backoff every polling loop of the workflows uses (host commands, node readiness, drains, namespace
 * deletion): short first, since most things finish quickly, then capped so a slow one is still noticed soon.
 */

/** Backoff bounds in seconds. */
export const POLL_DELAY = { initialSeconds: 2, maxSeconds: 30 } as const;

/** Seconds to wait before poll number `attempt` (0-based): 2, 4, 8, 16, 30, 30, … */
export function nextPollDelay(attempt: number): number {
  const exponent = Math.max(0, Math.floor(attempt));
  // 2 ** 5 already exceeds the cap; clamping the exponent avoids Infinity for absurd attempts.
  return Math.min(POLL_DELAY.initialSeconds * 2 ** Math.min(exponent, 10), POLL_DELAY.maxSeconds);
}
