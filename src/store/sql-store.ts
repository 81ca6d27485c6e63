import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import {
  deliveryTallies,
  messageDetailFromRows,
  messageRawFromRow,
  prefixed,
  requeueAuditEvent,
  UNFINISHED_DELIVERY_COLUMNS,
  unfinishedDeliveriesPage,
  unfinishedMessagesPage,
  unfinishedStart,
} from './backend-shared.js';
import { ATTEMPT_INSERT_COLUMNS, attemptRow, type BatchWrites } from './batch-writes.js';
import { decodeCursor } from './cursor.js';
import { keysetPage, pageSize } from './paging.js';
import { NotFoundError } from './errors.js';
import { newId } from './ids.js';
import {
  PRUNE_CHUNK,
  RECEIPTS_IN_DETAIL,
  jsonText,
  normalizeAll,
  normalizeAttempt,
  normalizeCompletion,
  normalizeDeliveryResult,
  normalizeInbound,
  replayDedupeKey,
  splitEvent,
  type NormalizedCompletion,
} from './inputs.js';
import {
  ATTEMPT_COLUMNS,
  DELIVERY_COLUMNS,
  SUMMARY_COLUMNS,
  auditFromRow,
  deliveryFromRow,
  messageSummaryFromRow,
  zeroCounts,
} from './rows.js';
import type { Dialect } from './sql/dialect.js';
import { Where, all, get, insertRows, run, type SqlDb, type Tx } from './sql/sql-db.js';
import {
  MESSAGE_STATUSES,
  type ActorOptions,
  type AttemptInput,
  type AuditInput,
  type AuditQuery,
  type AuditRecord,
  type CompleteResult,
  type CompletionItem,
  type CompletionItemResult,
  type DeliveryQuery,
  type DeliveryResultInput,
  type DeliveryRecord,
  type InboundInput,
  type InboundResult,
  type MessageDetail,
  type MessageQuery,
  type MessageRaw,
  type MessageStatus,
  type MessageStore,
  type MessageSummary,
  type Page,
  type ProcessingOutcome,
  type PruneOptions,
  type PruneResult,
  type StoreStats,
  type UnfinishedItem,
} from './types.js';

const UNFINISHED_DELIVERY = `status IN ('pending','failed-retrying')`;
const NOT_FINISHED = `status NOT IN ('delivered','dead','withheld','cancelled')`;

/**
 * The message store, once for SQLite and Postgres (sql/). Every invariant lives in the database
 * (unique dedupe key, seq, guarded status updates, locks), none in process memory, so several
 * Postgres gateway processes may share one database.
 *
 * Commit durability per path (docs/DECISIONS.md): inbound batches, processing and operator actions
 * commit synchronously (SQLite FULL); delivery bookkeeping (attempts, delivered/retrying/dead) commits
 * relaxed: losing the last few after a power cut costs an idempotent resend, never a message.
 */
export class SqlStore implements MessageStore {
  readonly kind: 'sqlite' | 'postgres';
  private readonly d: Dialect;

  /** `batch`: the hot-path group commits (batch-writes.ts). */
  constructor(
    private readonly db: SqlDb,
    private readonly batch: BatchWrites,
  ) {
    this.d = db.dialect;
    this.kind = db.dialect.kind;
  }

  async acceptInbound(batch: readonly InboundInput[]): Promise<InboundResult[]> {
    if (batch.length === 0) return [];
    const now = new Date();
    const items = batch.map((input) => normalizeInbound(input, now));
    return this.batch.acceptInbound(items, now);
  }

  async completeProcessing(messageId: string, outcome: ProcessingOutcome): Promise<CompleteResult> {
    const [r] = await this.completeAll([normalizeCompletion({ messageId, outcome })]);
    if (!r.ok) throw new NotFoundError(`message ${messageId} not found`);
    return r.result;
  }

  async completeProcessingBatch(items: readonly CompletionItem[]): Promise<CompletionItemResult[]> {
    if (items.length === 0) return [];
    return this.completeAll(normalizeAll(items, normalizeCompletion));
  }

