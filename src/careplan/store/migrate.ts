// Forward-only migrations of the care-plan tables, recorded in careplan_schema_migrations: the
// care-plan schema evolves on its own, apart from the message store's schema_migrations.
import type Database from 'better-sqlite3';
import type { Pool } from 'pg';
import { MigrationError } from '../../store/errors.js';
import { latestVersion, type Migration } from '../../store/migration.js';

const TABLE = 'careplan_schema_migrations';
// Two-int advisory lock ("cb" + "cpl"): apart from the message store's ("cb" + "mig").
const LOCK_CLASS = 0x6362;
const LOCK_OBJECT = 0x63706c;

function refuseNewer(applied: Iterable<number>, migrations: readonly Migration[]): void {
  const newest = latestVersion(migrations);
  for (const v of applied) {
    if (v > newest) throw new MigrationError(`care-plan schema version ${v} is newer than this carebridge supports (${newest}); upgrade carebridge`);
  }
}

/** One IMMEDIATE transaction: two processes opening the file at once apply each step once. */
export function migrateCarePlanSqlite(db: Database.Database, migrations: readonly Migration[]): number[] {
  const run = db.transaction((): number[] => {
    db.exec(`CREATE TABLE IF NOT EXISTS ${TABLE} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
    const applied = new Set((db.prepare(`SELECT version FROM ${TABLE}`).all() as Array<{ version: number }>).map((r) => r.version));
    refuseNewer(applied, migrations);
    const done: number[] = [];
    const record = db.prepare(`INSERT INTO ${TABLE} (version, name, applied_at) VALUES (?, ?, ?)`);
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(m.version)) continue;
      db.exec(m.sql);
      record.run(m.version, m.name, Date.now());
      done.push(m.version);
    }
    return done;
  });
  return run.immediate();
}

/** One transaction under an advisory lock; DDL is transactional, so a failed step leaves nothing. */
export async function migrateCarePlanPostgres(pool: Pool, migrations: readonly Migration[]): Promise<number[]> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_CLASS, LOCK_OBJECT]);
    await client.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${TABLE}`);
    const applied = new Set(rows.map((r) => r.version));
    refuseNewer(applied, migrations);
    const done: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(m.version)) continue;
      await client.query(m.sql);
      await client.query(`INSERT INTO ${TABLE} (version, name) VALUES ($1, $2)`, [m.version, m.name]);
      done.push(m.version);
    }
    await client.query('COMMIT');
    return done;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    if (err instanceof MigrationError) throw err;
    throw new MigrationError(`care-plan migration failed: ${(err as Error).message}`, { cause: err });
  } finally {
    client.release(broken);
  }
}
