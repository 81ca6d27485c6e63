import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { withRelaxedSync } from '../../../src/store/sql/relaxed-sync.js';
import { openSqliteStore } from '../../../src/store/open-store.js';
import type { SqliteDb } from '../../../src/store/sql/sqlite-db.js';
import type { SqlStore } from '../../../src/store/sql-store.js';
import { msg } from './fixtures.js';

// Delivery bookkeeping commits with synchronous=NORMAL; everything else (above all the inbound
// commit before the ACK) keeps FULL. PRAGMA synchronous reads 2 for FULL, 1 for NORMAL.
const FULL = 2;
const NORMAL = 1;

const dirs: string[] = [];
function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cb-relaxed-sync-'));
  dirs.push(dir);
  return join(dir, 'store.db');
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function level(db: Database.Database): number {
  return db.pragma('synchronous', { simple: true }) as number;
}

describe('withRelaxedSync', () => {
  it('runs fn under NORMAL and restores FULL, also when fn throws', () => {
    const db = new Database(tempFile());
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.exec('CREATE TABLE t (x)');
      const insert = db.transaction(() => db.prepare('INSERT INTO t VALUES (1)').run());
      let inside = 0;
      withRelaxedSync(db, 'FULL', () => {
        inside = level(db);
        insert.immediate();
      });
      expect(inside).toBe(NORMAL);
      expect(level(db)).toBe(FULL);

      expect(() =>
        withRelaxedSync(db, 'FULL', () => {
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(level(db)).toBe(FULL);
      expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 1 });
    } finally {
      db.close();
    }
  });

  it('leaves a NORMAL connection alone', () => {
    const db = new Database(tempFile());
    try {
      db.pragma('synchronous = NORMAL');
      const exec = vi.spyOn(db, 'exec');
      expect(withRelaxedSync(db, 'NORMAL', () => level(db))).toBe(NORMAL);
      expect(exec).not.toHaveBeenCalled();
    } finally {
      db.close();
    }
  });
});

describe('the store on SQLite: commit durability per path', () => {
  /** Temp triggers record the synchronous level in force at each write, per table and operation. */
  function probeWrites(store: SqlStore): { seen: string[]; db: Database.Database } {
    const db = (store as unknown as { db: SqliteDb }).db.handle;
    const seen: string[] = [];
    db.function('cb_probe', (what: unknown, lvl: unknown) => {
      seen.push(`${String(what)}:${lvl === FULL ? 'FULL' : lvl === NORMAL ? 'NORMAL' : String(lvl)}`);
      return null;
    });
    const probe = (name: string, event: string, table: string) =>
      db.exec(`CREATE TEMP TRIGGER probe_${name} AFTER ${event} ON main.${table}
        BEGIN SELECT cb_probe('${name}', (SELECT synchronous FROM pragma_synchronous)); END`);
    probe('message', 'INSERT', 'messages');
    probe('processing', 'UPDATE OF fhir', 'messages');
    probe('delivery', 'INSERT', 'deliveries');
    probe('outcome', 'UPDATE OF status', 'deliveries');
    probe('attempt', 'INSERT', 'delivery_attempts');
    return { seen, db };
  }

  const attempt = { startedAt: new Date(), durationMs: 3, outcome: 'success' as const, httpStatus: 200 };

  it('commits inbound and processing with FULL, delivery bookkeeping with NORMAL', async () => {
    const store = openSqliteStore(tempFile());
    try {
      const { seen, db } = probeWrites(store);
      const [m] = await store.acceptInbound([msg()]);
      const done = await store.completeProcessing(m.id, {
        status: 'processed',
        deliveries: [{ destination: 'A', patientKey: 'p1' }, { destination: 'B' }, { destination: 'C' }],
      });
      const [a, b, c] = done.deliveries;
      expect(seen.splice(0)).toEqual(['message:FULL', 'processing:FULL', 'delivery:FULL', 'delivery:FULL', 'delivery:FULL']);

      await store.recordDeliveryResults([{ deliveryId: a.id, attempt, next: 'delivered' }]);
      await store.recordAttempt(b.id, attempt);
      await store.markRetrying(b.id, new Date(), 'HTTP 503');
      await store.markDead(c.id, 'HTTP 400');
      expect(seen.splice(0)).toEqual(['attempt:NORMAL', 'outcome:NORMAL', 'attempt:NORMAL', 'outcome:NORMAL', 'outcome:NORMAL']);

      // Operator actions are not bookkeeping: they stay FULL, and so does the connection afterwards.
      await store.markCancelled(b.id, 'operator', { actor: 'ops' });
      await store.acceptInbound([msg()]);
      expect(seen.splice(0)).toEqual(['outcome:FULL', 'message:FULL']);
      expect(level(db)).toBe(FULL);
      expect(await store.getDelivery(a.id)).toMatchObject({ status: 'delivered', attempts: 1 });
    } finally {
      await store.close();
    }
  });

  it('keeps a NORMAL store NORMAL throughout', async () => {
    const store = openSqliteStore(tempFile(), { synchronous: 'NORMAL' });
    try {
      const { seen } = probeWrites(store);
      const [m] = await store.acceptInbound([msg()]);
      const done = await store.completeProcessing(m.id, { status: 'processed', deliveries: [{ destination: 'A' }] });
      await store.recordDeliveryResults([{ deliveryId: done.deliveries[0].id, attempt, next: 'delivered' }]);
      expect(new Set(seen.map((s) => s.split(':')[1]))).toEqual(new Set(['NORMAL']));
    } finally {
      await store.close();
    }
  });
});
