// Forward-only migrations of the care-plan tables, recorded in careplan_schema_migrations: the
// care-plan schema evolves on its own, apart from the message store's schema_migrations.
import type Database from 'better-sqlite3';
import type { Pool } from 'pg';
import type { Migration } from '../../store/migration.js';
import { runPostgresMigrations, runSqliteMigrations } from '../../store/migrations-runner.js';

const TABLE = 'careplan_schema_migrations';
const SCHEMA_LABEL = 'care-plan schema';
// Two-int advisory lock ("cb" + "cpl"): apart from the message store's ("cb" + "mig").
const LOCK_KEY = [0x6362, 0x63706c] as const;

export function migrateCarePlanSqlite(db: Database.Database, migrations: readonly Migration[]): number[] {
  return runSqliteMigrations(db, { table: TABLE, schemaLabel: SCHEMA_LABEL, migrations });
}

export async function migrateCarePlanPostgres(pool: Pool, migrations: readonly Migration[]): Promise<number[]> {
  return runPostgresMigrations(pool, {
    table: TABLE,
    lockKey: LOCK_KEY,
    schemaLabel: SCHEMA_LABEL,
    failureLabel: 'care-plan migration',
    migrations,
  });
}
