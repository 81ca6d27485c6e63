import type { Pool } from 'pg';
import type { Migration } from '../migration.js';
import { runPostgresMigrations } from '../migrations-runner.js';

// Two-int advisory lock key ("cb" + "mig"); the two-int key space never collides with the
// single-bigint keys used for per-patient ordering locks.
const LOCK_KEY = [0x6362, 0x6d6967] as const;

/** The message store's schema, recorded in schema_migrations; returns the versions applied now. */
export async function migratePostgres(pool: Pool, migrations: readonly Migration[]): Promise<number[]> {
  return runPostgresMigrations(pool, {
    table: 'schema_migrations',
    lockKey: LOCK_KEY,
    schemaLabel: 'database schema',
    failureLabel: 'postgres migration',
    migrations,
  });
}
