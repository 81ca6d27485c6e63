import type Database from 'better-sqlite3';
import { ms, type BatchWrites } from '../batch-writes.js';
import { newId } from '../ids.js';
import type { NormalizedAttempt, NormalizedCompletion, NormalizedDeliveryResult, NormalizedInbound } from '../inputs.js';
import { DELIVERY_COLUMNS, deliveryFromRow, type Row } from '../rows.js';
import type { SqliteDb } from '../sql/sqlite-db.js';
import type { CompletionItemResult, InboundResult, MessageStatus, PatientIdentifier } from '../types.js';

type Statement = Database.Statement<unknown[], unknown>;

const UNFINISHED_DELIVERY = `status IN ('pending','failed-retrying')`;

/**
 * The hot-path batches on better-sqlite3, as before the SQL layer was shared: one IMMEDIATE
 * transaction (one fsync) per batch, a prepared statement per row. SQLite has one writer at a
 * time, and a synchronous transaction of a few hundred inserts is shorter than any bookkeeping
 * around it.
 */
export function sqliteBatchWrites(sqlite: SqliteDb): BatchWrites {
  const db = sqlite.handle;
  const s = prepareStatements(db);

  const insertIdentifiers = (messageId: string, ids: readonly PatientIdentifier[]): void => {
    for (const ident of ids) s.insertIdentifier.run(messageId, ident.system, ident.value);
  };

  const acceptOne = (m: NormalizedInbound, now: Date): InboundResult => {
    const id = newId();
    const receiptId = newId();
    const inserted = s.insertMessage.run(
      id,
      ms(m.receivedAt),
      m.sourceKind,
      m.sourceName,
      m.partnerId,
      m.sender,
      m.controlId,
      m.messageType,
      m.triggerEvent,
      m.version,
      m.dedupeKey,
      m.contentHash,
      m.status,
      m.statusReason,
      null,
      ms(now),
      m.raw,
    );
    if (inserted.changes === 1) {
      insertIdentifiers(id, m.identifiers);
      s.insertReceipt.run(receiptId, id, ms(m.receivedAt), 0, m.sourceKind, m.sourceName);
      return { id, duplicate: false, status: m.status, receiptId };
    }
    const existing = s.messageByDedupeKey.get(m.dedupeKey) as Row;
    const existingId = String(existing.id);
    s.bumpDuplicate.run(ms(now), existingId);
    s.insertReceipt.run(receiptId, existingId, ms(m.receivedAt), 1, m.sourceKind, m.sourceName);
    return { id: existingId, duplicate: true, status: existing.status as MessageStatus, receiptId };
  };

  const completeOne = (c: NormalizedCompletion, now: number): CompletionItemResult => {
    const updated = s.completeMessage.run(c.status, c.statusReason, c.fhir, now, c.messageId);
    if (updated.changes === 0) {
      // Already finished (possibly earlier in this very batch), or not there at all.
      const row = s.messageStatus.get(c.messageId) as Row | undefined;
      if (!row) return { ok: false, error: 'not-found' };
      return { ok: true, result: { applied: false, status: row.status as MessageStatus, deliveries: [] } };
    }
    insertIdentifiers(c.messageId, c.identifiers);
    // SQLite serializes writers, so rowid (seq) order is commit order and follows input order.
    const created = c.deliveries.map((d) =>
      deliveryFromRow(
        s.insertDelivery.get(
          newId(),
          c.messageId,
          d.destination,
          d.patientKey,
          d.status,
          ms(d.nextAttemptAt),
          d.payload,
          d.withheldReason,
          now,
          now,
          d.routeId,
          d.partnerId,
        ) as Row,
      ),
    );
    return { ok: true, result: { applied: true, status: c.status, deliveries: created } };
  };

  const insertAttempt = (id: string, deliveryId: string, a: NormalizedAttempt): void => {
    s.insertAttempt.run(id, deliveryId, ms(a.startedAt), a.durationMs, a.outcome, a.httpStatus, a.ackCode, a.error);
  };

  /** Attempt first (it happened either way), then the guarded transition. */
  const recordResult = (r: NormalizedDeliveryResult, now: number): boolean => {
    if (s.bumpAttempts.run(now, r.deliveryId).changes === 0) return false;
    insertAttempt(newId(), r.deliveryId, r.attempt);
    switch (r.status) {
      case 'delivered':
        return s.markDelivered.run(ms(r.deliveredAt), now, r.deliveryId).changes === 1;
      case 'failed-retrying':
        return s.markRetrying.run(ms(r.nextAttemptAt), r.lastError, now, r.deliveryId).changes === 1;
      case 'dead':
        return s.markDead.run(r.lastError, now, r.deliveryId).changes === 1;
    }
  };

  const accept = db.transaction((list: readonly NormalizedInbound[], now: Date) => list.map((m) => acceptOne(m, now)));
  const complete = db.transaction((list: readonly NormalizedCompletion[], now: number) => list.map((c) => completeOne(c, now)));
  const results = db.transaction((list: readonly NormalizedDeliveryResult[], now: number) => list.map((r) => recordResult(r, now)));

  return {
    acceptInbound: async (items, now) => accept.immediate(items, now),
    completeAll: async (list) => complete.immediate(list, ms(new Date())),
    recordDeliveryResults: async (list, now) => sqlite.relaxed(() => results.immediate(list, ms(now))),
  };
}

