import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCarePlanStore } from '../../../src/careplan/store/careplan-store.js';
import { openStore } from '../../../src/store/open-store.js';
import { findPostgresBin, startPostgres, type PostgresServer } from '../../helpers/postgres.js';
import { describeCarePlanStoreContract, write } from './store-contract.js';

// The care-plan store contract on a real Postgres this suite starts itself; a fresh database per test.

const bin = findPostgresBin();
if (!bin) console.warn('[careplan] Postgres suite SKIPPED: no postgres/initdb binaries found (apt-get install postgresql)');

describe.skipIf(!bin)('care-plan store on postgres', () => {
  let server: PostgresServer;

  beforeAll(async () => {
    server = await startPostgres();
  });

  afterAll(async () => {
    await server?.stop();
  });

  describeCarePlanStoreContract('postgres', async () => {
    const url = await server.createDatabase();
    return { store: await openCarePlanStore(url), openPeer: () => openCarePlanStore(url) };
  });

  it('shares the database with the message store and migrates once when processes start together', async () => {
    const url = await server.createDatabase();
    const messages = await openStore(url);
    const stores = await Promise.all(Array.from({ length: 3 }, () => openCarePlanStore(url)));
    try {
      await stores[0]!.save(write('a'), 0);
      expect((await stores[2]!.get('a'))!.version).toBe(1);
    } finally {
      await Promise.all([messages.close(), ...stores.map((s) => s.close())]);
    }
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT version FROM careplan_schema_migrations ORDER BY version');
      expect(rows).toEqual([{ version: 1 }, { version: 2 }]);
      const { rows: msgs } = await client.query('SELECT count(*)::int AS n FROM schema_migrations');
      expect(msgs[0].n).toBeGreaterThan(0);
    } finally {
      await client.end();
    }
  });
});
