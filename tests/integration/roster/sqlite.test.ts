import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { migrateRosterSqlite } from '../../../src/roster/migrate.js';
import { openRosterStore, Roster } from '../../../src/roster/roster-store.js';
import { openSqliteRoster } from '../../../src/roster/open-roster.js';
import { SQLITE_ROSTER_MIGRATIONS } from '../../../src/roster/schema.js';
import { openStore } from '../../../src/store/open-store.js';
import { describeRosterContract } from './contract.js';
import { expectOldResolvedCountAsRouted, importFile, member } from './fixtures.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cb-roster-'));
  dirs.push(dir);
  return join(dir, 'data', 'carebridge.db');
}

describeRosterContract('sqlite file (WAL)', async () => {
  const file = tempDb();
  return { openBackend: async () => openSqliteRoster(file) };
});

describe('roster on SQLite next to the message store', () => {
  it('shares the database file, migrates in its own table, once', async () => {
    const file = tempDb();
    const store = await openStore(`sqlite:${file}`);
    const roster = await openRosterStore(`sqlite:${file}`);
    const again = await openRosterStore(`sqlite:${file}`);
    try {
      await importFile(roster, 'acme-aco', '2024-03-01', [member('M1')]);
      expect(await again.attributedOn('M1', '2024-03-01', 'cp')).toEqual(['bay-cp']);
      await store.ping();
    } finally {
      await Promise.all([store.close(), roster.close(), again.close()]);
    }
    const db = new Database(file, { readonly: true });
    try {
      expect(db.prepare('SELECT version FROM roster_schema_migrations ORDER BY version').all()).toEqual([
        { version: 1 },
        { version: 2 },
        { version: 3 },
        { version: 4 },
        { version: 5 },
      ]);
      expect((db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get() as { n: number }).n).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  });

  it('migration 4: events resolved before it count as routed (an upgrade re-sends nothing), open ones stay open', async () => {
    const file = tempDb();
    mkdirSync(dirname(file), { recursive: true });
    const db = new Database(file);
    migrateRosterSqlite(
      db,
      SQLITE_ROSTER_MIGRATIONS.filter((m) => m.version <= 3),
    );
    db.prepare(
      `INSERT INTO roster_unmatched (message_id, received_at, recorded_at, identifiers, resolved_at, member_id)
       VALUES ('old-resolved', 1, 1, '[]', 5000, 'M1'), ('old-open', 1, 1, '[]', NULL, NULL)`,
    ).run();
    db.close();
    await expectOldResolvedCountAsRouted(await openRosterStore(`sqlite:${file}`));
  });

  it('refuses a roster schema from a newer carebridge', async () => {
    const file = tempDb();
    await (await openRosterStore(`sqlite:${file}`)).close();
    const db = new Database(file);
    db.prepare(`INSERT INTO roster_schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)`).run();
    db.close();
    await expect(openRosterStore(`sqlite:${file}`)).rejects.toThrow(/newer than this carebridge supports/);
  });
});

describe('a large import on SQLite shares the event loop', () => {
  it('gives sockets and timers a turn between chunks, and sizes chunks by time (not the 1,000-row maximum)', async () => {
    const backend = openSqliteRoster(tempDb());
    // Count event-loop turns (setImmediate runs once per turn) and note the count at every chunk.
    let turns = 0;
    let ticking = true;
    const tick = () => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const chunks: { rows: number; turnsBefore: number }[] = [];
    const applyChunk = backend.applyChunk.bind(backend);
    backend.applyChunk = (ctx, items, progress, budget) => {
      chunks.push({ rows: items.length, turnsBefore: turns });
      return applyChunk(ctx, items, progress, budget);
    };
    // A target no chunk can meet: chunks shrink from 200 rows towards the floor (50 rows).
    const roster = new Roster(backend, { chunkTargetMs: 0.001 });
    try {
      const result = await importFile(
        roster,
        'acme-aco',
        '2024-03-01',
        Array.from({ length: 1000 }, (_, i) => member(`M${i}`)),
      );
      expect(result.applied).toBe(1000);
      const sizes = chunks.map((c) => c.rows);
      expect(sizes.slice(0, 4)).toEqual([200, 100, 50, 50]);
      expect(sizes.slice(0, -1).every((n, i) => i === 0 || n <= sizes[i - 1])).toBe(true);
      expect(Math.min(...sizes.slice(0, -1))).toBe(50);
      // Between any two chunks, the event loop turned at least once.
      for (let i = 1; i < chunks.length; i++) expect(chunks[i].turnsBefore).toBeGreaterThan(chunks[i - 1].turnsBefore);
    } finally {
      ticking = false;
      await roster.close();
    }
  });
});
