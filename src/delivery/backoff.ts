/**
 * Retry delays, computed by us (BullMQ calls this as a custom backoff strategy).
 *
 * Exponential with "equal jitter": half of the exponential step is fixed, half is random. The
 * fixed half keeps a failing destination from being hammered; the random half spreads retries of
 * jobs that failed together (a destination outage fails many at once) so they do not come back
 * as one burst.
 */
export interface BackoffPolicy {
  /** First retry waits between baseMs/2 and baseMs. */
  baseMs: number;
  /** Cap of the exponential step. */
  maxMs: number;
}

/**
 * Defaults: 1 s doubling to a 15 min cap. With the default 20 attempts a delivery keeps trying
 * for roughly 2-3 hours before it becomes a dead letter: long enough to ride out a typical
 * partner outage or maintenance window, short enough that someone notices the same day.
 */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, maxMs: 15 * 60_000 };
export const DEFAULT_MAX_ATTEMPTS = 20;

/** Delay before the retry that follows failed attempt number `attemptsMade` (1-based). */
export function backoffDelayMs(attemptsMade: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exponent = Math.max(0, attemptsMade - 1);
  // 2 ** 60 overflows nothing in JS numbers but stays far above any cap; min() keeps it sane.
  const step = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(exponent, 60));
  return Math.round(step / 2 + random() * (step / 2));
}

/** The server's Retry-After is a floor (never retry earlier than asked), capped so a bogus value cannot park a job for days. */
export function retryDelayMs(
  attemptsMade: number,
  policy: BackoffPolicy,
  retryAfterMs: number | undefined,
  maxRetryAfterMs: number,
  random: () => number = Math.random,
): number {
  const computed = backoffDelayMs(attemptsMade, policy, random);
  if (retryAfterMs === undefined || !(retryAfterMs > 0)) return computed;
  return Math.max(computed, Math.min(retryAfterMs, maxRetryAfterMs));
}
