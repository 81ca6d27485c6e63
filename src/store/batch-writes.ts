import { applyDeliveryResult, type DeliveryState } from './delivery-state.js';
import { newId } from './ids.js';
import type { NormalizedCompletion, NormalizedDeliveryResult, NormalizedInbound } from './inputs.js';
import { DELIVERY_COLUMNS, deliveryFromRow, toDateOrNull } from './rows.js';
import type { Dialect } from './sql/dialect.js';
import { RetryTransaction, all, insertRows, updateRows, type Row, type Tx } from './sql/sql-db.js';
import type { CompletionItemResult, DeliveryStatus, InboundResult, MessageStatus } from './types.js';

// The group commits of the hot path, as transaction bodies (sql/sql-db.ts): the inbound batch
// before its ACK, processing completions, delivery results. A fixed number of statements per batch
// whatever its size: Postgres sends each bulk write as one unnest() statement, SQLite runs its
// prepared per-row statement (the fastest form there) inside the one transaction.
//
// Lock order (Postgres), the same in every batch so concurrent batches queue and never deadlock:
// messages in dedupe_key order, then (destination, patient) advisory locks sorted, then deliveries
// in id order. SQLite serializes writers: its dialect makes the locks no-ops.

const ms = (d: Date | null): number | null => (d === null ? null : d.getTime());

function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const MESSAGE_COLUMNS = {
  id: 'text', received_at: 'bigint', source_kind: 'text', source_name: 'text', partner_id: 'text', sender: 'text',
  control_id: 'text', message_type: 'text', trigger_event: 'text', version: 'text', dedupe_key: 'text',
  content_hash: 'text', status: 'text', status_reason: 'text', updated_at: 'bigint', raw: 'bytea',
} as const;
const IDENTIFIER_COLUMNS = { message_id: 'text', system: 'text', value: 'text' } as const;
const RECEIPT_COLUMNS = { id: 'text', message_id: 'text', received_at: 'bigint', duplicate: 'boolean', source_kind: 'text', source_name: 'text' } as const;
const DELIVERY_INSERT_COLUMNS = {
  id: 'text', message_id: 'text', destination: 'text', patient_key: 'text', status: 'text', next_attempt_at: 'bigint',
  payload: 'text', withheld_reason: 'text', created_at: 'bigint', updated_at: 'bigint', route_id: 'text', partner_id: 'text',
} as const;
export const ATTEMPT_INSERT_COLUMNS = {
  id: 'text', delivery_id: 'text', started_at: 'bigint', duration_ms: 'int', outcome: 'text', http_status: 'int', ack_code: 'text', error: 'text',
} as const;

export function* insertIdentifiers(rows: Row[]): Tx<void> {
  yield* insertRows('message_identifiers', IDENTIFIER_COLUMNS, rows, 'ON CONFLICT DO NOTHING');
}

