import type { NormalizedCompletion, NormalizedDeliveryResult, NormalizedInbound } from './inputs.js';
import type { CompletionItemResult, InboundResult } from './types.js';

// The group commits of the ingest hot path: the inbound batch before its ACK, processing
// completions, delivery results. The only per-dialect code of the message store (sqlite/,
// postgres/): each engine keeps the form measured fastest on it (SQLite: prepared per-row
// statements in one IMMEDIATE transaction; Postgres: one unnest() statement per table). Everything
// else runs once, on the shared SQL layer (sql-store.ts).

export interface BatchWrites {
  acceptInbound(items: readonly NormalizedInbound[], now: Date): Promise<InboundResult[]>;
  completeAll(list: readonly NormalizedCompletion[]): Promise<CompletionItemResult[]>;
  /** Commits relaxed (delivery bookkeeping, see relaxed-sync.ts). */
  recordDeliveryResults(list: readonly NormalizedDeliveryResult[], now: Date): Promise<boolean[]>;
}

/** Epoch ms: how both schemas store times. */
export function ms(date: Date): number;
export function ms(date: Date | null): number | null;
export function ms(date: Date | null): number | null {
  return date === null ? null : date.getTime();
}
