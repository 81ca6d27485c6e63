import type Database from 'better-sqlite3';
import type { Migration } from '../migration.js';
import { runSqliteMigrations } from '../migrations-runner.js';

/** The message store's schema, recorded in schema_migrations; returns the versions applied now. */
export function migrateSqlite(db: Database.Database, migrations: readonly Migration[]): number[] {
  return runSqliteMigrations(db, { table: 'schema_migrations', schemaLabel: 'database schema', migrations });
}
