import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { decodeCursor } from '../cursor.js';
import { NotFoundError } from '../errors.js';
import { newId } from '../ids.js';
import { openSqlite } from '../open-database.js';
import {
  PRUNE_CHUNK,
  RECEIPTS_IN_DETAIL,
  jsonText,
  normalizeAll,
  normalizeAttempt,
  normalizeCompletion,
  normalizeDeliveryResult,
  normalizeInbound,
  pageSize,
  replayDedupeKey,
  splitEvent,
  type NormalizedAttempt,
  type NormalizedCompletion,
  type NormalizedDeliveryResult,
  type NormalizedInbound,
} from '../inputs.js';
import {
  deliveryTallies,
  keysetPage,
  messageDetailFromRows,
  messageRawFromRow,
  prefixed,
  requeueAuditEvent,
  unfinishedDeliveriesPage,
  unfinishedMessagesPage,
  unfinishedStart,
} from '../backend-shared.js';
import {
  ATTEMPT_COLUMNS,
  DELIVERY_COLUMNS,
  SUMMARY_COLUMNS,
  auditFromRow,
  deliveryFromRow,
  messageSummaryFromRow,
  zeroCounts,
  type Row,
} from '../rows.js';
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
  type PatientIdentifier,
  type ProcessingOutcome,
  type PruneOptions,
  type PruneResult,
  type StoreStats,
  type UnfinishedItem,
} from '../types.js';
import { migrateSqlite } from './migrate.js';
import { SQLITE_MIGRATIONS } from './migrations.js';
import { withRelaxedSync, type SyncLevel } from './relaxed-sync.js';

export interface SqliteStoreOptions {
  /** How long a writer waits for another process's write lock before failing. Default 5000 ms. */
  busyTimeoutMs?: number;
  /**
   * FULL (default) fsyncs the WAL on every commit: an ACKed message survives power loss.
   * NORMAL only survives process crashes; offered for benchmarks, not for production.
   * Delivery bookkeeping (attempts and delivery outcomes) always commits with NORMAL
   * (sqlite/relaxed-sync.ts): losing it costs an idempotent resend, never a message.
   */
  synchronous?: 'FULL' | 'NORMAL';
}

type Statement = Database.Statement<unknown[], unknown>;

const UNFINISHED_DELIVERY = `status IN ('pending','failed-retrying')`;

/** Epoch ms for a Date (SQLite stores times as INTEGER). */
function ms(date: Date): number;
function ms(date: Date | null): number | null;
function ms(date: Date | null): number | null {
  return date === null ? null : date.getTime();
}

/**
 * MessageStore on better-sqlite3. Every call runs synchronously inside the promise: SQLite has one
 * writer at a time anyway, and a synchronous transaction of a few hundred inserts is shorter than the
 * bookkeeping an async driver would add. Statements are prepared once (dynamic search SQL is cached
 * by its text). Write transactions are BEGIN IMMEDIATE so two processes on one file queue on
 * busy_timeout instead of failing on a lock upgrade.
 */
export class SqliteStore implements MessageStore {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly s: ReturnType<typeof prepareStatements>;
  private readonly dynamic = new Map<string, Statement>();

  private constructor(
    db: Database.Database,
    private readonly sync: SyncLevel,
  ) {
    this.db = db;
    this.s = prepareStatements(db);
  }

  /** Opens (creating directories and the file as needed) and migrates. `:memory:` for tests. */
  static open(filename: string, options: SqliteStoreOptions = {}): SqliteStore {
    const sync: SyncLevel = options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL';
    return openSqlite(filename, { busyTimeoutMs: options.busyTimeoutMs, synchronous: sync }, (db) => {
      migrateSqlite(db, SQLITE_MIGRATIONS);
      return new SqliteStore(db, sync);
    });
  }

  async acceptInbound(batch: readonly InboundInput[]): Promise<InboundResult[]> {
    if (batch.length === 0) return [];
    const now = new Date();
    const items = batch.map((input) => normalizeInbound(input, now));
    const tx = this.db.transaction((list: NormalizedInbound[]): InboundResult[] =>
      list.map((m) => this.acceptOne(m, now)),
    );
    return tx.immediate(items);
  }

