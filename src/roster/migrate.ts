import type Database from 'better-sqlite3';
import type { Pool } from 'pg';
import type { Migration } from '../store/migration.js';
import { runPostgresMigrations, runSqliteMigrations } from '../store/migrations-runner.js';

// The roster migrates on its own, recorded in roster_schema_migrations, so it can share a database
// with the message store without either knowing the other's versions.

const TABLE = 'roster_schema_migrations';
const SCHEMA_LABEL = 'roster schema';
// Advisory lock key ("rs", 1): distinct from the message store's migration lock.
const LOCK_KEY = [0x7273, 1] as const;

export function migrateRosterSqlite(db: Database.Database, migrations: readonly Migration[]): number[] {
  return runSqliteMigrations(db, { table: TABLE, schemaLabel: SCHEMA_LABEL, migrations });
}

export async function migrateRosterPostgres(pool: Pool, migrations: readonly Migration[]): Promise<number[]> {
  return runPostgresMigrations(pool, {
    table: TABLE,
    lockKey: LOCK_KEY,
    schemaLabel: SCHEMA_LABEL,
    failureLabel: 'roster migration',
    migrations,
  });
}