function prepareStatements(db: Database.Database) {
  const p = (sql: string): Statement => db.prepare(sql);
  return {
    insertMessage: p(`INSERT INTO messages (id, received_at, source_kind, source_name, partner_id, sender,
        control_id, message_type, trigger_event, version, dedupe_key, content_hash, status, status_reason,
        replay_of, updated_at, raw)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (dedupe_key) DO NOTHING`),
    messageByDedupeKey: p('SELECT id, status FROM messages WHERE dedupe_key = ?'),
    bumpDuplicate: p('UPDATE messages SET duplicate_count = duplicate_count + 1, updated_at = ? WHERE id = ?'),
    insertReceipt: p(`INSERT INTO receipts (id, message_id, received_at, duplicate, source_kind, source_name)
      VALUES (?, ?, ?, ?, ?, ?)`),
    insertIdentifier: p('INSERT OR IGNORE INTO message_identifiers (message_id, system, value) VALUES (?, ?, ?)'),
    completeMessage: p(`UPDATE messages SET status = ?, status_reason = ?, fhir = ?, updated_at = ?
      WHERE id = ? AND status = 'received'`),
    messageStatus: p('SELECT status FROM messages WHERE id = ?'),
    insertDelivery: p(`INSERT INTO deliveries (id, message_id, destination, patient_key, status,
        next_attempt_at, payload, withheld_reason, created_at, updated_at, route_id, partner_id)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${DELIVERY_COLUMNS}`),
    bumpAttempts: p('UPDATE deliveries SET attempts = attempts + 1, updated_at = ? WHERE id = ?'),
    insertAttempt: p(`INSERT INTO delivery_attempts (id, delivery_id, started_at, duration_ms, outcome,
        http_status, ack_code, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    markDelivered: p(`UPDATE deliveries SET status = 'delivered', delivered_at = ?, next_attempt_at = NULL,
        updated_at = ? WHERE id = ? AND ${UNFINISHED_DELIVERY}`),
    markRetrying: p(`UPDATE deliveries SET status = 'failed-retrying', next_attempt_at = ?, last_error = ?,
        updated_at = ? WHERE id = ? AND ${UNFINISHED_DELIVERY}`),
    markDead: p(`UPDATE deliveries SET status = 'dead', last_error = ?, next_attempt_at = NULL, updated_at = ?
        WHERE id = ? AND ${UNFINISHED_DELIVERY}`),
  };
}
