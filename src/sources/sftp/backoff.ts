/**
 * Delay before reconnect attempt `failures` (1 = first failure): doubling from `initialMs`, capped
 * at `maxMs`, with ±20% jitter so sources failing together do not reconnect in lockstep.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export function backoffDelay(failures: number, o: BackoffOptions, random: () => number = Math.random): number {
  const base = Math.min(o.maxMs, o.initialMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
  const jittered = base * (0.8 + 0.4 * random());
  return Math.max(1, Math.round(Math.min(o.maxMs, jittered)));
}
