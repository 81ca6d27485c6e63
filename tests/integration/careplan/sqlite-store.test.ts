import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openCarePlanStore } from '../../../src/careplan/store/careplan-store.js';
import { SQLITE_CAREPLAN_MIGRATIONS } from '../../../src/careplan/store/migrations.js';
import { migrateCarePlanSqlite } from '../../../src/careplan/store/migrate.js';
import { openSqliteDb } from '../../../src/store/sql/sqlite-db.js';
import { openStore } from '../../../src/store/open-store.js';
import { describeCarePlanStoreContract, write } from './store-contract.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cb-careplan-'));
  dirs.push(dir);
  return join(dir, 'carebridge.db');
}

describeCarePlanStoreContract('sqlite', async () => {
  const file = tempDb();
  return { store: await openCarePlanStore(`sqlite:${file}`), openPeer: () => openCarePlanStore(`sqlite:${file}`) };
});

describe('care-plan store on the message store’s SQLite file', () => {
  it('lives next to the message store, with its own migrations table, migrated once', async () => {
    const file = tempDb();
    const messages = await openStore(`sqlite:${file}`);
    const stores = await Promise.all([openCarePlanStore(`sqlite:${file}`), openCarePlanStore(`sqlite:${file}`)]);
    try {
      await stores[0]!.save(write('a'), 0);
      expect((await stores[1]!.get('a'))!.id).toBe('a');
    } finally {
      await Promise.all([messages.close(), ...stores.map((s) => s.close())]);
    }
    const db = new Database(file, { readonly: true });
    try {
      expect(db.prepare('SELECT version FROM careplan_schema_migrations ORDER BY version').all()).toEqual([{ version: 1 }, { version: 2 }]);
      // The message store's own migrations table is untouched by the care-plan schema.
      const names = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name);
      expect(names).toEqual(
        expect.arrayContaining([
          'schema_migrations',
          'careplan_schema_migrations',
          'careplans',
          'careplan_signoffs',
          'careplan_followups',
          'careplan_files',
          'messages',
        ]),
      );
    } finally {
      db.close();
    }
  });

  it('upgrades a version-1 database: its plans stay, without a PCP organization', async () => {
    const file = tempDb();
    const v1 = openSqliteDb(file, {}, (db) => migrateCarePlanSqlite(db, SQLITE_CAREPLAN_MIGRATIONS.slice(0, 1)));
    await v1.exec(
      `INSERT INTO careplans (id, kind, member_id, cp_partner, aco_partner, status, signoff, created_at, updated_at, version, content_hash, resource)
       VALUES ('old', 'cp-plan', 'M1', 'bay-cp', 'acme-aco', 'active', 'pending', 0, 0, 1, 'h', ?)`,
      [JSON.stringify({ resourceType: 'CarePlan', id: 'old', status: 'active', intent: 'plan', subject: { reference: 'Patient/p1' } })],
    );
    await v1.close();
    const store = await openCarePlanStore(`sqlite:${file}`);
    try {
      expect(await store.get('old')).toMatchObject({ id: 'old', acoPartner: 'acme-aco', pcpPartner: null });
      await store.save(write('new', { pcpPartner: 'river-health' }), 0);
      expect((await store.list({ partner: 'river-health' })).items.map((r) => r.id)).toEqual(['new']);
    } finally {
      await store.close();
    }
  });

  it('refuses a database whose care-plan schema is newer than this build', async () => {
    const file = tempDb();
    (await openCarePlanStore(`sqlite:${file}`)).close();
    const db = new Database(file);
    db.prepare('INSERT INTO careplan_schema_migrations (version, name, applied_at) VALUES (99, ?, 0)').run('future');
    db.close();
    await expect(openCarePlanStore(`sqlite:${file}`)).rejects.toThrow(/newer than this carebridge supports/);
  });
});