/** Messages, identifiers, receipts and duplicate counters of one inbound batch. */
export function* acceptInboundTx(d: Dialect, items: readonly NormalizedInbound[], now: number): Tx<InboundResult[]> {
  // The first occurrence of each key is the insert candidate; later ones in the batch are duplicates.
  const firstIndex = new Map<string, number>();
  items.forEach((m, i) => {
    if (!firstIndex.has(m.dedupeKey)) firstIndex.set(m.dedupeKey, i);
  });
  const ids = new Map<number, string>([...firstIndex.values()].map((i) => [i, newId()]));
  // Inserted in key order, so concurrent batches take unique-index locks in one global order.
  const candidates = [...firstIndex.values()].sort((a, b) => byKey(items[a].dedupeKey, items[b].dedupeKey));
  const insertedRows = yield* insertRows(
    'messages',
    MESSAGE_COLUMNS,
    candidates.map((i) => {
      const m = items[i];
      return {
        id: ids.get(i), received_at: m.receivedAt.getTime(), source_kind: m.sourceKind, source_name: m.sourceName, partner_id: m.partnerId,
        sender: m.sender, control_id: m.controlId, message_type: m.messageType, trigger_event: m.triggerEvent, version: m.version,
        dedupe_key: m.dedupeKey, content_hash: m.contentHash, status: m.status, status_reason: m.statusReason, updated_at: now, raw: m.raw,
      };
    }),
    'ON CONFLICT (dedupe_key) DO NOTHING RETURNING dedupe_key',
  );
  const inserted = new Set(insertedRows.map((r) => String(r.dedupe_key)));
  const isNew = (i: number): boolean => firstIndex.get(items[i].dedupeKey) === i && inserted.has(items[i].dedupeKey);

  yield* insertIdentifiers(
    candidates.filter(isNew).flatMap((i) => items[i].identifiers.map((ident) => ({ message_id: ids.get(i), system: ident.system, value: ident.value }))),
  );

  // Everything that is not the inserted first occurrence is a duplicate receipt.
  const dupCounts = new Map<string, number>();
  items.forEach((m, i) => {
    if (!isNew(i)) dupCounts.set(m.dedupeKey, (dupCounts.get(m.dedupeKey) ?? 0) + 1);
  });
  const existing = new Map<string, { id: string; status: MessageStatus }>();
  if (dupCounts.size > 0) {
    const keys = [...dupCounts.keys()].sort(byKey);
    // Lock the originals in key order before bumping their counters (deadlock-free ordering).
    const rows = yield* all(`SELECT id, dedupe_key, status FROM messages WHERE ${d.inList('dedupe_key', 'text')} ORDER BY dedupe_key${d.forUpdate}`, [keys]);
    for (const r of rows) existing.set(String(r.dedupe_key), { id: String(r.id), status: r.status as MessageStatus });
    // A key that conflicted but is gone now was pruned concurrently: rerun, it will insert fresh.
    if (keys.some((k) => !existing.has(k))) throw new RetryTransaction();
    yield* updateRows(
      'UPDATE messages SET duplicate_count = duplicate_count + v.n, updated_at = v.at',
      'dedupe_key = v.k',
      { k: 'text', n: 'int', at: 'bigint' },
      keys.map((k) => ({ k, n: dupCounts.get(k), at: now })),
    );
  }

  const results: InboundResult[] = [];
  const receipts: Row[] = [];
  items.forEach((m, i) => {
    const fresh = isNew(i);
    const target = fresh ? { id: ids.get(i)!, status: m.status as MessageStatus } : existing.get(m.dedupeKey)!;
    const receiptId = newId();
    results.push({ id: target.id, duplicate: !fresh, status: target.status, receiptId });
    receipts.push({ id: receiptId, message_id: target.id, received_at: m.receivedAt.getTime(), duplicate: !fresh, source_kind: m.sourceKind, source_name: m.sourceName });
  });
  yield* insertRows('receipts', RECEIPT_COLUMNS, receipts);
  return results;
}

/** Processing completions: lock the messages, decide in memory which apply, then one bulk write per table. */
export function* completeProcessingTx(d: Dialect, list: readonly NormalizedCompletion[], now: number): Tx<CompletionItemResult[]> {
  // Locked in dedupe-key order: acceptInbound locks originals in that order when it counts
  // duplicates, so a completion batch and an ingest batch cannot wait on each other in a cycle.
  const locked = yield* all(`SELECT id, status FROM messages WHERE ${d.inList('id', 'text')} ORDER BY dedupe_key${d.forUpdate}`, [
    [...new Set(list.map((item) => item.messageId))],
  ]);
  const status = new Map(locked.map((r) => [String(r.id), r.status as MessageStatus]));

  const results: CompletionItemResult[] = [];
  const applied: number[] = [];
  list.forEach((item, i) => {
    const current = status.get(item.messageId);
    if (current === undefined) {
      results.push({ ok: false, error: 'not-found' });
    } else if (current !== 'received') {
      results.push({ ok: true, result: { applied: false, status: current, deliveries: [] } });
    } else {
      // A later item for the same message sees it finished, as if the calls ran one by one.
      status.set(item.messageId, item.status);
      applied.push(i);
      results.push({ ok: true, result: { applied: true, status: item.status, deliveries: [] } });
    }
  });
  if (applied.length === 0) return results;

  const done = applied.map((i) => list[i]);
  yield* updateRows(
    'UPDATE messages SET status = v.status, status_reason = v.reason, fhir = v.fhir, updated_at = v.at',
    `id = v.id AND status = 'received'`,
    { id: 'text', status: 'text', reason: 'text', fhir: 'text', at: 'bigint' },
    done.map((c) => ({ id: c.messageId, status: c.status, reason: c.statusReason, fhir: c.fhir, at: now })),
  );
  yield* insertIdentifiers(done.flatMap((c) => c.identifiers.map((ident) => ({ message_id: c.messageId, system: ident.system, value: ident.value }))));

  const rows = applied.flatMap((i) => list[i].deliveries.map((dl) => ({ item: i, messageId: list[i].messageId, d: dl, id: newId() })));
  if (rows.length === 0) return results;
  // Per-patient ordering across processes: serialize seq allocation AND commit for each
  // destination+patient, so a smaller seq is always visible before a larger one commits.
  const lockKeys = [...new Set(rows.filter((r) => r.d.patientKey !== null).map((r) => JSON.stringify([r.d.destination, r.d.patientKey])))].sort(byKey);
  if (d.keyLocks && lockKeys.length > 0) yield* all(d.keyLocks, [lockKeys]);
  // seq follows input order: items, then each item's deliveries.
  const inserted = yield* insertRows(
    'deliveries',
    DELIVERY_INSERT_COLUMNS,
    rows.map((r) => ({
      id: r.id, message_id: r.messageId, destination: r.d.destination, patient_key: r.d.patientKey, status: r.d.status,
      next_attempt_at: ms(r.d.nextAttemptAt), payload: r.d.payload, withheld_reason: r.d.withheldReason, created_at: now, updated_at: now,
      route_id: r.d.routeId, partner_id: r.d.partnerId,
    })),
    `RETURNING ${DELIVERY_COLUMNS}`,
  );
  const byId = new Map(inserted.map((r) => [String(r.id), deliveryFromRow(r)]));
  for (const r of rows) {
    const result = results[r.item];
    if (result.ok) result.result.deliveries.push(byId.get(r.id)!);
  }
  return results;
}

