/**
 * Migration 2 (status `filtered`) on a store the previous release created (migration 1 only),
 * holding messages with identifiers, receipts, deliveries, attempts and a replay link: after the
 * upgrade everything is still there and linked, and `filtered` is a status the store takes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPostgresMigrations, runSqliteMigrations } from '../../../src/store/migrations-runner.js';
import { openPostgresStore, openSqliteStore } from '../../../src/store/open-store.js';
import { POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS } from '../../../src/store/schema.js';
import type { MessageStore } from '../../../src/store/types.js';
import { findPostgresBin, startPostgres, type PostgresServer } from '../../helpers/postgres.js';

const ORIGINAL = '01J00000000000000000000001';
const REPLAY = '01J00000000000000000000002';
const DELIVERY = '01J00000000000000000000003';

/** Rows as the previous release wrote them; `t` is a time literal of the dialect. */
function oldRows(t: string, dup: string): string[] {
  return [
    `INSERT INTO messages (id, received_at, source_kind, source_name, sender, control_id, message_type, trigger_event, dedupe_key, content_hash, status, updated_at, raw, fhir)
       VALUES ('${ORIGINAL}', ${t}, 'mllp', 'in', 'APP^FAC', 'C1', 'ADT', 'A01', 'k1', 'h1', 'processed', ${t}, ${dup}, '{}')`,
    `INSERT INTO messages (id, received_at, source_kind, source_name, dedupe_key, content_hash, status, replay_of, updated_at, raw)
       VALUES ('${REPLAY}', ${t}, 'replay', 'in', 'k2', 'h1', 'received', '${ORIGINAL}', ${t}, ${dup})`,
    `INSERT INTO message_identifiers (message_id, system, value) VALUES ('${ORIGINAL}', 's', 'v')`,
    `INSERT INTO receipts (id, message_id, received_at, duplicate, source_kind, source_name) VALUES ('r1', '${ORIGINAL}', ${t}, ${dup === "X'4D5348'" ? 0 : 'false'}, 'mllp', 'in')`,
    `INSERT INTO deliveries (id, message_id, destination, patient_key, status, attempts, payload, created_at, updated_at)
       VALUES ('${DELIVERY}', '${ORIGINAL}', 'hook', 'p1', 'delivered', 1, 'x', ${t}, ${t})`,
    `INSERT INTO delivery_attempts (id, delivery_id, started_at, duration_ms, outcome) VALUES ('a1', '${DELIVERY}', ${t}, 1, 'success')`,
  ];
}

async function expectUpgraded(store: MessageStore): Promise<void> {
  const original = await store.getMessage(ORIGINAL);
  expect(original).toMatchObject({ status: 'processed', identifiers: [{ system: 's', value: 'v' }] });
  expect(original!.deliveries.map((d) => d.id)).toEqual([DELIVERY]);
  expect(original!.deliveries[0].attempts).toBe(1);
  expect(original!.replays.map((r) => r.id)).toEqual([REPLAY]);
  const [done] = await store.completeProcessingBatch([
    { messageId: REPLAY, outcome: { status: 'filtered', statusReason: 'no route matched' } },
  ]);
  expect(done).toMatchObject({ ok: true, result: { applied: true, status: 'filtered' } });
  expect(await store.getMessage(REPLAY)).toMatchObject({ status: 'filtered', statusReason: 'no route matched', replayOf: ORIGINAL });
  expect((await store.searchMessages({ status: 'filtered' })).items.map((m) => m.id)).toEqual([REPLAY]);
  expect((await store.stats()).messagesByStatus.filtered).toBe(1);
  // Filtered messages age out like processed ones.
  expect((await store.prune({ olderThan: new Date(Date.now() + 60_000) })).messages).toBe(2);
}

describe('migration 2: status filtered', () => {
  it('SQLite: rebuilds messages keeping every row and link; foreign keys are on again afterwards', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-mig2-'));
    const file = join(dir, 'store.db');
    try {
      const v1 = new Database(file);
      v1.pragma('foreign_keys = ON');
      runSqliteMigrations(v1, {
        table: 'schema_migrations',
        schemaLabel: 'database schema',
        migrations: SQLITE_MIGRATIONS.filter((m) => m.version === 1),
      });
      for (const sql of oldRows(String(Date.now() - 1000), "X'4D5348'")) v1.exec(sql);
      expect(() => v1.exec(`UPDATE messages SET status = 'filtered' WHERE id = '${REPLAY}'`)).toThrow(/CHECK constraint/);
      v1.close();

      const store = openSqliteStore(file);
      try {
        await expectUpgraded(store);
      } finally {
        await store.close();
      }
      const after = new Database(file);
      expect(after.pragma('foreign_key_check')).toEqual([]);
      expect(
        (after.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map((r) => r.version),
      ).toEqual(SQLITE_MIGRATIONS.map((m) => m.version).sort((a, b) => a - b));
      after.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const bin = findPostgresBin();
  describe.skipIf(!bin)('Postgres', () => {
    let server: PostgresServer;
    beforeAll(async () => {
      server = await startPostgres();
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('replaces the status CHECK, keeping every row', async () => {
      const url = await server.createDatabase();
      const pool = new pg.Pool({ connectionString: url, max: 1 });
      try {
        await runPostgresMigrations(pool, {
          table: 'schema_migrations',
          schemaLabel: 'database schema',
          failureLabel: 'migration',
          lockKey: [7, 7],
          migrations: POSTGRES_MIGRATIONS.filter((m) => m.version === 1),
        });
        for (const sql of oldRows(`now() - interval '1 second'`, `'\\x4d5348'::bytea`)) await pool.query(sql);
        await expect(pool.query(`UPDATE messages SET status = 'filtered' WHERE id = '${REPLAY}'`)).rejects.toThrow(/messages_status_check/);
      } finally {
        await pool.end();
      }
      const store = await openPostgresStore(url);
      try {
        await expectUpgraded(store);
      } finally {
        await store.close();
      }
    });
  });
});