  private completeAll(list: readonly NormalizedCompletion[]): Promise<CompletionItemResult[]> {
    return this.batch.completeAll(list);
  }

  async recordAttempt(deliveryId: string, attempt: AttemptInput): Promise<string> {
    const a = normalizeAttempt(attempt);
    const id = newId();
    await this.db.write(
      function* () {
        if ((yield* run('UPDATE deliveries SET attempts = attempts + 1, updated_at = ? WHERE id = ?', [Date.now(), deliveryId])) === 0) {
          throw new NotFoundError(`delivery ${deliveryId} not found`);
        }
        yield* insertRows('delivery_attempts', ATTEMPT_INSERT_COLUMNS, [attemptRow(id, deliveryId, a)]);
      },
      { relaxed: true },
    );
    return id;
  }

  async recordDeliveryResults(items: readonly DeliveryResultInput[]): Promise<boolean[]> {
    if (items.length === 0) return [];
    const now = new Date();
    const list = normalizeAll(items, (item) => normalizeDeliveryResult(item, now));
    return this.batch.recordDeliveryResults(list, now);
  }

  async markDelivered(deliveryId: string, at: Date = new Date()): Promise<boolean> {
    const sql = `UPDATE deliveries SET status = 'delivered', delivered_at = ?, next_attempt_at = NULL, updated_at = ? WHERE id = ? AND ${UNFINISHED_DELIVERY}`;
    return this.db.write(() => transition(sql, [at.getTime(), Date.now()], deliveryId), { relaxed: true });
  }

  async markRetrying(deliveryId: string, nextAttemptAt: Date, error: string): Promise<boolean> {
    const sql = `UPDATE deliveries SET status = 'failed-retrying', next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ? AND ${UNFINISHED_DELIVERY}`;
    return this.db.write(() => transition(sql, [nextAttemptAt.getTime(), error, Date.now()], deliveryId), { relaxed: true });
  }

  async markDead(deliveryId: string, error: string): Promise<boolean> {
    const sql = `UPDATE deliveries SET status = 'dead', last_error = ?, next_attempt_at = NULL, updated_at = ? WHERE id = ? AND ${UNFINISHED_DELIVERY}`;
    return this.db.write(() => transition(sql, [error, Date.now()], deliveryId), { relaxed: true });
  }

  async markCancelled(deliveryId: string, reason: string, options: ActorOptions = {}): Promise<boolean> {
    return this.db.write(function* () {
      const ok = yield* transition(
        `UPDATE deliveries SET status = 'cancelled', last_error = ?, next_attempt_at = NULL, updated_at = ?
         WHERE id = ? AND status IN ('pending','failed-retrying','dead','withheld')`,
        [reason, Date.now()],
        deliveryId,
      );
      if (ok && options.actor) {
        yield* insertAudit({
          actor: options.actor,
          action: 'delivery.cancel',
          subjectType: 'delivery',
          subjectId: deliveryId,
          detail: { reason },
        });
      }
      return ok;
    });
  }

  async requeueDead(target: string | { destination: string }, options: ActorOptions = {}): Promise<string[]> {
    return this.db.write(function* () {
      const set = `UPDATE deliveries SET status = 'pending', next_attempt_at = NULL, updated_at = ?`;
      const byId = typeof target === 'string';
      const rows = byId
        ? yield* all(`${set} WHERE id = ? AND status = 'dead' RETURNING id, seq`, [Date.now(), target])
        : yield* all(`${set} WHERE destination = ? AND status = 'dead' RETURNING id, seq`, [Date.now(), target.destination]);
      if (byId && rows.length === 0 && !(yield* get('SELECT 1 AS x FROM deliveries WHERE id = ?', [target]))) {
        throw new NotFoundError(`delivery ${target} not found`);
      }
      const ids = rows.sort((a, b) => Number(a.seq) - Number(b.seq)).map((r) => String(r.id));
      if (options.actor && ids.length > 0) yield* insertAudit(requeueAuditEvent(options.actor, target, ids.length));
      return ids;
    });
  }