  private acceptOne(m: NormalizedInbound, now: Date): InboundResult {
    const id = newId();
    const receiptId = newId();
    const inserted = this.s.insertMessage.run(
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
      this.insertIdentifiers(id, m.identifiers);
      this.s.insertReceipt.run(receiptId, id, ms(m.receivedAt), 0, m.sourceKind, m.sourceName);
      return { id, duplicate: false, status: m.status, receiptId };
    }
    const existing = this.s.messageByDedupeKey.get(m.dedupeKey) as Row;
    const existingId = String(existing.id);
    this.s.bumpDuplicate.run(ms(now), existingId);
    this.s.insertReceipt.run(receiptId, existingId, ms(m.receivedAt), 1, m.sourceKind, m.sourceName);
    return { id: existingId, duplicate: true, status: existing.status as MessageStatus, receiptId };
  }

  private insertIdentifiers(messageId: string, ids: readonly PatientIdentifier[]): void {
    for (const ident of ids) this.s.insertIdentifier.run(messageId, ident.system, ident.value);
  }

  async completeProcessing(messageId: string, outcome: ProcessingOutcome): Promise<CompleteResult> {
    const [r] = this.completeAll([normalizeCompletion({ messageId, outcome })]);
    if (!r.ok) throw new NotFoundError(`message ${messageId} not found`);
    return r.result;
  }

  async completeProcessingBatch(items: readonly CompletionItem[]): Promise<CompletionItemResult[]> {
    if (items.length === 0) return [];
    return this.completeAll(normalizeAll(items, normalizeCompletion));
  }

  /** One IMMEDIATE transaction for the whole list: one fsync however many messages it holds. */
  private completeAll(list: readonly NormalizedCompletion[]): CompletionItemResult[] {
    const now = ms(new Date());
    const tx = this.db.transaction((): CompletionItemResult[] => list.map((c) => this.completeOne(c, now)));
    return tx.immediate();
  }

