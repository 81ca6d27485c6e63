import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateRosterPostgres } from '../../../src/roster/migrate.js';
import { openPostgresRoster } from '../../../src/roster/open-roster.js';
import { POSTGRES_ROSTER_MIGRATIONS } from '../../../src/roster/schema.js';
import { openRosterStore } from '../../../src/roster/roster-store.js';
import { openStore } from '../../../src/store/open-store.js';
import { findPostgresBin, startPostgres, type PostgresServer } from '../../helpers/postgres.js';
import { describeRosterContract } from './contract.js';
import { expectOldResolvedCountAsRouted, importFile, member, sha } from './fixtures.js';

// The roster contract on a real Postgres this suite starts itself; every test gets a fresh database.

const bin = findPostgresBin();
if (!bin) console.warn('[roster] Postgres suite SKIPPED: no postgres/initdb binaries found (apt-get install postgresql)');

describe.skipIf(!bin)('roster on postgres', () => {
  let server: PostgresServer;

  beforeAll(async () => {
    server = await startPostgres();
  });

  afterAll(async () => {
    await server?.stop();
  });

  describeRosterContract('postgres', async () => {
    const url = await server.createDatabase();
    return { openBackend: () => openPostgresRoster(url) };
  });

  it('shares the database with the message store and migrates once when processes start together', async () => {
    const url = await server.createDatabase();
    const store = await openStore(url);
    const rosters = await Promise.all(Array.from({ length: 3 }, () => openRosterStore(url)));
    try {
      await importFile(rosters[0], 'acme-aco', '2024-03-01', [member('M1')]);
      expect(await rosters[2].attributedOn('M1', '2024-03-01', 'aco')).toEqual(['acme-aco']);
    } finally {
      await Promise.all([store.close(), ...rosters.map((r) => r.close())]);
    }
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT version FROM roster_schema_migrations ORDER BY version');
      expect(rows).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }, { version: 5 }]);
    } finally {
      await client.end();
    }
  });

  it('migration 4: events resolved before it count as routed (an upgrade re-sends nothing), open ones stay open', async () => {
    const url = await server.createDatabase();
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      await migrateRosterPostgres(
        pool,
        POSTGRES_ROSTER_MIGRATIONS.filter((m) => m.version <= 3),
      );
      await pool.query(
        `INSERT INTO roster_unmatched (message_id, received_at, recorded_at, identifiers, resolved_at, member_id)
         VALUES ('old-resolved', now(), now(), '[]', to_timestamp(5), 'M1'), ('old-open', now(), now(), '[]', NULL, NULL)`,
      );
    } finally {
      await pool.end();
    }
    await expectOldResolvedCountAsRouted(await openRosterStore(url));
  });

  it('migration 5 carries a version-4 database forward: TIMESTAMPTZ times become the same epoch milliseconds', async () => {
    const url = await server.createDatabase();
    const at = '2024-03-01T10:00:00.123Z';
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      await migrateRosterPostgres(
        pool,
        POSTGRES_ROSTER_MIGRATIONS.filter((m) => m.version <= 4),
      );
      await pool.query(
        `INSERT INTO roster_members (member_id, status, created_at, updated_at) VALUES ('M1', 'active', $1, $1);
         INSERT INTO roster_imports (id, partner_id, file_name, sha256, received_at, import_date, file_kind, generation, status, started_at, updated_at, finished_at)
           VALUES ('i1', 'acme-aco', 'f.csv', 'h', $1, '2024-03-01', 'full', 1, 'applied', $1, $1, $1::timestamptz + interval '0.000456 s');
         INSERT INTO roster_consents (member_id, partner_id, category, granted, source, recorded_at) VALUES ('M1', 'bay-cp', 'substance-use', true, 'api', $1);
         INSERT INTO roster_diff_events (import_id, partner_id, member_id, kind, detail, partners, created_at) VALUES ('i1', 'acme-aco', 'M1', 'added', '{}', ' acme-aco ', $1);
         INSERT INTO roster_unmatched (message_id, received_at, recorded_at, identifiers, resolved_at, routed_at, member_id) VALUES ('m1', $1, $1, '[]', $1, NULL, 'M1');`.replaceAll(
          '$1',
          `'${at}'`,
        ),
      );
    } finally {
      await pool.end();
    }
    const roster = await openRosterStore(url);
    try {
      const i = (await roster.getImport('i1'))!;
      expect([i.receivedAt, i.startedAt, i.finishedAt!].map((d) => d.toISOString())).toEqual([at, at, at]);
      expect((await roster.getMember('M1'))!.consents.map((c) => c.recordedAt.toISOString())).toEqual([at]);
      expect((await roster.listDiffEvents({ since: new Date(at) })).items.map((e) => e.createdAt.toISOString())).toEqual([at]);
      const [u] = (await roster.listUnmatched({})).items;
      expect([u.receivedAt, u.recordedAt, u.resolvedAt!].map((d) => d.toISOString())).toEqual([at, at, at]);
      expect(await roster.unroutedResolved({ resolvedBefore: new Date(at) })).toEqual([{ id: u.id, messageId: 'm1', memberId: 'M1' }]);
    } finally {
      await roster.close();
    }
  });

  it('imports of two partners from two processes at once touch shared members safely', async () => {
    const url = await server.createDatabase();
    const [a, b] = await Promise.all([openRosterStore(url, { chunkSize: 2 }), openRosterStore(url, { chunkSize: 2 })]);
    try {
      const base = ['M1', 'M2', 'M3', 'M4', 'M5'].map((id) => member(id));
      await importFile(a, 'acme-aco', '2024-03-01', base);
      const [r1, r2] = await Promise.all([
        importFile(a, 'acme-aco', '2024-03-02', base.slice(0, 3)),
        importFile(
          b,
          'other-aco',
          '2024-03-02',
          base.map((m) => member((m as { record: { memberId: string } }).record.memberId, { attribution: { aco: 'other-aco' } })),
        ),
      ]);
      expect(r1.terminated).toBe(2);
      expect(r2.added).toBe(5);
      for (const id of ['M4', 'M5']) expect(await b.attributedOn(id, '2024-03-02', 'aco')).toEqual(['other-aco']);
      expect(await b.attributedOn('M1', '2024-03-02', 'aco')).toEqual(['acme-aco', 'other-aco']);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('serializes imports of one partner across processes (advisory lock): the second waits, neither abandons the other', async () => {
    const url = await server.createDatabase();
    const [a, b] = await Promise.all([openRosterStore(url, { chunkSize: 2 }), openRosterStore(url, { chunkSize: 2 })]);
    const watcher = new pg.Client({ connectionString: url });
    await watcher.connect();
    try {
      const ids = ['M1', 'M2', 'M3', 'M4', 'M5', 'M6'];
      await importFile(
        a,
        'acme-aco',
        '2024-03-01',
        ids.map((id) => member(id)),
      );
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let arrived!: () => void;
      const atGate = new Promise<void>((r) => (arrived = r));
      async function* paused() {
        yield member('M1');
        yield member('M2');
        yield member('M3');
        arrived();
        await gate; // process A is mid-file, holding the partner lock
        yield member('M4');
      }
      const x = a.importMemberFile({
        partnerId: 'acme-aco',
        fileName: 'x.csv',
        sha256: sha('x'),
        importDate: '2024-03-02',
        items: paused(),
      });
      // Wait until A holds the lock, then start B and wait until B is blocked on it.
      const waitFor = async (sql: string) => {
        for (let i = 0; i < 500; i++) {
          if (Number((await watcher.query(sql)).rows[0].n) > 0) return;
          await new Promise((r) => setTimeout(r, 20));
        }
        throw new Error(`never true: ${sql}`);
      };
      // A's import record is committed once it pulls rows (holding the lock is not enough: it is
      // taken before the record is written, and B's listing below raced that write once).
      await atGate;
      await waitFor(`SELECT COUNT(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = ${0x7274}`);
      const y = importFile(
        b,
        'acme-aco',
        '2024-03-02',
        ids.slice(0, 2).map((id) => member(id)),
        { fileName: 'y.csv' },
      );
      await waitFor(`SELECT COUNT(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = ${0x7274}`);
      expect((await b.listImports({ partner: 'acme-aco' })).items.map((i) => [i.fileName, i.status])).toEqual([
        ['x.csv', 'in-progress'],
        ['acme-aco-2024-03-01.csv', 'applied'],
      ]);
      release();
      const [rx, ry] = await Promise.all([x, y]);
      expect([rx.status, ry.status]).toEqual(['applied', 'applied']);
      expect(rx.terminated).toBe(2); // M5, M6
      expect(ry.terminated).toBe(2); // then M3, M4
      const detail = await a.getImport(ry.importId);
      expect(detail!.startedAt.getTime()).toBeGreaterThanOrEqual((await a.getImport(rx.importId))!.finishedAt!.getTime());
      expect((await a.listImports({ partner: 'acme-aco', status: 'failed' })).items).toEqual([]);
    } finally {
      await watcher.end();
      await Promise.all([a.close(), b.close()]);
    }
  });
});
