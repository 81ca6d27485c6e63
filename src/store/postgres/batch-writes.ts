import type pg from 'pg';
import { ms, type BatchWrites } from '../batch-writes.js';
import { applyDeliveryResult, type DeliveryState } from '../delivery-state.js';
import { newId } from '../ids.js';
import { DELIVERY_COLUMNS, deliveryFromRow, toDateOrNull, type Row } from '../rows.js';
import type { PostgresDb } from '../sql/postgres-db.js';
import { RetryTransaction } from '../sql/sql-db.js';
import type { CompletionItemResult, DeliveryStatus, InboundResult, MessageStatus } from '../types.js';

type Client = pg.PoolClient;

function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function insertIdentifiers(c: Client, messageIds: string[], systems: string[], values: string[]): Promise<void> {
  if (messageIds.length === 0) return;
  await c.query(
    `INSERT INTO message_identifiers (message_id, system, value)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING`,
    [messageIds, systems, values],
  );
}

/**
 * The hot-path batches on Postgres, as before the SQL layer was shared (times now BIGINT epoch ms,
 * schema migration 5): one transaction, a fixed number of round trips whatever the batch size,
 * every bulk write one unnest() statement. Several gateway processes may share the database: lock
 * order is the same in every batch (messages in dedupe_key order, then (destination, patient)
 * advisory locks sorted, then deliveries in id order), so concurrent batches queue and never deadlock.
 */
export function postgresBatchWrites(db: PostgresDb): BatchWrites {
  return {
    acceptInbound(items, nowDate) {
      const now = ms(nowDate);
      // The first occurrence of each key is the insert candidate; later ones in the batch are duplicates.
      const firstIndex = new Map<string, number>();
      items.forEach((m, i) => {
        if (!firstIndex.has(m.dedupeKey)) firstIndex.set(m.dedupeKey, i);
      });
      // Sorted by key so concurrent batches take unique-index locks in one global order (no deadlock).
      const candidateIdx = [...firstIndex.values()].sort((a, b) => byKey(items[a].dedupeKey, items[b].dedupeKey));

      return db.clientTransaction(async (c) => {
        const ids = new Map<number, string>(candidateIdx.map((i) => [i, newId()]));
        const cand = candidateIdx.map((i) => items[i]);
        const { rows: insertedRows } = await c.query(
          `INSERT INTO messages (id, received_at, source_kind, source_name, partner_id, sender, control_id,
             message_type, trigger_event, version, dedupe_key, content_hash, status, status_reason, updated_at, raw)
           SELECT t.id, t.received_at, t.source_kind, t.source_name, t.partner_id, t.sender, t.control_id,
             t.message_type, t.trigger_event, t.version, t.dedupe_key, t.content_hash, t.status, t.status_reason,
             $16::bigint, t.raw
           FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
             $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::bytea[])
             WITH ORDINALITY AS t(id, received_at, source_kind, source_name, partner_id, sender, control_id,
               message_type, trigger_event, version, dedupe_key, content_hash, status, status_reason, raw, ord)
           ORDER BY t.ord
           ON CONFLICT (dedupe_key) DO NOTHING
           RETURNING dedupe_key`,
          [
            candidateIdx.map((i) => ids.get(i)),
            cand.map((m) => ms(m.receivedAt)),
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
        const receipt = {
          id: [] as string[],
          msg: [] as string[],
          at: [] as number[],
          dup: [] as boolean[],
          kind: [] as string[],
          name: [] as string[],
        };
        items.forEach((m, i) => {
          const isNew = firstIndex.get(m.dedupeKey) === i && inserted.has(m.dedupeKey);
          const target = isNew ? { id: ids.get(i)!, status: m.status as MessageStatus } : existing.get(m.dedupeKey)!;
          const receiptId = newId();
          results.push({ id: target.id, duplicate: !isNew, status: target.status, receiptId });
          receipt.id.push(receiptId);
          receipt.msg.push(target.id);
          receipt.at.push(ms(m.receivedAt));
          receipt.dup.push(!isNew);
          receipt.kind.push(m.sourceKind);
          receipt.name.push(m.sourceName);
        });
        await c.query(
          `INSERT INTO receipts (id, message_id, received_at, duplicate, source_kind, source_name)
           SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::boolean[], $5::text[], $6::text[])`,
          [receipt.id, receipt.msg, receipt.at, receipt.dup, receipt.kind, receipt.name],
        );
        return results;
      });
    },

    /** Lock the messages, decide in memory which items apply, then one multi-row statement per table. */
    completeAll(list) {
      const now = Date.now();
      return db.clientTransaction(async (c): Promise<CompletionItemResult[]> => {
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
             t.withheld_reason, $9::bigint, $9::bigint, t.route_id, t.partner_id
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], $10::text[], $11::text[])
             WITH ORDINALITY AS t(id, message_id, destination, patient_key, status, next_attempt_at, payload, withheld_reason, route_id, partner_id, ord)
           ORDER BY t.ord
           RETURNING ${DELIVERY_COLUMNS}`,
          [
            rows.map((r) => r.id),
            rows.map((r) => r.messageId),
            rows.map((r) => r.d.destination),
            rows.map((r) => r.d.patientKey),
            rows.map((r) => r.d.status),
            rows.map((r) => ms(r.d.nextAttemptAt)),
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
    },

    recordDeliveryResults(list, nowDate) {
      const now = ms(nowDate);
      const body = async (c: Client): Promise<boolean[]> => {
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
              nextAttemptAt: toDateOrNull(r.next_attempt_at),
              lastError: r.last_error as string | null,
              deliveredAt: toDateOrNull(r.delivered_at),
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
           FROM unnest($1::text[], $2::int[], $3::boolean[], $4::text[], $5::bigint[], $6::text[], $7::bigint[])
             AS t(id, n, changed, status, next_attempt_at, last_error, delivered_at)
           WHERE d.id = t.id`,
          [
            ids,
            finals.map((f) => f.attempts),
            finals.map((f) => f.changed),
            finals.map((f) => f.state.status),
            finals.map((f) => ms(f.state.nextAttemptAt)),
            finals.map((f) => f.state.lastError),
            finals.map((f) => ms(f.state.deliveredAt)),
            now,
          ],
        );
        await c.query(
          `INSERT INTO delivery_attempts (id, delivery_id, started_at, duration_ms, outcome, http_status, ack_code, error)
           SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::int[], $5::text[], $6::int[], $7::text[], $8::text[])`,
          [
            recorded.map(() => newId()),
            recorded.map((r) => r.deliveryId),
            recorded.map((r) => ms(r.attempt.startedAt)),
            recorded.map((r) => r.attempt.durationMs),
            recorded.map((r) => r.attempt.outcome),
            recorded.map((r) => r.attempt.httpStatus),
            recorded.map((r) => r.attempt.ackCode),
            recorded.map((r) => r.attempt.error),
          ],
        );
        return applied;
      };
      return db.clientTransaction(body, { relaxed: true });
    },
  };
}
