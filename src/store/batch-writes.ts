import { applyDeliveryResult, type DeliveryState } from './delivery-state.js';
import { newId } from './ids.js';
import type { NormalizedAttempt, NormalizedCompletion, NormalizedDeliveryResult, NormalizedInbound } from './inputs.js';
import { DELIVERY_COLUMNS, deliveryFromRow, ms, toDateOrNull, type Row } from './rows.js';
import { all, insertRows, insertRowsReportingNew, RetryTransaction, updateRows, type SqlDb, type Tx } from './sql/sql-db.js';
import type { CompletionItemResult, DeliveryStatus, InboundResult, MessageStatus } from './types.js';

// The group commits of the ingest hot path: the inbound batch before its ACK, processing
// completions, delivery results. Written once, set-based: read what the batch touches (locked),
// decide in memory, then one bulk write per table. The SQL layer runs a bulk write as one prepared
// statement per row inside SQLite's one IMMEDIATE transaction, and as one unnest() statement on
// Postgres, so a batch costs a fixed number of round trips there whatever its size.
//
// Several Postgres gateway processes may share the database: locks are taken in the same order in
// every batch (messages in dedupe_key order, then (destination, patient) key locks sorted, then
// deliveries in id order), so concurrent batches queue and never deadlock. SQLite has one writer.

export interface BatchWrites {
  acceptInbound(items: readonly NormalizedInbound[], now: Date): Promise<InboundResult[]>;
  completeAll(list: readonly NormalizedCompletion[]): Promise<CompletionItemResult[]>;
  /** Commits relaxed (delivery bookkeeping, see sql/relaxed-sync.ts). */
  recordDeliveryResults(list: readonly NormalizedDeliveryResult[], now: Date): Promise<boolean[]>;
}

const MESSAGE_COLUMNS = {
  id: 'text',
  received_at: 'bigint',
  source_kind: 'text',
  source_name: 'text',
  partner_id: 'text',
  sender: 'text',
  control_id: 'text',
  message_type: 'text',
  trigger_event: 'text',
  version: 'text',
  dedupe_key: 'text',
  content_hash: 'text',
  status: 'text',
  status_reason: 'text',
  updated_at: 'bigint',
  raw: 'bytea',
} as const;
const IDENTIFIER_COLUMNS = { message_id: 'text', system: 'text', value: 'text' } as const;
const RECEIPT_COLUMNS = {
  id: 'text',
  message_id: 'text',
  received_at: 'bigint',
  duplicate: 'boolean',
  source_kind: 'text',
  source_name: 'text',
} as const;
const DELIVERY_INSERT_COLUMNS = {
  id: 'text',
  message_id: 'text',
  destination: 'text',
  patient_key: 'text',
  status: 'text',
  next_attempt_at: 'bigint',
  payload: 'text',
  withheld_reason: 'text',
  created_at: 'bigint',
  updated_at: 'bigint',
  route_id: 'text',
  partner_id: 'text',
} as const;
export const ATTEMPT_INSERT_COLUMNS = {
  id: 'text',
  delivery_id: 'text',
  started_at: 'bigint',
  duration_ms: 'int',
  outcome: 'text',
  http_status: 'int',
  ack_code: 'text',
  error: 'text',
} as const;

/** A delivery_attempts row (ATTEMPT_INSERT_COLUMNS). */
export function attemptRow(id: string, deliveryId: string, a: NormalizedAttempt): Row {
  return {
    id,
    delivery_id: deliveryId,
    started_at: ms(a.startedAt),
    duration_ms: a.durationMs,
    outcome: a.outcome,
    http_status: a.httpStatus,
    ack_code: a.ackCode,
    error: a.error,
  };
}

