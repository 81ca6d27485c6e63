import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MigrationError } from '../../../src/store/errors.js';
import { runSqliteMigrations } from '../../../src/store/migrations-runner.js';

const steps = [
  { version: 2, name: 'second', sql: 'ALTER TABLE a ADD COLUMN y TEXT' },
  { version: 1, name: 'first', sql: 'CREATE TABLE a (x TEXT)' },
];

describe('runSqliteMigrations', () => {
  it('applies in version order, records in its own table, and leaves other schemas alone', () => {
    const db = new Database(':memory:');
    try {
      expect(runSqliteMigrations(db, { table: 'one_schema_migrations', schemaLabel: 'one schema', migrations: steps })).toEqual([1, 2]);
      expect(runSqliteMigrations(db, { table: 'one_schema_migrations', schemaLabel: 'one schema', migrations: steps })).toEqual([]);
      expect(db.prepare('SELECT version, name FROM one_schema_migrations ORDER BY version').all()).toEqual([
        { version: 1, name: 'first' },
        { version: 2, name: 'second' },
      ]);
      // A second schema in the same database counts its own versions.
      const other = [{ version: 1, name: 'b', sql: 'CREATE TABLE b (x TEXT)' }];
      expect(runSqliteMigrations(db, { table: 'other_schema_migrations', schemaLabel: 'other schema', migrations: other })).toEqual([1]);
    } finally {
      db.close();
    }
  });

  it('names the schema when the database is newer than this build', () => {
    const db = new Database(':memory:');
    try {
      runSqliteMigrations(db, { table: 'one_schema_migrations', schemaLabel: 'one schema', migrations: steps });
      db.prepare(`INSERT INTO one_schema_migrations (version, name, applied_at) VALUES (7, 'future', 0)`).run();
      expect(() => runSqliteMigrations(db, { table: 'one_schema_migrations', schemaLabel: 'one schema', migrations: steps })).toThrow(
        new MigrationError('one schema version 7 is newer than this carebridge supports (2); upgrade carebridge'),
      );
    } finally {
      db.close();
    }
  });

  it('refuses a table name that is not a plain identifier', () => {
    const db = new Database(':memory:');
    try {
      expect(() => runSqliteMigrations(db, { table: 'x; DROP TABLE a', schemaLabel: 's', migrations: steps })).toThrow(MigrationError);
    } finally {
      db.close();
    }
  });
});
