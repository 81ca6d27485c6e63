import pg from 'pg';
import { decodeCursor } from '../cursor.js';
import { NotFoundError, StoreError } from '../errors.js';
import { newId } from '../ids.js';
import { openPool } from '../open-database.js';
import {
  PRUNE_CHUNK,
  RECEIPTS_IN_DETAIL,
  jsonText,
  normalizeAll,
  normalizeCompletion,
  normalizeDeliveryResult,
  normalizeInbound,
  pageSize,
  replayDedupeKey,
  splitEvent,
  validateAttempt,
  type NormalizedCompletion,
} from '../inputs.js';
import { applyDeliveryResult, type DeliveryState } from '../delivery-state.js';
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
  type DeliveryStatus,
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
} from '../types.js';
import { migratePostgres } from './migrate.js';
import { POSTGRES_MIGRATIONS } from './migrations.js';

export interface PostgresStoreOptions {
  /** Pool size per process. Default 10. */
  max?: number;
  /** Errors of idle pooled connections (server restart, network). Without a handler they would crash the process. */
  onBackgroundError?: (err: Error) => void;
  /**
   * Called each time a transaction is rolled back and rerun (`deadlock`, `serialization` failure, or
   * a `conflict` with a concurrent prune). Retries are invisible to callers; count them in metrics.
   */
  onTransactionRetry?: (reason: TransactionRetryReason) => void;
}

export type TransactionRetryReason = 'deadlock' | 'serialization' | 'conflict';

type Client = pg.PoolClient;

const UNFINISHED_DELIVERY = `status IN ('pending','failed-retrying')`;
const MAX_TX_ATTEMPTS = 5;
/**
 * Delivery bookkeeping (attempts, outcomes) does not wait for the WAL flush: losing the last few
 * after a server crash costs an idempotent resend, never a message (docs/DECISIONS.md). SET LOCAL
 * ends with the transaction, so pooled connections keep the default for inbound commits.
 */
const BEGIN_BOOKKEEPING = 'BEGIN; SET LOCAL synchronous_commit = off';

/** Thrown inside a transaction when a concurrent writer changed what we just read; the whole transaction reruns. */
class RetryTransaction extends Error {}

/** deadlock_detected, serialization_failure: safe to rerun because the transaction rolled back. */
function retryReason(err: unknown): TransactionRetryReason | null {
  if (err instanceof RetryTransaction) return 'conflict';
  const code = (err as { code?: unknown } | null)?.code;
  if (code === '40P01') return 'deadlock';
  if (code === '40001') return 'serialization';
  return null;
}

function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * MessageStore on Postgres through a pg Pool. Several gateway processes may share one database:
 * every invariant lives in the database (unique dedupe key, identity sequence for seq, guarded
 * status updates, advisory locks), none in process memory. Queries are parameterized only;
 * batches go through unnest() arrays so a group commit is a handful of round trips, not one per row.
 */