const byKey = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function batchWrites(db: SqlDb): BatchWrites {
  const d = db.dialect;

  function* acceptInbound(items: readonly NormalizedInbound[], now: number): Tx<InboundResult[]> {
    // The first occurrence of each key is the insert candidate; later ones in the batch are duplicates.
    const firstIndex = new Map<string, number>();
    items.forEach((m, i) => {
      if (!firstIndex.has(m.dedupeKey)) firstIndex.set(m.dedupeKey, i);
    });
    // Ids in arrival order (they are time-ordered and break ties between equal receipt times);
    // rows inserted in key order, so concurrent batches take unique-index locks in one global order.
    const firsts = [...firstIndex.values()];
    const ids = new Map(firsts.map((i) => [i, newId()]));
    const candidates = firsts.sort((a, b) => byKey(items[a].dedupeKey, items[b].dedupeKey));
    const messageRows = candidates.map((i) => {
      const m = items[i];
      return {
        id: ids.get(i),
        received_at: ms(m.receivedAt),
        source_kind: m.sourceKind,
        source_name: m.sourceName,
        partner_id: m.partnerId,
        sender: m.sender,
        control_id: m.controlId,
        message_type: m.messageType,
        trigger_event: m.triggerEvent,
        version: m.version,
        dedupe_key: m.dedupeKey,
        content_hash: m.contentHash,
        status: m.status,
        status_reason: m.statusReason,
        updated_at: now,
        raw: m.raw,
      };
    });
    const stored = yield* insertRowsReportingNew(
      'messages',
      MESSAGE_COLUMNS,
      messageRows,
      'ON CONFLICT (dedupe_key) DO NOTHING',
      'dedupe_key',
    );
    const inserted = new Set(stored.map((r) => String(r.dedupe_key)));
    const isNew = (m: NormalizedInbound, i: number) => firstIndex.get(m.dedupeKey) === i && inserted.has(m.dedupeKey);

    const identifierRows = candidates
      .filter((i) => inserted.has(items[i].dedupeKey))
      .flatMap((i) => items[i].identifiers.map((ident) => ({ message_id: ids.get(i), system: ident.system, value: ident.value })));
    yield* insertRows('message_identifiers', IDENTIFIER_COLUMNS, identifierRows, 'ON CONFLICT DO NOTHING');

    // Everything that is not an inserted first occurrence is a duplicate receipt of the stored message.
    const dupCounts = new Map<string, number>();
    items.forEach((m, i) => {
      if (!isNew(m, i)) dupCounts.set(m.dedupeKey, (dupCounts.get(m.dedupeKey) ?? 0) + 1);
    });
    const existing = new Map<string, { id: string; status: MessageStatus }>();
    if (dupCounts.size > 0) {
      const keys = [...dupCounts.keys()].sort(byKey);
      const sql = `SELECT id, dedupe_key, status FROM messages WHERE ${d.inList('dedupe_key', 'text')}${d.lockedInOrder('dedupe_key')}`;
      for (const r of yield* all(sql, [keys])) existing.set(String(r.dedupe_key), { id: String(r.id), status: r.status as MessageStatus });
      // A key that conflicted but is gone now was pruned concurrently: rerun, it will insert fresh.
      if (keys.some((k) => !existing.has(k))) throw new RetryTransaction();
      const bumps = keys.map((k) => ({ k, n: dupCounts.get(k), now }));
      yield* updateRows(
        'UPDATE messages SET duplicate_count = duplicate_count + v.n, updated_at = v.now',
        'dedupe_key = v.k',
        { k: 'text', n: 'int', now: 'bigint' },
        bumps,
      );
    }

    const results: InboundResult[] = [];
    const receipts = items.map((m, i) => {
      const fresh = isNew(m, i);
      const target = fresh ? { id: ids.get(i)!, status: m.status as MessageStatus } : existing.get(m.dedupeKey)!;
      const receiptId = newId();
      results.push({ id: target.id, duplicate: !fresh, status: target.status, receiptId });
      const receipt = { id: receiptId, message_id: target.id, received_at: ms(m.receivedAt), duplicate: !fresh };
      return { ...receipt, source_kind: m.sourceKind, source_name: m.sourceName };
    });
    yield* insertRows('receipts', RECEIPT_COLUMNS, receipts);
    return results;
  }

  function* completeAll(list: readonly NormalizedCompletion[], now: number): Tx<CompletionItemResult[]> {
    // In dedupe-key order: acceptInbound locks originals in that order when it counts duplicates,
    // so a completion batch and an ingest batch cannot wait on each other in a cycle.
    const sql = `SELECT id, status FROM messages WHERE ${d.inList('id', 'text')}${d.lockedInOrder('dedupe_key')}`;
    const locked = yield* all(sql, [[...new Set(list.map((item) => item.messageId))]]);
    const status = new Map(locked.map((r) => [String(r.id), r.status as MessageStatus]));

    const results: CompletionItemResult[] = [];
    const applied: number[] = [];
    list.forEach((item, i) => {
      const current = status.get(item.messageId);
      if (current === undefined) results.push({ ok: false, error: 'not-found' });
      else if (current !== 'received') results.push({ ok: true, result: { applied: false, status: current, deliveries: [] } });
      else {
        // A later item for the same message sees it finished, as if the calls ran one by one.
        status.set(item.messageId, item.status);
        applied.push(i);
        results.push({ ok: true, result: { applied: true, status: item.status, deliveries: [] } });
      }
    });
    if (applied.length === 0) return results;

    const done = applied.map((i) => list[i]);
    yield* updateRows(
      'UPDATE messages SET status = v.status, status_reason = v.reason, fhir = v.fhir, updated_at = v.now',
      `id = v.id AND status = 'received'`,
      { id: 'text', status: 'text', reason: 'text', fhir: 'text', now: 'bigint' },
      done.map((c) => ({ id: c.messageId, status: c.status, reason: c.statusReason, fhir: c.fhir, now })),
    );
    const identifierRows = done.flatMap((c) => c.identifiers.map((ident) => ({ message_id: c.messageId, ...ident })));
    yield* insertRows('message_identifiers', IDENTIFIER_COLUMNS, identifierRows, 'ON CONFLICT DO NOTHING');

    const deliveries = applied.flatMap((i) => list[i].deliveries.map((delivery) => ({ item: i, delivery, id: newId() })));
    if (deliveries.length === 0) return results;
    // Per-patient ordering across processes: seq allocation and commit are serialized for each
    // destination + patient, so a smaller seq is always visible before a larger one commits.
    if (d.keyLocks) {
      const keys = deliveries
        .filter((r) => r.delivery.patientKey !== null)
        .map((r) => JSON.stringify([r.delivery.destination, r.delivery.patientKey]));
      if (keys.length > 0) yield* all(d.keyLocks, [[...new Set(keys)].sort(byKey)]);
    }
    const rows = deliveries.map(({ item, delivery, id }) => ({
      id,
      message_id: list[item].messageId,
      destination: delivery.destination,
      patient_key: delivery.patientKey,
      status: delivery.status,
      next_attempt_at: ms(delivery.nextAttemptAt),
      payload: delivery.payload,
      withheld_reason: delivery.withheldReason,
      created_at: now,
      updated_at: now,
      route_id: delivery.routeId,
      partner_id: delivery.partnerId,
    }));
    const created = yield* insertRows('deliveries', DELIVERY_INSERT_COLUMNS, rows, `RETURNING ${DELIVERY_COLUMNS}`);
    const byId = new Map(created.map((r) => [String(r.id), deliveryFromRow(r as Row)]));
    for (const r of deliveries) {
      const result = results[r.item];
      if (result.ok) result.result.deliveries.push(byId.get(r.id)!);
    }
    return results;
  }

  function* recordDeliveryResults(list: readonly NormalizedDeliveryResult[], now: number): Tx<boolean[]> {
    // Locked in id order (two workers' batches sharing a delivery cannot deadlock); the batch is
    // replayed in memory and each row's final state written once, which stays correct when one
    // delivery appears twice in a batch.
    const sql = `SELECT id, status, next_attempt_at, last_error, delivered_at FROM deliveries WHERE ${d.inList('id', 'text')}${d.lockedInOrder('id')}`;
    const locked = yield* all(sql, [[...new Set(list.map((r) => r.deliveryId))]]);
    const rows = new Map<string, { state: DeliveryState; attempts: number }>();
    for (const r of locked) {
      const state = {
        status: r.status as DeliveryStatus,
        nextAttemptAt: toDateOrNull(r.next_attempt_at),
        lastError: r.last_error as string | null,
        deliveredAt: toDateOrNull(r.delivered_at),
      };
      rows.set(String(r.id), { state, attempts: 0 });
    }
    const applied = list.map((r) => {
      const row = rows.get(r.deliveryId);
      if (!row) return false;
      row.attempts++;
      return applyDeliveryResult(row.state, r);
    });
    if (rows.size === 0) return applied;

    // The attempt happened either way, applied or not.
    const attempts = list.filter((r) => rows.has(r.deliveryId)).map((r) => attemptRow(newId(), r.deliveryId, r.attempt));
    yield* insertRows('delivery_attempts', ATTEMPT_INSERT_COLUMNS, attempts);
    const finals = [...rows].map(([id, { state, attempts }]) => ({
      id,
      n: attempts,
      status: state.status,
      next_attempt_at: ms(state.nextAttemptAt),
      last_error: state.lastError,
      delivered_at: ms(state.deliveredAt),
      now,
    }));
    yield* updateRows(
      'UPDATE deliveries SET attempts = attempts + v.n, updated_at = v.now, status = v.status, next_attempt_at = v.next_attempt_at, ' +
        'last_error = v.last_error, delivered_at = v.delivered_at',
      'id = v.id',
      { id: 'text', n: 'int', status: 'text', next_attempt_at: 'bigint', last_error: 'text', delivered_at: 'bigint', now: 'bigint' },
      finals,
    );
    return applied;
  }

  return {
    acceptInbound: (items, now) => db.write(() => acceptInbound(items, ms(now))),
    completeAll: (list) => db.write(() => completeAll(list, Date.now())),
    recordDeliveryResults: (list, now) => db.write(() => recordDeliveryResults(list, ms(now)), { relaxed: true }),
  };
}
