import type { Pool } from 'pg';
import { MigrationError } from '../errors.js';
import { latestVersion, type Migration } from '../migration.js';

// Two-int advisory lock key ("cb" + "mig"); the two-int key space never collides with the
// single-bigint keys used for per-patient ordering locks.
const LOCK_CLASS = 0x6362;
const LOCK_OBJECT = 0x6d6967;

/**
 * Applies missing migrations in one transaction that first takes a transaction-scoped advisory
 * lock: when two gateway processes start at once, the second waits, then sees every version
 * recorded and does nothing. DDL is transactional in Postgres, so a failed step leaves no trace.
 */
export async function migratePostgres(pool: Pool, migrations: readonly Migration[]): Promise<number[]> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_CLASS, LOCK_OBJECT]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => r.version));
    const newest = latestVersion(migrations);
    for (const v of applied) {
      if (v > newest) {
        throw new MigrationError(
          `database schema version ${v} is newer than this carebridge supports (${newest}); upgrade carebridge`,
        );
      }
    }
    const done: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      done.push(m.version);
    }
    await client.query('COMMIT');
    return done;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    if (err instanceof MigrationError) throw err;
    throw new MigrationError(`postgres migration failed: ${(err as Error).message}`, { cause: err });
  } finally {
    client.release(broken);
  }
}