/**
 * Attempts and guarded transitions of delivery results. The rows are locked (id order) and the
 * batch replayed in memory (delivery-state.ts), so each row's final state is written once: correct
 * even when a delivery appears twice, which a bare multi-row UPDATE would not be.
 */
export function* deliveryResultsTx(d: Dialect, list: readonly NormalizedDeliveryResult[], now: number): Tx<boolean[]> {
  const locked = yield* all(
    `SELECT id, status, next_attempt_at, last_error, delivered_at FROM deliveries WHERE ${d.inList('id', 'text')} ORDER BY id${d.forUpdate}`,
    [[...new Set(list.map((r) => r.deliveryId))]],
  );
  const rows = new Map<string, { state: DeliveryState; attempts: number }>();
  for (const r of locked) {
    const state = { status: r.status as DeliveryStatus, nextAttemptAt: toDateOrNull(r.next_attempt_at), lastError: (r.last_error as string | null) ?? null, deliveredAt: toDateOrNull(r.delivered_at) };
    rows.set(String(r.id), { state, attempts: 0 });
  }
  const recorded = list.filter((r) => rows.has(r.deliveryId));
  const applied = list.map((r) => {
    const row = rows.get(r.deliveryId);
    if (!row) return false;
    row.attempts++;
    return applyDeliveryResult(row.state, r);
  });
  if (recorded.length === 0) return applied;
  // The attempt first: it happened, whether or not its transition applied.
  yield* insertRows(
    'delivery_attempts',
    ATTEMPT_INSERT_COLUMNS,
    recorded.map((r) => ({
      id: newId(), delivery_id: r.deliveryId, started_at: r.attempt.startedAt.getTime(), duration_ms: r.attempt.durationMs,
      outcome: r.attempt.outcome, http_status: r.attempt.httpStatus, ack_code: r.attempt.ackCode, error: r.attempt.error,
    })),
  );
  yield* updateRows(
    `UPDATE deliveries SET attempts = attempts + v.n, updated_at = v.at, status = v.status, next_attempt_at = v.next_at,
       last_error = v.last_error, delivered_at = v.delivered_at`,
    'id = v.id',
    { id: 'text', n: 'int', at: 'bigint', status: 'text', next_at: 'bigint', last_error: 'text', delivered_at: 'bigint' },
    [...rows].map(([id, { state, attempts }]) => ({
      id, n: attempts, at: now, status: state.status, next_at: ms(state.nextAttemptAt), last_error: state.lastError, delivered_at: ms(state.deliveredAt),
    })),
  );
  return applied;
}
