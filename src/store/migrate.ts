import type Database from 'better-sqlite3';
import type { Pool } from 'pg';
import type { Migration } from './migration.js';
import { runPostgresMigrations, runSqliteMigrations } from './migrations-runner.js';

// The message store's schema, recorded in schema_migrations; each returns the versions applied now.

// Two-int advisory lock key ("cb" + "mig"); the two-int key space never collides with the
// single-bigint keys used for per-patient ordering locks.
const LOCK_KEY = [0x6362, 0x6d6967] as const;

export function migrateSqlite(db: Database.Database, migrations: readonly Migration[]): number[] {
  return runSqliteMigrations(db, { table: 'schema_migrations', schemaLabel: 'database schema', migrations });
}

export async function migratePostgres(pool: Pool, migrations: readonly Migration[]): Promise<number[]> {
  return runPostgresMigrations(pool, {
    table: 'schema_migrations',
    lockKey: LOCK_KEY,
    schemaLabel: 'database schema',
    failureLabel: 'postgres migration',
    migrations,
  });
}