export class PostgresStore implements MessageStore {
  readonly kind = 'postgres' as const;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly onRetry: (reason: TransactionRetryReason) => void,
  ) {}

  static async open(connectionString: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const pool = await openPool(connectionString, { max: options.max ?? 10, onBackgroundError: options.onBackgroundError }, (p) =>
      migratePostgres(p, POSTGRES_MIGRATIONS),
    );
    return new PostgresStore(pool, options.onTransactionRetry ?? (() => {}));
  }

  /** Runs fn in a transaction; reruns it on deadlock/serialization failure. */
  private async tx<T>(fn: (c: Client) => Promise<T>, begin = 'BEGIN'): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const c = await this.pool.connect();
      let broken = false;
      try {
        await c.query(begin);
        const result = await fn(c);
        await c.query('COMMIT');
        return result;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {
          broken = true;
        });
        const reason = retryReason(err);
        if (attempt < MAX_TX_ATTEMPTS && reason !== null) {
          this.onRetry(reason);
          continue;
        }
        if (err instanceof RetryTransaction) throw new StoreError('store transaction kept conflicting; try again');
        throw err;
      } finally {
        c.release(broken);
      }
    }
  }

  private async query(sql: string, params: unknown[] = []): Promise<Row[]> {
    return (await this.pool.query(sql, params)).rows as Row[];
  }

  async acceptInbound(batch: readonly InboundInput[]): Promise<InboundResult[]> {
    if (batch.length === 0) return [];
    const now = new Date();
    const items = batch.map((input) => normalizeInbound(input, now));

    // The first occurrence of each key is the insert candidate; later ones in the batch are duplicates.
    const firstIndex = new Map<string, number>();
    items.forEach((m, i) => {
      if (!firstIndex.has(m.dedupeKey)) firstIndex.set(m.dedupeKey, i);
    });
    // Sorted by key so concurrent batches take unique-index locks in one global order (no deadlock).
    const candidateIdx = [...firstIndex.values()].sort((a, b) => byKey(items[a].dedupeKey, items[b].dedupeKey));

    return this.tx(async (c) => {
      const ids = new Map<number, string>(candidateIdx.map((i) => [i, newId()]));
      const cand = candidateIdx.map((i) => items[i]);
      const { rows: insertedRows } = await c.query(
        `INSERT INTO messages (id, received_at, source_kind, source_name, partner_id, sender, control_id,
           message_type, trigger_event, version, dedupe_key, content_hash, status, status_reason, updated_at, raw)
         SELECT t.id, t.received_at, t.source_kind, t.source_name, t.partner_id, t.sender, t.control_id,
           t.message_type, t.trigger_event, t.version, t.dedupe_key, t.content_hash, t.status, t.status_reason,
           $16::timestamptz, t.raw
         FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
           $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::bytea[])
           WITH ORDINALITY AS t(id, received_at, source_kind, source_name, partner_id, sender, control_id,
             message_type, trigger_event, version, dedupe_key, content_hash, status, status_reason, raw, ord)
         ORDER BY t.ord
         ON CONFLICT (dedupe_key) DO NOTHING
         RETURNING dedupe_key`,
        [
          candidateIdx.map((i) => ids.get(i)),
          cand.map((m) => m.receivedAt),
          cand.map((m) => m.sourceKind),
          cand.map((m) => m.sourceName),
          cand.map((m) => m.partnerId),
          cand.map((m) => m.sender),
          cand.map((m) => m.controlId),
          cand.map((m) => m.messageType),
          cand.map((m) => m.triggerEvent),
          cand.map((m) => m.version),
          cand.map((m) => m.dedupeKey),
          cand.map((m) => m.contentHash),
          cand.map((m) => m.status),
          cand.map((m) => m.statusReason),
          cand.map((m) => m.raw),
          now,
        ],
      );
      const inserted = new Set(insertedRows.map((r) => String(r.dedupe_key)));

      // Identifiers of the newly stored messages.
      const identMsg: string[] = [];
      const identSys: string[] = [];
      const identVal: string[] = [];
      for (const i of candidateIdx) {
        if (!inserted.has(items[i].dedupeKey)) continue;
        for (const ident of items[i].identifiers) {
          identMsg.push(ids.get(i)!);
          identSys.push(ident.system);
          identVal.push(ident.value);
        }
      }
      await insertIdentifiers(c, identMsg, identSys, identVal);

      // Everything that is not the inserted first occurrence is a duplicate receipt.
      const dupCounts = new Map<string, number>();
      items.forEach((m, i) => {
        const isNew = firstIndex.get(m.dedupeKey) === i && inserted.has(m.dedupeKey);
        if (!isNew) dupCounts.set(m.dedupeKey, (dupCounts.get(m.dedupeKey) ?? 0) + 1);
      });
      const existing = new Map<string, { id: string; status: MessageStatus }>();
      if (dupCounts.size > 0) {
        const keys = [...dupCounts.keys()];
        // Lock the originals in key order before bumping their counters (deadlock-free ordering).
        const { rows } = await c.query(
          `SELECT id, dedupe_key, status FROM messages WHERE dedupe_key = ANY($1::text[])
           ORDER BY dedupe_key FOR UPDATE`,
          [keys],
        );
        for (const r of rows) existing.set(String(r.dedupe_key), { id: String(r.id), status: r.status as MessageStatus });
        // A key that conflicted but is gone now was pruned concurrently: rerun, it will insert fresh.
        if (keys.some((k) => !existing.has(k))) throw new RetryTransaction();
        await c.query(
          `UPDATE messages AS m SET duplicate_count = m.duplicate_count + d.n, updated_at = $3
           FROM unnest($1::text[], $2::int[]) AS d(k, n) WHERE m.dedupe_key = d.k`,
          [keys, keys.map((k) => dupCounts.get(k)), now],
        );
      }

      const results: InboundResult[] = [];
      const receipt = { id: [] as string[], msg: [] as string[], at: [] as Date[], dup: [] as boolean[], kind: [] as string[], name: [] as string[] };
      items.forEach((m, i) => {
        const isNew = firstIndex.get(m.dedupeKey) === i && inserted.has(m.dedupeKey);
        const target = isNew ? { id: ids.get(i)!, status: m.status as MessageStatus } : existing.get(m.dedupeKey)!;
        const receiptId = newId();
        results.push({ id: target.id, duplicate: !isNew, status: target.status, receiptId });
        receipt.id.push(receiptId);
        receipt.msg.push(target.id);
        receipt.at.push(m.receivedAt);
        receipt.dup.push(!isNew);
        receipt.kind.push(m.sourceKind);
        receipt.name.push(m.sourceName);
      });
      await c.query(
        `INSERT INTO receipts (id, message_id, received_at, duplicate, source_kind, source_name)
         SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::boolean[], $5::text[], $6::text[])`,
        [receipt.id, receipt.msg, receipt.at, receipt.dup, receipt.kind, receipt.name],
      );
      return results;
    });
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

  /**
   * One transaction, a fixed number of round trips whatever the batch size: lock the messages,
   * decide in memory which items apply, then one multi-row statement per table.
   */
  private completeAll(list: readonly NormalizedCompletion[]): Promise<CompletionItemResult[]> {
    const now = new Date();
    return this.tx(async (c): Promise<CompletionItemResult[]> => {
      // Locked in dedupe-key order: acceptInbound locks originals in that order when it counts
      // duplicates, so a completion batch and an ingest batch cannot wait on each other in a cycle.
      const { rows: locked } = await c.query(
        'SELECT id, status FROM messages WHERE id = ANY($1::text[]) ORDER BY dedupe_key FOR UPDATE',
        [[...new Set(list.map((item) => item.messageId))]],
      );
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
      await c.query(
        `UPDATE messages AS m SET status = t.status, status_reason = t.reason, fhir = t.fhir, updated_at = $5
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t(id, status, reason, fhir)
         WHERE m.id = t.id AND m.status = 'received'`,
        [done.map((d) => d.messageId), done.map((d) => d.status), done.map((d) => d.statusReason), done.map((d) => d.fhir), now],
      );
      await insertIdentifiers(
        c,
        done.flatMap((d) => d.identifiers.map(() => d.messageId)),
        done.flatMap((d) => d.identifiers.map((ident) => ident.system)),
        done.flatMap((d) => d.identifiers.map((ident) => ident.value)),
      );

      const rows = applied.flatMap((i) => list[i].deliveries.map((d) => ({ item: i, messageId: list[i].messageId, d, id: newId() })));
      if (rows.length === 0) return results;
      // Per-patient ordering across processes: serialize seq allocation AND commit for each
      // destination+patient, so a smaller seq is always visible before a larger one commits. All
      // locks of the batch are taken at once, in sorted order, so concurrent batches cannot deadlock.
      const lockKeys = [
        ...new Set(rows.filter((r) => r.d.patientKey !== null).map((r) => JSON.stringify([r.d.destination, r.d.patientKey]))),
      ].sort(byKey);
      if (lockKeys.length > 0) {
        await c.query('SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) FROM unnest($1::text[]) AS k', [lockKeys]);
      }
      const { rows: inserted } = await c.query(
        `INSERT INTO deliveries (id, message_id, destination, patient_key, status, next_attempt_at, payload,
           withheld_reason, created_at, updated_at, route_id, partner_id)
         SELECT t.id, t.message_id, t.destination, t.patient_key, t.status, t.next_attempt_at, t.payload,
           t.withheld_reason, $9::timestamptz, $9::timestamptz, t.route_id, t.partner_id
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[], $8::text[], $10::text[], $11::text[])
           WITH ORDINALITY AS t(id, message_id, destination, patient_key, status, next_attempt_at, payload, withheld_reason, route_id, partner_id, ord)
         ORDER BY t.ord
         RETURNING ${DELIVERY_COLUMNS}`,
        [
          rows.map((r) => r.id),
          rows.map((r) => r.messageId),
          rows.map((r) => r.d.destination),
          rows.map((r) => r.d.patientKey),
          rows.map((r) => r.d.status),
          rows.map((r) => r.d.nextAttemptAt),
          rows.map((r) => r.d.payload),
          rows.map((r) => r.d.withheldReason),
          now,
          rows.map((r) => r.d.routeId),
          rows.map((r) => r.d.partnerId),
        ],
      );
      const byId = new Map(inserted.map((r) => [String(r.id), deliveryFromRow(r as Row)]));
      for (const r of rows) {
        const result = results[r.item];
        if (result.ok) result.result.deliveries.push(byId.get(r.id)!);
      }
      return results;
    });
  }

  async recordAttempt(deliveryId: string, attempt: AttemptInput): Promise<string> {
    validateAttempt(attempt);
    const id = newId();
    await this.tx(async (c) => {
      const bumped = await c.query('UPDATE deliveries SET attempts = attempts + 1, updated_at = $1 WHERE id = $2', [
        new Date(),
        deliveryId,
      ]);
      if (bumped.rowCount === 0) throw new NotFoundError(`delivery ${deliveryId} not found`);
      await c.query(
        `INSERT INTO delivery_attempts (id, delivery_id, started_at, duration_ms, outcome, http_status, ack_code, error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          id,
          deliveryId,
          attempt.startedAt,
          Math.max(0, Math.round(attempt.durationMs)),
          attempt.outcome,
          attempt.httpStatus ?? null,
          attempt.ackCode ?? null,
          attempt.error ?? null,
        ],
      );
    }, BEGIN_BOOKKEEPING);
    return id;
  }

  async recordDeliveryResults(items: readonly DeliveryResultInput[]): Promise<boolean[]> {
    if (items.length === 0) return [];
    const now = new Date();
    const list = normalizeAll(items, (item) => normalizeDeliveryResult(item, now));
    return this.tx(async (c): Promise<boolean[]> => {
      // Lock in id order (two workers' batches sharing a delivery cannot deadlock), then replay the
      // batch in memory and write each row's final state once: correct even when a delivery
      // appears twice, which a multi-row UPDATE alone would not be.
      const { rows: locked } = await c.query(
        `SELECT id, status, next_attempt_at, last_error, delivered_at FROM deliveries
         WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
        [[...new Set(list.map((r) => r.deliveryId))]],
      );
      const rows = new Map<string, { state: DeliveryState; attempts: number; changed: boolean }>();
      for (const r of locked) {
        rows.set(String(r.id), {
          state: {
            status: r.status as DeliveryStatus,
            nextAttemptAt: r.next_attempt_at as Date | null,
            lastError: r.last_error as string | null,
            deliveredAt: r.delivered_at as Date | null,
          },
          attempts: 0,
          changed: false,
        });
      }
      const recorded = list.filter((r) => rows.has(r.deliveryId));
      const applied = list.map((r) => {
        const row = rows.get(r.deliveryId);
        if (!row) return false;
        row.attempts++;
        const ok = applyDeliveryResult(row.state, r);
        row.changed ||= ok;
        return ok;
      });
      if (recorded.length === 0) return applied;

      const ids = [...rows.keys()];
      const finals = ids.map((id) => rows.get(id)!);
      await c.query(
        `UPDATE deliveries AS d SET attempts = d.attempts + t.n, updated_at = $8,
           status = CASE WHEN t.changed THEN t.status ELSE d.status END,
           next_attempt_at = CASE WHEN t.changed THEN t.next_attempt_at ELSE d.next_attempt_at END,
           last_error = CASE WHEN t.changed THEN t.last_error ELSE d.last_error END,
           delivered_at = CASE WHEN t.changed THEN t.delivered_at ELSE d.delivered_at END
         FROM unnest($1::text[], $2::int[], $3::boolean[], $4::text[], $5::timestamptz[], $6::text[], $7::timestamptz[])
           AS t(id, n, changed, status, next_attempt_at, last_error, delivered_at)
         WHERE d.id = t.id`,
        [
          ids,
          finals.map((f) => f.attempts),
          finals.map((f) => f.changed),
          finals.map((f) => f.state.status),
          finals.map((f) => f.state.nextAttemptAt),
          finals.map((f) => f.state.lastError),
          finals.map((f) => f.state.deliveredAt),
          now,
        ],
      );
      await c.query(
        `INSERT INTO delivery_attempts (id, delivery_id, started_at, duration_ms, outcome, http_status, ack_code, error)
         SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::int[], $5::text[], $6::int[], $7::text[], $8::text[])`,
        [
          recorded.map(() => newId()),
          recorded.map((r) => r.deliveryId),
          recorded.map((r) => r.attempt.startedAt),
          recorded.map((r) => r.attempt.durationMs),
          recorded.map((r) => r.attempt.outcome),
          recorded.map((r) => r.attempt.httpStatus),
          recorded.map((r) => r.attempt.ackCode),
          recorded.map((r) => r.attempt.error),
        ],
      );
      return applied;
    }, BEGIN_BOOKKEEPING);
  }

  async markDelivered(deliveryId: string, at: Date = new Date()): Promise<boolean> {
    return this.transition(
      this.pool,
      `UPDATE deliveries SET status = 'delivered', delivered_at = $1, next_attempt_at = NULL, updated_at = $2
       WHERE id = $3 AND ${UNFINISHED_DELIVERY}`,
      [at, new Date(), deliveryId],
      deliveryId,
    );
  }

  async markRetrying(deliveryId: string, nextAttemptAt: Date, error: string): Promise<boolean> {
    return this.transition(
      this.pool,
      `UPDATE deliveries SET status = 'failed-retrying', next_attempt_at = $1, last_error = $2, updated_at = $3
       WHERE id = $4 AND ${UNFINISHED_DELIVERY}`,
      [nextAttemptAt, error, new Date(), deliveryId],
      deliveryId,
    );
  }

  async markDead(deliveryId: string, error: string): Promise<boolean> {
    return this.transition(
      this.pool,
      `UPDATE deliveries SET status = 'dead', last_error = $1, next_attempt_at = NULL, updated_at = $2
       WHERE id = $3 AND ${UNFINISHED_DELIVERY}`,
      [error, new Date(), deliveryId],
      deliveryId,
    );
  }

  async markCancelled(deliveryId: string, reason: string, options: ActorOptions = {}): Promise<boolean> {
    return this.tx(async (c) => {
      const ok = await this.transition(
        c,
        `UPDATE deliveries SET status = 'cancelled', last_error = $1, next_attempt_at = NULL, updated_at = $2
         WHERE id = $3 AND status IN ('pending','failed-retrying','dead','withheld')`,
        [reason, new Date(), deliveryId],
        deliveryId,
      );
      if (ok && options.actor) {
        await insertAudit(c, { actor: options.actor, action: 'delivery.cancel', subjectType: 'delivery', subjectId: deliveryId, detail: { reason } });
      }
      return ok;
    });
  }

  /** A guarded status change: false when the state did not allow it, NotFound when absent. */
  private async transition(
    q: pg.Pool | Client,
    sql: string,
    params: unknown[],
    deliveryId: string,
  ): Promise<boolean> {
    const res = await q.query(sql, params);
    if (res.rowCount === 1) return true;
    const exists = await q.query('SELECT 1 FROM deliveries WHERE id = $1', [deliveryId]);
    if (exists.rowCount === 0) throw new NotFoundError(`delivery ${deliveryId} not found`);
    return false;
  }

  async requeueDead(target: string | { destination: string }, options: ActorOptions = {}): Promise<string[]> {
    return this.tx(async (c) => {
      const now = new Date();
      let ids: string[];
      if (typeof target === 'string') {
        const { rows } = await c.query(
          `UPDATE deliveries SET status = 'pending', next_attempt_at = NULL, updated_at = $1
           WHERE id = $2 AND status = 'dead' RETURNING id`,
          [now, target],
        );
        ids = rows.map((r) => String(r.id));
        if (ids.length === 0) {
          const exists = await c.query('SELECT 1 FROM deliveries WHERE id = $1', [target]);
          if (exists.rowCount === 0) throw new NotFoundError(`delivery ${target} not found`);
        }
      } else {
        const { rows } = await c.query(
          `UPDATE deliveries SET status = 'pending', next_attempt_at = NULL, updated_at = $1
           WHERE destination = $2 AND status = 'dead' RETURNING id, seq`,
          [now, target.destination],
        );
        ids = rows.sort((a, b) => Number(a.seq) - Number(b.seq)).map((r) => String(r.id));
      }
      if (options.actor && ids.length > 0) {
        await insertAudit(c, requeueAuditEvent(options.actor, target, ids.length));
      }
      return ids;
    });
  }

  async hasEarlierUndelivered(destination: string, patientKey: string, seq: number): Promise<boolean> {
    const rows = await this.query(
      `SELECT 1 FROM deliveries WHERE destination = $1 AND patient_key = $2 AND seq < $3
       AND ${UNFINISHED_DELIVERY} LIMIT 1`,
      [destination, patientKey, seq],
    );
    return rows.length > 0;
  }

  async listUnfinished(limit: number, afterCursor?: string | null): Promise<Page<UnfinishedItem>> {
    const size = pageSize(limit);
    const { phase, afterId, afterSeq } = unfinishedStart(afterCursor);
    let items: UnfinishedItem[] = [];
    if (phase === 'm') {
      const rows = await this.query(
        `SELECT id, received_at FROM messages WHERE status = 'received' AND id > $1 ORDER BY id LIMIT $2`,
        [afterId, size],
      );
      const page = unfinishedMessagesPage(rows, size);
      if (page.next !== null) return page;
      items = page.items;
    }
    const remaining = size - items.length;
    const rows = await this.query(
      `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE ${UNFINISHED_DELIVERY} AND seq > $1 ORDER BY seq LIMIT $2`,
      [afterSeq, remaining],
    );
    return unfinishedDeliveriesPage(items, rows, remaining);
  }

  async searchMessages(query: MessageQuery): Promise<Page<MessageSummary>> {
    const size = pageSize(query.limit);
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (value: unknown): string => {
      params.push(value);
      return `$${params.length}`;
    };
    if (query.partners !== undefined) where.push(`m.partner_id = ANY(${p([...query.partners])}::text[])`);
    if (query.identifier) {
      where.push(
        query.identifier.system !== undefined
          ? `m.id IN (SELECT message_id FROM message_identifiers WHERE value = ${p(query.identifier.value)} AND system = ${p(query.identifier.system)})`
          : `m.id IN (SELECT message_id FROM message_identifiers WHERE value = ${p(query.identifier.value)})`,
      );
    }
    if (query.controlId !== undefined) where.push(`m.control_id = ${p(query.controlId)}`);
    if (query.sender !== undefined) where.push(`m.sender = ${p(query.sender)}`);
    if (query.event !== undefined) {
      const ev = splitEvent(query.event);
      where.push(`m.trigger_event = ${p(ev.triggerEvent)}`);
      if (ev.messageType !== undefined) where.push(`m.message_type = ${p(ev.messageType)}`);
    }
    if (query.messageType !== undefined) where.push(`m.message_type = ${p(query.messageType)}`);
    if (query.status !== undefined) where.push(`m.status = ${p(query.status)}`);
    if (query.partner !== undefined) where.push(`m.partner_id = ${p(query.partner)}`);
    if (query.from !== undefined) where.push(`m.received_at >= ${p(query.from)}`);
    if (query.to !== undefined) where.push(`m.received_at < ${p(query.to)}`);
    if (query.cursor) {
      const [at, id] = decodeCursor<[number, string]>(query.cursor, ['number', 'string']);
      where.push(`(m.received_at, m.id) < (${p(new Date(at))}, ${p(id)})`);
    }
    const sql =
      `SELECT ${prefixed(SUMMARY_COLUMNS, 'm')} FROM messages m` +
      (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
      ` ORDER BY m.received_at DESC, m.id DESC LIMIT ${p(size + 1)}`;
    return keysetPage(await this.query(sql, params), size, messageSummaryFromRow, (last) => [last.receivedAt.getTime(), last.id]);
  }

  async getMessage(id: string): Promise<MessageDetail | null> {
    // One snapshot for the whole lineage, so a delivery and its attempts agree.
    return this.tx(async (c): Promise<MessageDetail | null> => {
      const { rows } = await c.query(`SELECT ${SUMMARY_COLUMNS}, raw, fhir FROM messages WHERE id = $1`, [id]);
      if (rows.length === 0) return null;
      const row = rows[0] as Row;
      const [idents, receipts, deliveries, attempts, replays] = [
        await c.query('SELECT system, value FROM message_identifiers WHERE message_id = $1 ORDER BY system, value', [id]),
        await c.query(
          `SELECT id, message_id, received_at, duplicate, source_kind, source_name FROM receipts
           WHERE message_id = $1 ORDER BY received_at, id LIMIT $2`,
          [id, RECEIPTS_IN_DETAIL],
        ),
        await c.query(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE message_id = $1 ORDER BY seq`, [id]),
        await c.query(
          `SELECT ${prefixed(ATTEMPT_COLUMNS, 'a')} FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
           WHERE d.message_id = $1 ORDER BY a.started_at, a.id`,
          [id],
        ),
        await c.query(`SELECT ${SUMMARY_COLUMNS} FROM messages WHERE replay_of = $1 ORDER BY received_at, id`, [id]),
      ];
      return messageDetailFromRows(row, {
        identifiers: idents.rows as Row[],
        receipts: receipts.rows as Row[],
        deliveries: deliveries.rows as Row[],
        attempts: attempts.rows as Row[],
        replays: replays.rows as Row[],
      });
    }, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  }

  async getMessageRaw(id: string): Promise<MessageRaw | null> {
    const rows = await this.query(
      'SELECT source_kind, source_name, partner_id, received_at, status, replay_of, raw FROM messages WHERE id = $1',
      [id],
    );
    return rows.length === 0 ? null : messageRawFromRow(rows[0]);
  }

  async listDeliveries(query: DeliveryQuery): Promise<Page<DeliveryRecord>> {
    const size = pageSize(query.limit);
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (value: unknown): string => {
      params.push(value);
      return `$${params.length}`;
    };
    if (query.destination !== undefined) where.push(`destination = ${p(query.destination)}`);
    if (query.status !== undefined) where.push(`status = ${p(query.status)}`);
    if (query.messageId !== undefined) where.push(`message_id = ${p(query.messageId)}`);
    if (query.cursor) {
      const [seq] = decodeCursor<[number]>(query.cursor, ['number']);
      where.push(query.newestFirst ? `seq < ${p(seq)}` : `seq > ${p(seq)}`);
    }
    const sql =
      `SELECT ${DELIVERY_COLUMNS} FROM deliveries` +
      (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
      ` ORDER BY seq${query.newestFirst ? ' DESC' : ''} LIMIT ${p(size + 1)}`;
    return keysetPage(await this.query(sql, params), size, deliveryFromRow, (last) => [last.seq]);
  }

  async getDelivery(id: string): Promise<DeliveryRecord | null> {
    const rows = await this.query(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE id = $1`, [id]);
    return rows.length ? deliveryFromRow(rows[0]) : null;
  }

  async createReplay(originalId: string, options: ActorOptions = {}): Promise<{ id: string; replayOf: string }> {
    const id = newId();
    const now = new Date();
    await this.tx(async (c) => {
      const copied = await c.query(
        `INSERT INTO messages (id, received_at, source_kind, source_name, partner_id, sender, control_id,
           message_type, trigger_event, version, dedupe_key, content_hash, status, replay_of, updated_at, raw)
         SELECT $1::text, $2::timestamptz, 'replay', 'replay', partner_id, sender, control_id, message_type,
           trigger_event, version, $3::text, content_hash, 'received', id, $2::timestamptz, raw
         FROM messages WHERE id = $4`,
        [id, now, replayDedupeKey(id), originalId],
      );
      if (copied.rowCount === 0) throw new NotFoundError(`message ${originalId} not found`);
      await c.query(
        `INSERT INTO message_identifiers (message_id, system, value)
         SELECT $1::text, system, value FROM message_identifiers WHERE message_id = $2 ON CONFLICT DO NOTHING`,
        [id, originalId],
      );
      await c.query(
        `INSERT INTO receipts (id, message_id, received_at, duplicate, source_kind, source_name)
         VALUES ($1, $2, $3, false, 'replay', 'replay')`,
        [newId(), id, now],
      );
      if (options.actor) {
        await insertAudit(c, { actor: options.actor, action: 'message.replay', subjectType: 'message', subjectId: originalId, detail: { replayId: id } });
      }
    });
    return { id, replayOf: originalId };
  }

  async recordAudit(event: AuditInput): Promise<string> {
    return insertAudit(this.pool, event);
  }

  async listAudit(query: AuditQuery): Promise<Page<AuditRecord>> {
    const size = pageSize(query.limit);
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (value: unknown): string => {
      params.push(value);
      return `$${params.length}`;
    };
    if (query.subjectType !== undefined) where.push(`subject_type = ${p(query.subjectType)}`);
    if (query.subjectId !== undefined) where.push(`subject_id = ${p(query.subjectId)}`);
    if (query.cursor) {
      const [at, id] = decodeCursor<[number, string]>(query.cursor, ['number', 'string']);
      where.push(`(at, id) < (${p(new Date(at))}, ${p(id)})`);
    }
    const sql =
      'SELECT id, at, actor, action, subject_type, subject_id, detail FROM audit_events' +
      (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
      ` ORDER BY at DESC, id DESC LIMIT ${p(size + 1)}`;
    return keysetPage(await this.query(sql, params), size, auditFromRow, (last) => [last.at.getTime(), last.id]);
  }

  async stats(): Promise<StoreStats> {
    return this.tx(async (c): Promise<StoreStats> => {
      const messagesByStatus = zeroCounts(MESSAGE_STATUSES);
      for (const r of (await c.query('SELECT status, count(*) AS n FROM messages GROUP BY status')).rows) {
        messagesByStatus[r.status as MessageStatus] = Number(r.n);
      }
      const counts = await c.query('SELECT destination, status, count(*) AS n FROM deliveries GROUP BY destination, status');
      const dup = await c.query('SELECT count(*) AS n FROM receipts WHERE duplicate');
      return { messagesByStatus, duplicates: Number(dup.rows[0].n), ...deliveryTallies(counts.rows as Row[]) };
    }, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  }

  async prune(options: PruneOptions): Promise<PruneResult> {
    const statuses = options.includeFailed ? ['processed', 'filtered', 'rejected', 'failed'] : ['processed', 'filtered', 'rejected'];
    let total = 0;
    for (;;) {
      const { picked, deleted } = await this.tx(async (c) => {
        const { rows } = await c.query(
          `SELECT m.id FROM messages m
           WHERE m.received_at < $1 AND m.status = ANY($2::text[])
             AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id
               AND d.status NOT IN ('delivered','dead','withheld','cancelled'))
           ORDER BY m.received_at LIMIT $3
           FOR UPDATE OF m SKIP LOCKED`,
          [options.olderThan, statuses, PRUNE_CHUNK],
        );
        const ids = rows.map((r) => String(r.id));
        if (ids.length === 0) return { picked: 0, deleted: 0 };
        // Lock their deliveries, then re-check in the DELETE (a fresh snapshot): a dead letter
        // requeued meanwhile makes its message unfinished again, and it must survive.
        await c.query('SELECT 1 FROM deliveries WHERE message_id = ANY($1::text[]) FOR UPDATE', [ids]);
        const del = await c.query(
          `DELETE FROM messages m WHERE m.id = ANY($1::text[])
             AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id
               AND d.status NOT IN ('delivered','dead','withheld','cancelled'))`,
          [ids],
        );
        return { picked: ids.length, deleted: del.rowCount ?? 0 };
      });
      total += deleted;
      if (picked < PRUNE_CHUNK) break;
    }
    return { messages: total };
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

async function insertIdentifiers(c: Client, messageIds: string[], systems: string[], values: string[]): Promise<void> {
  if (messageIds.length === 0) return;
  await c.query(
    `INSERT INTO message_identifiers (message_id, system, value)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING`,
    [messageIds, systems, values],
  );
}

async function insertAudit(c: pg.Pool | Client, event: AuditInput): Promise<string> {
  const id = newId();
  await c.query(
    `INSERT INTO audit_events (id, at, actor, action, subject_type, subject_id, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [id, event.at ?? new Date(), event.actor, event.action, event.subjectType, event.subjectId ?? null, jsonText(event.detail)],
  );
  return id;
}
