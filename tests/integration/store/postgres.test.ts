import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratePostgres } from '../../../src/store/migrate.js';
import { openPostgresStore, openStore } from '../../../src/store/open-store.js';
import { POSTGRES_MIGRATIONS } from '../../../src/store/schema.js';
import { findPostgresBin, startPostgres, type PostgresServer } from '../../helpers/postgres.js';
import { describeBatchContract } from './batch-contract.js';
import { describeStoreContract, type StoreHarness } from './contract.js';
import { describePostgresLockOrder } from './postgres-lock-order.js';

// Runs the store contract against a real Postgres this suite starts itself (Debian's postgresql;
// CI installs it). Every test gets its own fresh database.

const bin = findPostgresBin();
if (!bin) {
  console.warn('[store] Postgres suite SKIPPED: no postgres/initdb binaries found (apt-get install postgresql)');
}

describe.skipIf(!bin)('postgres', () => {
  let server: PostgresServer;

  beforeAll(async () => {
    server = await startPostgres();
  });

  afterAll(async () => {
    await server?.stop();
  });

  describeStoreContract('postgres', async () => {
    const url = await server.createDatabase();
    return {
      store: await openPostgresStore(url),
      openPeer: () => openPostgresStore(url),
    };
  });

  describeBatchContract('postgres', async (): Promise<StoreHarness> => {
    const url = await server.createDatabase();
    // Every connection of the test reports its retries here, so a test can insist on none.
    const retries: string[] = [];
    const open = () => openPostgresStore(url, { onTransactionRetry: (reason) => retries.push(reason) });
    return { store: await open(), openPeer: open, transactionRetries: () => retries };
  });

  describePostgresLockOrder(() => server.createDatabase());

  describe('commit durability per path', () => {
    it('delivery bookkeeping commits with synchronous_commit off, inbound and processing with the default', async () => {
      const url = await server.createDatabase();
      const pg = await import('pg');
      const client = new pg.default.Client({ connectionString: url });
      await client.connect();
      // The test server runs with synchronous_commit=off for speed; this database gets the production default.
      await client.query("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET synchronous_commit = on', current_database()); END $$");
      const store = await openPostgresStore(url);
      try {
        // Row triggers record the setting in force in the writing transaction.
        await client.query(`CREATE TABLE sync_probe (n serial, what text, level text);
          CREATE FUNCTION sync_probe() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN INSERT INTO sync_probe (what, level) VALUES (TG_ARGV[0], current_setting('synchronous_commit')); RETURN NULL; END $$;
          CREATE TRIGGER p_message AFTER INSERT ON messages FOR EACH ROW EXECUTE FUNCTION sync_probe('message');
          CREATE TRIGGER p_delivery AFTER INSERT ON deliveries FOR EACH ROW EXECUTE FUNCTION sync_probe('delivery');
          CREATE TRIGGER p_attempt AFTER INSERT ON delivery_attempts FOR EACH ROW EXECUTE FUNCTION sync_probe('attempt');`);
        const probes = async () =>
          (await client.query('DELETE FROM sync_probe RETURNING n, what, level')).rows
            .sort((a, b) => a.n - b.n)
            .map((r) => `${r.what}:${r.level}`);

        const [m] = await store.acceptInbound([{ sourceKind: 'api', sourceName: 't', dedupeKey: 'k1', raw: Buffer.from('x') }]);
        const done = await store.completeProcessing(m.id, {
          status: 'processed',
          deliveries: [{ destination: 'A' }, { destination: 'B' }],
        });
        expect(await probes()).toEqual(['message:on', 'delivery:on', 'delivery:on']);

        const attempt = { startedAt: new Date(), durationMs: 3, outcome: 'success' as const, httpStatus: 200 };
        await store.recordDeliveryResults([{ deliveryId: done.deliveries[0].id, attempt, next: 'delivered' }]);
        await store.recordAttempt(done.deliveries[1].id, attempt);
        expect(await probes()).toEqual(['attempt:off', 'attempt:off']);

        // SET LOCAL ends with its transaction: the pooled connections are back to the default.
        await store.acceptInbound([{ sourceKind: 'api', sourceName: 't', dedupeKey: 'k2', raw: Buffer.from('y') }]);
        expect(await probes()).toEqual(['message:on']);
        expect(await store.getDelivery(done.deliveries[0].id)).toMatchObject({ status: 'delivered', attempts: 1 });
      } finally {
        await client.end();
        await store.close();
      }
    });
  });

  describe('migrations', () => {
    it('apply once when several processes start at the same time', async () => {
      const url = await server.createDatabase();
      const stores = await Promise.all(Array.from({ length: 4 }, () => openStore(url)));
      try {
        const [r] = await stores[0].acceptInbound([{ sourceKind: 'api', sourceName: 't', dedupeKey: 'k', raw: Buffer.from('x') }]);
        expect((await stores[3].getMessage(r.id))!.id).toBe(r.id);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
      const pg = await import('pg');
      const client = new pg.default.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query('SELECT version FROM schema_migrations ORDER BY version');
        // Each version once, however many processes raced (every version this build knows).
        expect(rows.map((r) => r.version)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version).sort((a, b) => a - b));
      } finally {
        await client.end();
      }
    });

    it('version 5 carries a version-1 database forward: TIMESTAMPTZ times become the same epoch milliseconds', async () => {
      const url = await server.createDatabase();
      const pg = await import('pg');
      const pool = new pg.default.Pool({ connectionString: url, max: 1 });
      const at = '2024-03-01T10:00:00.123Z';
      try {
        await migratePostgres(
          pool,
          POSTGRES_MIGRATIONS.filter((m) => m.version === 1),
        );
        // Rows as the TIMESTAMPTZ schema held them (a stray microsecond part is floored away).
        await pool.query(
          `INSERT INTO messages (id, received_at, source_kind, source_name, dedupe_key, content_hash, status, updated_at, raw)
             VALUES ('m1', $1::timestamptz, 'api', 't', 'k1', 'h', 'processed', $1::timestamptz + interval '0.000456 s', '\\x78');
           INSERT INTO receipts (id, message_id, received_at, duplicate, source_kind, source_name) VALUES ('r1', 'm1', $1, false, 'api', 't');
           INSERT INTO deliveries (id, message_id, destination, status, attempts, next_attempt_at, created_at, delivered_at, updated_at)
             VALUES ('d1', 'm1', 'A', 'failed-retrying', 1, $1, $1, NULL, $1);
           INSERT INTO delivery_attempts (id, delivery_id, started_at, duration_ms, outcome) VALUES ('a1', 'd1', $1, 5, 'retryable-error');
           INSERT INTO audit_events (id, at, actor, action, subject_type) VALUES ('e1', $1, 'ops', 'x', 'message');`.replaceAll(
            '$1',
            `'${at}'`,
          ),
        );
      } finally {
        await pool.end();
      }
      const store = await openStore(url);
      try {
        const m = (await store.getMessage('m1'))!;
        expect([m.receivedAt.toISOString(), m.updatedAt.toISOString(), m.receipts[0].receivedAt.toISOString()]).toEqual([at, at, at]);
        const d = m.deliveries[0];
        expect([d.nextAttemptAt?.toISOString(), d.createdAt.toISOString(), d.deliveredAt, d.attemptLog[0].startedAt.toISOString()]).toEqual(
          [at, at, null, at],
        );
        expect((await store.listAudit({})).items[0].at.toISOString()).toBe(at);
        expect((await store.searchMessages({ from: new Date(at), to: new Date(Date.parse(at) + 1) })).items.map((x) => x.id)).toEqual([
          'm1',
        ]);
        expect(await store.markDelivered('d1')).toBe(true);
      } finally {
        await store.close();
      }
    });

    it('refuses a database from a newer carebridge', async () => {
      const url = await server.createDatabase();
      await (await openStore(url)).close();
      const pg = await import('pg');
      const client = new pg.default.Client({ connectionString: url });
      await client.connect();
      await client.query(`INSERT INTO schema_migrations (version, name) VALUES (999, 'future')`);
      await client.end();
      await expect(openStore(url)).rejects.toThrow(/newer than this carebridge supports/);
    });
  });
});
