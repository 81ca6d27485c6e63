import type { NormalizedDeliveryResult } from './inputs.js';
import type { DeliveryStatus } from './types.js';

// The guarded delivery transitions of recordDeliveryResults as a pure function. Postgres locks the
// rows, replays a whole batch through this in memory, and writes each row's final state once (so a
// multi-row UPDATE stays correct when one delivery appears twice in a batch). SQLite runs the same
// guards as prepared UPDATE ... WHERE status IN (...) statements; the contract suite keeps both equal.

/** Deliveries a result may still move: the unfinished ones. */
export const RESULT_FROM: readonly DeliveryStatus[] = ['pending', 'failed-retrying'];

export interface DeliveryState {
  status: DeliveryStatus;
  nextAttemptAt: Date | null;
  lastError: string | null;
  deliveredAt: Date | null;
}

/** Applies one result to `state` in place; false (state untouched) when the status does not allow it. */
export function applyDeliveryResult(state: DeliveryState, result: NormalizedDeliveryResult): boolean {
  if (!RESULT_FROM.includes(state.status)) return false;
  state.status = result.status;
  state.nextAttemptAt = result.nextAttemptAt;
  if (result.status === 'delivered') state.deliveredAt = result.deliveredAt;
  else state.lastError = result.lastError;
  return true;
}