  async hasEarlierUndelivered(destination: string, patientKey: string, seq: number): Promise<boolean> {
    const sql = `SELECT 1 AS x FROM deliveries WHERE destination = ? AND patient_key = ? AND seq < ? AND ${UNFINISHED_DELIVERY} LIMIT 1`;
    return (await this.db.query(sql, [destination, patientKey, seq])).length > 0;
  }

  async listUnfinished(limit: number, afterCursor?: string | null): Promise<Page<UnfinishedItem>> {
    const size = pageSize(limit);
    const { phase, afterId, afterSeq } = unfinishedStart(afterCursor);
    let items: UnfinishedItem[] = [];
    if (phase === 'm') {
      const rows = await this.db.query(`SELECT id, received_at FROM messages WHERE status = 'received' AND id > ? ORDER BY id LIMIT ?`, [
        afterId,
        size,
      ]);
      const page = unfinishedMessagesPage(rows, size);
      if (page.next !== null) return page;
      items = page.items;
    }
    const remaining = size - items.length;
    const sql = `SELECT ${UNFINISHED_DELIVERY_COLUMNS} FROM deliveries WHERE ${UNFINISHED_DELIVERY} AND seq > ? ORDER BY seq LIMIT ?`;
    return unfinishedDeliveriesPage(items, await this.db.query(sql, [afterSeq, remaining]), remaining);
  }

  async searchMessages(query: MessageQuery): Promise<Page<MessageSummary>> {
    const size = pageSize(query.limit);
    const where = new Where();
    if (query.partners !== undefined) where.add(this.d.inList('m.partner_id', 'text'), [...query.partners]);
    if (query.identifier) {
      const { system, value } = query.identifier;
      if (system !== undefined)
        where.add('m.id IN (SELECT message_id FROM message_identifiers WHERE value = ? AND system = ?)', value, system);
      else where.add('m.id IN (SELECT message_id FROM message_identifiers WHERE value = ?)', value);
    }
    if (query.controlId !== undefined) where.add('m.control_id = ?', query.controlId);
    if (query.sender !== undefined) where.add('m.sender = ?', query.sender);
    if (query.event !== undefined) {
      const ev = splitEvent(query.event);
      where.add('m.trigger_event = ?', ev.triggerEvent);
      if (ev.messageType !== undefined) where.add('m.message_type = ?', ev.messageType);
    }
    if (query.messageType !== undefined) where.add('m.message_type = ?', query.messageType);
    if (query.status !== undefined) where.add('m.status = ?', query.status);
    if (query.partner !== undefined) where.add('m.partner_id = ?', query.partner);
    if (query.from !== undefined) where.add('m.received_at >= ?', query.from.getTime());
    if (query.to !== undefined) where.add('m.received_at < ?', query.to.getTime());
    if (query.cursor) where.add('(m.received_at, m.id) < (?, ?)', ...decodeCursor<[number, string]>(query.cursor, ['number', 'string']));
    const sql = `SELECT ${prefixed(SUMMARY_COLUMNS, 'm')} FROM messages m${where.sql()} ORDER BY m.received_at DESC, m.id DESC LIMIT ?`;
    const rows = await this.db.query(sql, [...where.params, size + 1]);
    return keysetPage(rows, size, messageSummaryFromRow, (last) => [last.receivedAt.getTime(), last.id]);
  }

