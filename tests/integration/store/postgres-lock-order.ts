import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../../src/store/open-store.js';
import type { CompletionItem, MessageStore } from '../../../src/store/types.js';
import { msg } from './fixtures.js';

// Deterministic deadlock tests for Postgres group commit. A free-running race between two batches
// rarely overlaps their lock statements (microseconds), so it cannot prove the lock order. Here a
// third connection holds the lock in the MIDDLE of the order, both batches queue behind it, and then
// it lets go: with one global order they run one after the other; with any two different orders,
// each side would already hold what the other needs next, a guaranteed deadlock.

interface Sides {
  a: MessageStore;
  b: MessageStore;
  /** Transaction reruns reported by both stores (a deadlock would show up here). */
  retries: string[];
  blocker: pg.Client;
}

/** Resolves once `n` backends of this database are waiting for a lock. */
async function lockWaiters(client: pg.Client, n: number): Promise<void> {
  for (;;) {
    const { rows } = await client.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if (rows[0].n >= n) return;
    await sleep(10);
  }
}

export function describePostgresLockOrder(createDatabase: () => Promise<string>): void {
  describe('lock order under contention (deterministic)', () => {
    let sides: Sides | null = null;

    async function open(): Promise<Sides> {
      const url = await createDatabase();
      const retries: string[] = [];
      const options = { onTransactionRetry: (reason: string) => retries.push(reason) };
      const blocker = new pg.Client({ connectionString: url });
      await blocker.connect();
      sides = { a: await openPostgresStore(url, options), b: await openPostgresStore(url, options), retries, blocker };
      return sides;
    }

    afterEach(async () => {
      if (!sides) return;
      await sides.blocker.end();
      await sides.a.close();
      await sides.b.close();
      sides = null;
    });

    it('completion batches listing patients in opposite orders queue on a held patient lock, no deadlock', async () => {
      const { a, b, retries, blocker } = await open();
      const patients = Array.from({ length: 9 }, (_, i) => `pat-${i}`);
      const received = await a.acceptInbound(Array.from({ length: 2 }, () => msg()));
      const item = (messageId: string, order: string[]): CompletionItem => ({
        messageId,
        outcome: { status: 'processed', deliveries: order.map((patientKey) => ({ destination: 'A', patientKey })) },
      });
      // The store's per-patient lock key: the middle patient of both orders (sorted or not).
      await blocker.query('BEGIN');
      await blocker.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [JSON.stringify(['A', 'pat-4'])]);
      const both = Promise.all([
        a.completeProcessingBatch([item(received[0].id, patients)]),
        b.completeProcessingBatch([item(received[1].id, [...patients].reverse())]),
      ]);
      await lockWaiters(blocker, 2);
      await blocker.query('ROLLBACK');
      const [one, two] = await both;
      expect([one[0], two[0]].map((r) => r.ok && r.result.applied)).toEqual([true, true]);
      expect(retries).toEqual([]);
    });

    it('a completion batch and an ingest batch queue on a held message row, no deadlock', async () => {
      const { a, b, retries, blocker } = await open();
      // Dedupe keys that sort opposite to id order, so an id-ordered lock would cross acceptInbound's
      // dedupe-key order. One call each: within one batch, ids are handed out in key order.
      const inputs = Array.from({ length: 9 }, (_, i) => msg({ dedupeKey: `key-${9 - i}` }));
      const stored = [];
      for (const input of inputs) stored.push(...(await a.acceptInbound([input])));
      expect(stored.map((r) => r.id)).toEqual(stored.map((r) => r.id).sort());
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM messages WHERE id = $1 FOR UPDATE', [stored[4].id]);
      const both = Promise.all([
        a.completeProcessingBatch(stored.map((r) => ({ messageId: r.id, outcome: { status: 'processed' as const } }))),
        // Duplicates: acceptInbound locks their originals to count them.
        b.acceptInbound(inputs.map((m) => ({ ...m }))),
      ]);
      await lockWaiters(blocker, 2);
      await blocker.query('ROLLBACK');
      const [completed, again] = await both;
      expect(completed.every((r) => r.ok && r.result.applied)).toBe(true);
      expect(again.every((r) => r.duplicate)).toBe(true);
      expect(retries).toEqual([]);
      expect((await a.getMessage(stored[0].id))!.duplicateCount).toBe(1);
    });

    it('delivery-result batches listing deliveries in opposite orders queue on a held delivery row, no deadlock', async () => {
      const { a, b, retries, blocker } = await open();
      const [r] = await a.acceptInbound([msg()]);
      const done = await a.completeProcessing(r.id, {
        status: 'processed',
        deliveries: Array.from({ length: 9 }, (_, i) => ({ destination: `D${i}`, patientKey: 'p' })),
      });
      const batch = done.deliveries.map((d) => ({
        deliveryId: d.id,
        attempt: { startedAt: new Date(), durationMs: 1, outcome: 'success' as const },
        next: 'delivered' as const,
      }));
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM deliveries WHERE id = $1 FOR UPDATE', [done.deliveries[4].id]);
      const both = Promise.all([a.recordDeliveryResults(batch), b.recordDeliveryResults([...batch].reverse())]);
      await lockWaiters(blocker, 2);
      await blocker.query('ROLLBACK');
      const [one, two] = await both;
      expect([...one, ...two].filter(Boolean)).toHaveLength(9);
      expect(retries).toEqual([]);
    });
  });
}
