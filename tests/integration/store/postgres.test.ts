import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../../src/store/postgres/postgres-store.js';
import { openStore } from '../../../src/store/open-store.js';
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
      store: await PostgresStore.open(url),
      openPeer: () => PostgresStore.open(url),
    };
  });

  describeBatchContract('postgres', async (): Promise<StoreHarness> => {
    const url = await server.createDatabase();
    // Every connection of the test reports its retries here, so a test can insist on none.
    const retries: string[] = [];
    const open = () => PostgresStore.open(url, { onTransactionRetry: (reason) => retries.push(reason) });
    return { store: await open(), openPeer: open, transactionRetries: () => retries };
  });

  describePostgresLockOrder(() => server.createDatabase());

  describe('migrations', () => {
    it('apply once when several processes start at the same time', async () => {
      const url = await server.createDatabase();
      const stores = await Promise.all(Array.from({ length: 4 }, () => openStore(url)));
      try {
        const [r] = await stores[0].acceptInbound([
          { sourceKind: 'api', sourceName: 't', dedupeKey: 'k', raw: Buffer.from('x') },
        ]);
        expect((await stores[3].getMessage(r.id))!.id).toBe(r.id);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
      const pg = await import('pg');
      const client = new pg.default.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query('SELECT version FROM schema_migrations ORDER BY version');
        expect(rows.map((r) => r.version)).toEqual([1]);
      } finally {
        await client.end();
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