  private completeOne(c: NormalizedCompletion, now: number): CompletionItemResult {
    const updated = this.s.completeMessage.run(c.status, c.statusReason, c.fhir, now, c.messageId);
    if (updated.changes === 0) {
      // Already finished (possibly earlier in this very batch), or not there at all.
      const row = this.s.messageStatus.get(c.messageId) as Row | undefined;
      if (!row) return { ok: false, error: 'not-found' };
      return { ok: true, result: { applied: false, status: row.status as MessageStatus, deliveries: [] } };
    }
    this.insertIdentifiers(c.messageId, c.identifiers);
    // SQLite serializes writers, so rowid (seq) order is commit order and follows input order.
    const created = c.deliveries.map((d) =>
      deliveryFromRow(
        this.s.insertDelivery.get(
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
  }

  async recordAttempt(deliveryId: string, attempt: AttemptInput): Promise<string> {
    const normalized = normalizeAttempt(attempt);
    const id = newId();
    const tx = this.db.transaction(() => {
      const bumped = this.s.bumpAttempts.run(ms(new Date()), deliveryId);
      if (bumped.changes === 0) throw new NotFoundError(`delivery ${deliveryId} not found`);
      this.insertAttempt(id, deliveryId, normalized);
    });
    this.bookkeeping(() => tx.immediate());
    return id;
  }

  async recordDeliveryResults(items: readonly DeliveryResultInput[]): Promise<boolean[]> {
    if (items.length === 0) return [];
    const now = new Date();
    const list = normalizeAll(items, (item) => normalizeDeliveryResult(item, now));
    const tx = this.db.transaction((): boolean[] => list.map((r) => this.recordResult(r, ms(now))));
    return this.bookkeeping(() => tx.immediate());
  }

  /** Attempt first (it happened either way), then the guarded transition. */
  private recordResult(r: NormalizedDeliveryResult, now: number): boolean {
    if (this.s.bumpAttempts.run(now, r.deliveryId).changes === 0) return false;
    this.insertAttempt(newId(), r.deliveryId, r.attempt);
    switch (r.status) {
      case 'delivered':
        return this.s.markDelivered.run(ms(r.deliveredAt), now, r.deliveryId).changes === 1;
      case 'failed-retrying':
        return this.s.markRetrying.run(ms(r.nextAttemptAt), r.lastError, now, r.deliveryId).changes === 1;
      case 'dead':
        return this.s.markDead.run(r.lastError, now, r.deliveryId).changes === 1;
    }
  }

  private insertAttempt(id: string, deliveryId: string, a: NormalizedAttempt): void {
    this.s.insertAttempt.run(id, deliveryId, ms(a.startedAt), a.durationMs, a.outcome, a.httpStatus, a.ackCode, a.error);
  }

  async markDelivered(deliveryId: string, at: Date = new Date()): Promise<boolean> {
    return this.transition(this.s.markDelivered, deliveryId, [ms(at), ms(new Date())]);
  }

  async markRetrying(deliveryId: string, nextAttemptAt: Date, error: string): Promise<boolean> {
    return this.transition(this.s.markRetrying, deliveryId, [ms(nextAttemptAt), error, ms(new Date())]);
  }

  async markDead(deliveryId: string, error: string): Promise<boolean> {
    return this.transition(this.s.markDead, deliveryId, [error, ms(new Date())]);
  }

  async markCancelled(deliveryId: string, reason: string, options: ActorOptions = {}): Promise<boolean> {
    const tx = this.db.transaction((): boolean => {
      const ok = this.transitionSync(this.s.markCancelled, deliveryId, [reason, ms(new Date())]);
      if (ok && options.actor) {
        this.auditSync({ actor: options.actor, action: 'delivery.cancel', subjectType: 'delivery', subjectId: deliveryId, detail: { reason } });
      }
      return ok;
    });
    return tx.immediate();
  }

  private async transition(stmt: Statement, deliveryId: string, params: unknown[]): Promise<boolean> {
    return this.bookkeeping(() => this.transitionSync(stmt, deliveryId, params));
  }

  /** Delivery bookkeeping commits without waiting for the disk (see relaxed-sync.ts). */
  private bookkeeping<T>(fn: () => T): T {
    return withRelaxedSync(this.db, this.sync, fn);
  }

  /** Applies a guarded status change; false when the state did not allow it, NotFound when absent. */
  private transitionSync(stmt: Statement, deliveryId: string, params: unknown[]): boolean {
    const changed = stmt.run(...params, deliveryId).changes === 1;
    if (!changed && !this.s.deliveryExists.get(deliveryId)) {
      throw new NotFoundError(`delivery ${deliveryId} not found`);
    }
    return changed;
  }

  async requeueDead(target: string | { destination: string }, options: ActorOptions = {}): Promise<string[]> {
    const now = ms(new Date());
    const tx = this.db.transaction((): string[] => {
      let rows: Row[];
      if (typeof target === 'string') {
        rows = this.s.requeueOne.all(now, target) as Row[];
        if (rows.length === 0 && !this.s.deliveryExists.get(target)) {
          throw new NotFoundError(`delivery ${target} not found`);
        }
      } else {
        rows = this.s.requeueDestination.all(now, target.destination) as Row[];
      }
      const ids = rows.map((r) => String(r.id));
      if (options.actor && ids.length > 0) {
        this.auditSync(requeueAuditEvent(options.actor, target, ids.length));
      }
      return ids;
    });
    return tx.immediate();
  }

  async hasEarlierUndelivered(destination: string, patientKey: string, seq: number): Promise<boolean> {
    return this.s.earlierUndelivered.get(destination, patientKey, seq) !== undefined;
  }

  async listUnfinished(limit: number, afterCursor?: string | null): Promise<Page<UnfinishedItem>> {
    const size = pageSize(limit);
    const { phase, afterId, afterSeq } = unfinishedStart(afterCursor);
    let items: UnfinishedItem[] = [];
    if (phase === 'm') {
      const page = unfinishedMessagesPage(this.s.unfinishedMessages.all(afterId, size) as Row[], size);
      if (page.next !== null) return page;
      items = page.items;
    }
    const remaining = size - items.length;
    return unfinishedDeliveriesPage(items, this.s.unfinishedDeliveries.all(afterSeq, remaining) as Row[], remaining);
  }

  async searchMessages(query: MessageQuery): Promise<Page<MessageSummary>> {
    const size = pageSize(query.limit);
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.partners !== undefined) {
      where.push('m.partner_id IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(query.partners));
    }
    if (query.identifier) {
      if (query.identifier.system !== undefined) {
        where.push('m.id IN (SELECT message_id FROM message_identifiers WHERE value = ? AND system = ?)');
        params.push(query.identifier.value, query.identifier.system);
      } else {
        where.push('m.id IN (SELECT message_id FROM message_identifiers WHERE value = ?)');
        params.push(query.identifier.value);
      }
    }
    if (query.controlId !== undefined) {
      where.push('m.control_id = ?');
      params.push(query.controlId);
    }
    if (query.sender !== undefined) {
      where.push('m.sender = ?');
      params.push(query.sender);
    }
    if (query.event !== undefined) {
      const ev = splitEvent(query.event);
      where.push('m.trigger_event = ?');
      params.push(ev.triggerEvent);
      if (ev.messageType !== undefined) {
        where.push('m.message_type = ?');
        params.push(ev.messageType);
      }
    }
    if (query.messageType !== undefined) {
      where.push('m.message_type = ?');
      params.push(query.messageType);
    }
    if (query.status !== undefined) {
      where.push('m.status = ?');
      params.push(query.status);
    }
    if (query.partner !== undefined) {
      where.push('m.partner_id = ?');
      params.push(query.partner);
    }
    if (query.from !== undefined) {
      where.push('m.received_at >= ?');
      params.push(ms(query.from));
    }
    if (query.to !== undefined) {
      where.push('m.received_at < ?');
      params.push(ms(query.to));
    }
    if (query.cursor) {
      const [at, id] = decodeCursor<[number, string]>(query.cursor, ['number', 'string']);
      where.push('(m.received_at, m.id) < (?, ?)');
      params.push(at, id);
    }
    const sql =
      `SELECT ${prefixed(SUMMARY_COLUMNS, 'm')} FROM messages m` +
      (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
      ' ORDER BY m.received_at DESC, m.id DESC LIMIT ?';
    const rows = this.statement(sql).all(...params, size + 1) as Row[];
    return keysetPage(rows, size, messageSummaryFromRow, (last) => [last.receivedAt.getTime(), last.id]);
  }

  async getMessage(id: string): Promise<MessageDetail | null> {
    const read = this.db.transaction((): MessageDetail | null => {
      const row = this.s.messageById.get(id) as Row | undefined;
      if (!row) return null;
      return messageDetailFromRows(row, {
        attempts: this.s.attemptsOfMessage.all(id) as Row[],
        identifiers: this.s.identifiersOf.all(id) as Row[],
        receipts: this.s.receiptsOf.all(id, RECEIPTS_IN_DETAIL) as Row[],
        deliveries: this.s.deliveriesOf.all(id) as Row[],
        replays: this.s.replaysOf.all(id) as Row[],
      });
    });
    return read();
  }

  async getMessageRaw(id: string): Promise<MessageRaw | null> {
    const row = this.s.messageRawById.get(id) as Row | undefined;
    return row ? messageRawFromRow(row) : null;
  }

  async listDeliveries(query: DeliveryQuery): Promise<Page<DeliveryRecord>> {
    const size = pageSize(query.limit);
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.destination !== undefined) {
      where.push('destination = ?');
      params.push(query.destination);
    }
    if (query.status !== undefined) {
      where.push('status = ?');
      params.push(query.status);
    }
    if (query.messageId !== undefined) {
      where.push('message_id = ?');
      params.push(query.messageId);
    }
    if (query.cursor) {
      const [seq] = decodeCursor<[number]>(query.cursor, ['number']);
      where.push(query.newestFirst ? 'seq < ?' : 'seq > ?');
      params.push(seq);
    }
    const sql =
      `SELECT ${DELIVERY_COLUMNS} FROM deliveries` +
      (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
      (query.newestFirst ? ' ORDER BY seq DESC LIMIT ?' : ' ORDER BY seq LIMIT ?');
    const rows = this.statement(sql).all(...params, size + 1) as Row[];
    return keysetPage(rows, size, deliveryFromRow, (last) => [last.seq]);
  }

  async getDelivery(id: string): Promise<DeliveryRecord | null> {
    const row = this.s.deliveryById.get(id) as Row | undefined;
    return row ? deliveryFromRow(row) : null;
  }

  async createReplay(originalId: string, options: ActorOptions = {}): Promise<{ id: string; replayOf: string }> {
    const now = ms(new Date());
    const id = newId();
    const tx = this.db.transaction(() => {
      const copied = this.s.insertReplay.run(id, now, replayDedupeKey(id), now, originalId);
      if (copied.changes === 0) throw new NotFoundError(`message ${originalId} not found`);
      this.s.copyIdentifiers.run(id, originalId);
      this.s.insertReceipt.run(newId(), id, now, 0, 'replay', 'replay');
      if (options.actor) {
        this.auditSync({ actor: options.actor, action: 'message.replay', subjectType: 'message', subjectId: originalId, detail: { replayId: id } });
      }
    });
    tx.immediate();
    return { id, replayOf: originalId };
  }

  async recordAudit(event: AuditInput): Promise<string> {
    return this.auditSync(event);
  }

  private auditSync(event: AuditInput): string {
    const id = newId();
    this.s.insertAudit.run(
      id,
      ms(event.at ?? new Date()),
      event.actor,
      event.action,
      event.subjectType,
      event.subjectId ?? null,
      jsonText(event.detail),
    );
    return id;
  }

  async listAudit(query: AuditQuery): Promise<Page<AuditRecord>> {
    const size = pageSize(query.limit);
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.subjectType !== undefined) {
      where.push('subject_type = ?');
      params.push(query.subjectType);
    }
    if (query.subjectId !== undefined) {
      where.push('subject_id = ?');
      params.push(query.subjectId);
    }
    if (query.cursor) {
      const [at, id] = decodeCursor<[number, string]>(query.cursor, ['number', 'string']);
      where.push('(at, id) < (?, ?)');
      params.push(at, id);
    }
    const sql =
      'SELECT id, at, actor, action, subject_type, subject_id, detail FROM audit_events' +
      (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
      ' ORDER BY at DESC, id DESC LIMIT ?';
    const rows = this.statement(sql).all(...params, size + 1) as Row[];
    return keysetPage(rows, size, auditFromRow, (last) => [last.at.getTime(), last.id]);
  }

  async stats(): Promise<StoreStats> {
    const read = this.db.transaction((): StoreStats => {
      const messagesByStatus = zeroCounts(MESSAGE_STATUSES);
      for (const r of this.s.messageCounts.all() as Row[]) {
        messagesByStatus[r.status as MessageStatus] = Number(r.n);
      }
      const tallies = deliveryTallies(this.s.deliveryCounts.all() as Row[]);
      const duplicates = Number((this.s.duplicateCount.get() as Row).n);
      return { messagesByStatus, duplicates, ...tallies };
    });
    return read();
  }

  async prune(options: PruneOptions): Promise<PruneResult> {
    const statuses = JSON.stringify(options.includeFailed ? ['processed', 'filtered', 'rejected', 'failed'] : ['processed', 'filtered', 'rejected']);
    const cutoff = ms(options.olderThan);
    const chunk = this.db.transaction((): number => {
      const ids = (this.s.prunable.all(cutoff, statuses, PRUNE_CHUNK) as Row[]).map((r) => String(r.id));
      if (ids.length > 0) this.s.deleteMessages.run(JSON.stringify(ids));
      return ids.length;
    });
    let total = 0;
    for (;;) {
      const n = chunk.immediate();
      total += n;
      if (n < PRUNE_CHUNK) break;
      // Let queued ingest run between chunks: this store is synchronous underneath.
      await yieldToEventLoop();
    }
    return { messages: total };
  }

  async ping(): Promise<void> {
    this.s.ping.get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private statement(sql: string): Statement {
    let stmt = this.dynamic.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.dynamic.set(sql, stmt);
    }
    return stmt;
  }
}


function prepareStatements(db: Database.Database) {
  const p = (sql: string): Statement => db.prepare(sql);
  return {
    ping: p('SELECT 1'),
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
    deliveryExists: p('SELECT 1 AS x FROM deliveries WHERE id = ?'),
    markDelivered: p(`UPDATE deliveries SET status = 'delivered', delivered_at = ?, next_attempt_at = NULL,
        updated_at = ? WHERE id = ? AND ${UNFINISHED_DELIVERY}`),
    markRetrying: p(`UPDATE deliveries SET status = 'failed-retrying', next_attempt_at = ?, last_error = ?,
        updated_at = ? WHERE id = ? AND ${UNFINISHED_DELIVERY}`),
    markDead: p(`UPDATE deliveries SET status = 'dead', last_error = ?, next_attempt_at = NULL, updated_at = ?
        WHERE id = ? AND ${UNFINISHED_DELIVERY}`),
    markCancelled: p(`UPDATE deliveries SET status = 'cancelled', last_error = ?, next_attempt_at = NULL,
        updated_at = ? WHERE id = ? AND status IN ('pending','failed-retrying','dead','withheld')`),
    requeueOne: p(`UPDATE deliveries SET status = 'pending', next_attempt_at = NULL, updated_at = ?
        WHERE id = ? AND status = 'dead' RETURNING id`),
    requeueDestination: p(`UPDATE deliveries SET status = 'pending', next_attempt_at = NULL, updated_at = ?
        WHERE destination = ? AND status = 'dead' RETURNING id`),
    earlierUndelivered: p(`SELECT 1 AS x FROM deliveries WHERE destination = ? AND patient_key = ? AND seq < ?
        AND ${UNFINISHED_DELIVERY} LIMIT 1`),
    unfinishedMessages: p(`SELECT id, received_at FROM messages WHERE status = 'received' AND id > ?
        ORDER BY id LIMIT ?`),
    unfinishedDeliveries: p(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE ${UNFINISHED_DELIVERY} AND seq > ?
        ORDER BY seq LIMIT ?`),
    messageById: p(`SELECT ${SUMMARY_COLUMNS}, raw, fhir FROM messages WHERE id = ?`),
    messageRawById: p('SELECT source_kind, source_name, partner_id, received_at, status, replay_of, raw FROM messages WHERE id = ?'),
    identifiersOf: p('SELECT system, value FROM message_identifiers WHERE message_id = ? ORDER BY system, value'),
    receiptsOf: p(`SELECT id, message_id, received_at, duplicate, source_kind, source_name FROM receipts
        WHERE message_id = ? ORDER BY received_at, id LIMIT ?`),
    deliveriesOf: p(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE message_id = ? ORDER BY seq`),
    attemptsOfMessage: p(`SELECT ${prefixed(ATTEMPT_COLUMNS, 'a')} FROM delivery_attempts a
        JOIN deliveries d ON d.id = a.delivery_id WHERE d.message_id = ? ORDER BY a.started_at, a.id`),
    replaysOf: p(`SELECT ${SUMMARY_COLUMNS} FROM messages WHERE replay_of = ? ORDER BY received_at, id`),
    deliveryById: p(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE id = ?`),
    insertReplay: p(`INSERT INTO messages (id, received_at, source_kind, source_name, partner_id, sender,
        control_id, message_type, trigger_event, version, dedupe_key, content_hash, status, replay_of,
        updated_at, raw)
      SELECT ?, ?, 'replay', 'replay', partner_id, sender, control_id, message_type, trigger_event, version,
        ?, content_hash, 'received', id, ?, raw
      FROM messages WHERE id = ?`),
    copyIdentifiers: p(`INSERT OR IGNORE INTO message_identifiers (message_id, system, value)
      SELECT ?, system, value FROM message_identifiers WHERE message_id = ?`),
    insertAudit: p(`INSERT INTO audit_events (id, at, actor, action, subject_type, subject_id, detail)
      VALUES (?, ?, ?, ?, ?, ?, ?)`),
    messageCounts: p('SELECT status, count(*) AS n FROM messages GROUP BY status'),
    deliveryCounts: p('SELECT destination, status, count(*) AS n FROM deliveries GROUP BY destination, status'),
    duplicateCount: p('SELECT count(*) AS n FROM receipts WHERE duplicate = 1'),
    prunable: p(`SELECT m.id FROM messages m
      WHERE m.received_at < ? AND m.status IN (SELECT value FROM json_each(?))
        AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id
          AND d.status NOT IN ('delivered','dead','withheld','cancelled'))
      ORDER BY m.received_at LIMIT ?`),
    deleteMessages: p('DELETE FROM messages WHERE id IN (SELECT value FROM json_each(?))'),
  };
}