  async getMessage(id: string): Promise<MessageDetail | null> {
    // One snapshot for the whole lineage, so a delivery and its attempts agree.
    return this.db.read(function* (): Tx<MessageDetail | null> {
      const row = yield* get(`SELECT ${SUMMARY_COLUMNS}, raw, fhir FROM messages WHERE id = ?`, [id]);
      if (!row) return null;
      return messageDetailFromRows(row, {
        identifiers: yield* all('SELECT system, value FROM message_identifiers WHERE message_id = ? ORDER BY system, value', [id]),
        receipts: yield* all(
          'SELECT id, message_id, received_at, duplicate, source_kind, source_name FROM receipts WHERE message_id = ? ORDER BY received_at, id LIMIT ?',
          [id, RECEIPTS_IN_DETAIL],
        ),
        deliveries: yield* all(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE message_id = ? ORDER BY seq`, [id]),
        attempts: yield* all(
          `SELECT ${prefixed(ATTEMPT_COLUMNS, 'a')} FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
           WHERE d.message_id = ? ORDER BY a.started_at, a.id`,
          [id],
        ),
        replays: yield* all(`SELECT ${SUMMARY_COLUMNS} FROM messages WHERE replay_of = ? ORDER BY received_at, id`, [id]),
      });
    });
  }

  async getMessageRaw(id: string): Promise<MessageRaw | null> {
    const [row] = await this.db.query(
      'SELECT source_kind, source_name, partner_id, received_at, status, replay_of, raw FROM messages WHERE id = ?',
      [id],
    );
    return row ? messageRawFromRow(row) : null;
  }

  async listDeliveries(query: DeliveryQuery): Promise<Page<DeliveryRecord>> {
    const size = pageSize(query.limit);
    const where = new Where();
    if (query.destination !== undefined) where.add('destination = ?', query.destination);
    if (query.status !== undefined) where.add('status = ?', query.status);
    if (query.messageId !== undefined) where.add('message_id = ?', query.messageId);
    if (query.cursor) where.add(query.newestFirst ? 'seq < ?' : 'seq > ?', decodeCursor<[number]>(query.cursor, ['number'])[0]);
    const order = query.newestFirst ? 'seq DESC' : 'seq';
    const rows = await this.db.query(`SELECT ${DELIVERY_COLUMNS} FROM deliveries${where.sql()} ORDER BY ${order} LIMIT ?`, [
      ...where.params,
      size + 1,
    ]);
    return keysetPage(rows, size, deliveryFromRow, (last) => [last.seq]);
  }

  async getDelivery(id: string): Promise<DeliveryRecord | null> {
    const [row] = await this.db.query(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE id = ?`, [id]);
    return row ? deliveryFromRow(row) : null;
  }

  async createReplay(originalId: string, options: ActorOptions = {}): Promise<{ id: string; replayOf: string }> {
    const id = newId();
    const now = Date.now();
    await this.db.write(function* () {
      const copied = yield* run(
        `INSERT INTO messages (id, received_at, source_kind, source_name, partner_id, sender, control_id, message_type, trigger_event,
           version, dedupe_key, content_hash, status, replay_of, updated_at, raw)
         SELECT CAST(? AS TEXT), CAST(? AS BIGINT), 'replay', 'replay', partner_id, sender, control_id, message_type, trigger_event,
           version, CAST(? AS TEXT), content_hash, 'received', id, CAST(? AS BIGINT), raw
         FROM messages WHERE id = ?`,
        [id, now, replayDedupeKey(id), now, originalId],
      );
      if (copied === 0) throw new NotFoundError(`message ${originalId} not found`);
      yield* run(
        `INSERT INTO message_identifiers (message_id, system, value)
         SELECT CAST(? AS TEXT), system, value FROM message_identifiers WHERE message_id = ? ON CONFLICT DO NOTHING`,
        [id, originalId],
      );
      yield* run(
        `INSERT INTO receipts (id, message_id, received_at, duplicate, source_kind, source_name) VALUES (?, ?, ?, ?, 'replay', 'replay')`,
        [newId(), id, now, false],
      );
      if (options.actor) {
        yield* insertAudit({
          actor: options.actor,
          action: 'message.replay',
          subjectType: 'message',
          subjectId: originalId,
          detail: { replayId: id },
        });
      }
    });
    return { id, replayOf: originalId };
  }

  async recordAudit(event: AuditInput): Promise<string> {
    return this.db.write(() => insertAudit(event));
  }

  async listAudit(query: AuditQuery): Promise<Page<AuditRecord>> {
    const size = pageSize(query.limit);
    const where = new Where();
    if (query.subjectType !== undefined) where.add('subject_type = ?', query.subjectType);
    if (query.subjectId !== undefined) where.add('subject_id = ?', query.subjectId);
    if (query.cursor) where.add('(at, id) < (?, ?)', ...decodeCursor<[number, string]>(query.cursor, ['number', 'string']));
    const sql = `SELECT id, at, actor, action, subject_type, subject_id, detail FROM audit_events${where.sql()} ORDER BY at DESC, id DESC LIMIT ?`;
    return keysetPage(await this.db.query(sql, [...where.params, size + 1]), size, auditFromRow, (last) => [last.at.getTime(), last.id]);
  }

  async stats(): Promise<StoreStats> {
    const d = this.d;
    return this.db.read(function* (): Tx<StoreStats> {
      const messagesByStatus = zeroCounts(MESSAGE_STATUSES);
      for (const r of yield* all('SELECT status, count(*) AS n FROM messages GROUP BY status'))
        messagesByStatus[r.status as MessageStatus] = Number(r.n);
      const counts = yield* all('SELECT destination, status, count(*) AS n FROM deliveries GROUP BY destination, status');
      const dup = yield* get(`SELECT count(*) AS n FROM receipts WHERE duplicate = ${d.TRUE}`);
      return { messagesByStatus, duplicates: Number(dup?.n ?? 0), ...deliveryTallies(counts) };
    });
  }

  async prune(options: PruneOptions): Promise<PruneResult> {
    const d = this.d;
    const statuses = options.includeFailed ? ['processed', 'filtered', 'rejected', 'failed'] : ['processed', 'filtered', 'rejected'];
    const unfinished = `EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND d.${NOT_FINISHED})`;
    let total = 0;
    for (;;) {
      const { picked, deleted } = await this.db.write(function* () {
        const rows = yield* all(
          `SELECT m.id FROM messages m WHERE m.received_at < ? AND ${d.inList('m.status', 'text')} AND NOT ${unfinished}
           ORDER BY m.received_at LIMIT ?${d.skipLocked('m')}`,
          [options.olderThan.getTime(), statuses, PRUNE_CHUNK],
        );
        const ids = rows.map((r) => String(r.id));
        if (ids.length === 0) return { picked: 0, deleted: 0 };
        // Lock their deliveries, then re-check in the DELETE (a fresh snapshot on Postgres): a dead
        // letter requeued meanwhile makes its message unfinished again, and it must survive.
        if (d.forUpdate) yield* all(`SELECT 1 AS x FROM deliveries WHERE ${d.inList('message_id', 'text')}${d.forUpdate}`, [ids]);
        const del = yield* run(`DELETE FROM messages AS m WHERE ${d.inList('m.id', 'text')} AND NOT ${unfinished}`, [ids]);
        return { picked: ids.length, deleted: del };
      });
      total += deleted;
      if (picked < PRUNE_CHUNK) break;
      // Let queued ingest run between chunks when the database holds the event loop (SQLite).
      if (this.db.blocksEventLoop) await yieldToEventLoop();
    }
    return { messages: total };
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1 AS x');
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

/** A guarded status change: false when the state did not allow it, NotFound when the delivery is absent. */
function* transition(sql: string, params: unknown[], deliveryId: string): Tx<boolean> {
  if ((yield* run(sql, [...params, deliveryId])) === 1) return true;
  if (!(yield* get('SELECT 1 AS x FROM deliveries WHERE id = ?', [deliveryId])))
    throw new NotFoundError(`delivery ${deliveryId} not found`);
  return false;
}

function* insertAudit(event: AuditInput): Tx<string> {
  const id = newId();
  yield* run('INSERT INTO audit_events (id, at, actor, action, subject_type, subject_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?)', [
    id,
    (event.at ?? new Date()).getTime(),
    event.actor,
    event.action,
    event.subjectType,
    event.subjectId ?? null,
    jsonText(event.detail),
  ]);
  return id;
}
