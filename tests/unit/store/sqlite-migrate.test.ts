import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MigrationError } from '../../../src/store/errors.js';
import { migrateSqlite } from '../../../src/store/migrate.js';
import { SQLITE_MIGRATIONS } from '../../../src/store/schema.js';

describe('migrateSqlite', () => {
  it('applies each version once and is idempotent', () => {
    const db = new Database(':memory:');
    try {
      const all = SQLITE_MIGRATIONS.map((m) => m.version).sort((a, b) => a - b);
      expect(migrateSqlite(db, SQLITE_MIGRATIONS)).toEqual(all);
      expect(migrateSqlite(db, SQLITE_MIGRATIONS)).toEqual([]);
      const next = all[all.length - 1]! + 1;
      const extra = [...SQLITE_MIGRATIONS, { version: next, name: 'add note', sql: 'ALTER TABLE messages ADD COLUMN note TEXT' }];
      expect(migrateSqlite(db, extra)).toEqual([next]);
      expect(db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all()).toEqual([...all, next]);
    } finally {
      db.close();
    }
  });

  it('rolls back a failing migration completely', () => {
    const db = new Database(':memory:');
    try {
      const broken = [...SQLITE_MIGRATIONS, { version: 99, name: 'broken', sql: 'CREATE TABLE t (x); SELECT nope FROM nowhere;' }];
      expect(() => migrateSqlite(db, broken)).toThrow();
      // Version 1 was in the same transaction: nothing was applied.
      expect(db.prepare(`SELECT count(*) FROM sqlite_master WHERE name IN ('messages','t')`).pluck().get()).toBe(0);
    } finally {
      db.close();
    }
  });

  it('refuses a database written by a newer carebridge', () => {
    const db = new Database(':memory:');
    try {
      migrateSqlite(db, SQLITE_MIGRATIONS);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, ?, 0)').run('future');
      expect(() => migrateSqlite(db, SQLITE_MIGRATIONS)).toThrow(MigrationError);
    } finally {
      db.close();
    }
  });
});
