import type Database from 'better-sqlite3';
import type { Pool } from 'pg';
import { MigrationError } from './errors.js';
import { latestVersion, type Migration } from './migration.js';

// One runner for every schema that migrates on its own (message store, roster, care plans): each
// records its versions in its own table, so schemas sharing a database never see each other's versions.

export interface SqliteMigrationPlan {
  /** Table recording applied versions, e.g. `schema_migrations`. */
  table: string;
  migrations: readonly Migration[];
  /** Names the schema in the "newer than this build" error, e.g. `roster schema`. */
  schemaLabel: string;
}

export interface PostgresMigrationPlan extends SqliteMigrationPlan {
  /** Two-int advisory lock key: the two-int key space never collides with single-bigint locks. */
  lockKey: readonly [number, number];
  /** Prefix of the error wrapping a failed step, e.g. `roster migration` (→ "roster migration failed: …"). */
  failureLabel: string;
}

// The table name is spliced into SQL text; only a plain identifier may go there.
function checkTableName(table: string): void {
  if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new MigrationError(`invalid migrations table name: ${table}`);
}

function refuseNewer(applied: Iterable<number>, plan: SqliteMigrationPlan): void {
  const newest = latestVersion(plan.migrations);
  for (const v of applied) {
    if (v > newest) {
      throw new MigrationError(`${plan.schemaLabel} version ${v} is newer than this carebridge supports (${newest}); upgrade carebridge`);
    }
  }
}

function inOrder(migrations: readonly Migration[]): Migration[] {
  return [...migrations].sort((a, b) => a.version - b.version);
}

/**
 * Applies missing migrations inside one IMMEDIATE transaction: the write lock is taken before the
 * applied versions are read, so two processes opening the same file at once apply each step once
 * (the second waits on busy_timeout, then finds nothing to do). Returns the versions applied now.
 */
export function runSqliteMigrations(db: Database.Database, plan: SqliteMigrationPlan): number[] {
  const { table } = plan;
  checkTableName(table);
  // PRAGMA foreign_keys is a no-op inside a transaction: it is switched around it.
  const rebuilds = plan.migrations.some((m) => m.rebuildsTables);
  const foreignKeysWereOn = rebuilds && db.pragma('foreign_keys', { simple: true }) === 1;
  if (foreignKeysWereOn) db.pragma('foreign_keys = OFF');
  const run = db.transaction((): number[] => {
    db.exec(`CREATE TABLE IF NOT EXISTS ${table} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
    const applied = new Set((db.prepare(`SELECT version FROM ${table}`).all() as Array<{ version: number }>).map((r) => r.version));
    refuseNewer(applied, plan);
    const record = db.prepare(`INSERT INTO ${table} (version, name, applied_at) VALUES (?, ?, ?)`);
    const done: number[] = [];
    for (const m of inOrder(plan.migrations)) {
      if (applied.has(m.version)) continue;
      db.exec(m.sql);
      record.run(m.version, m.name, Date.now());
      done.push(m.version);
    }
    if (rebuilds && (db.pragma('foreign_key_check') as unknown[]).length > 0) {
      throw new MigrationError(`${plan.schemaLabel}: a rebuilt table breaks a foreign key; nothing was changed`);
    }
    return done;
  });
  try {
    return run.immediate();
  } finally {
    if (foreignKeysWereOn) db.pragma('foreign_keys = ON');
  }
}

/**
 * Applies missing migrations in one transaction that first takes a transaction-scoped advisory
 * lock: when two gateway processes start at once, the second waits, then sees every version
 * recorded and does nothing. DDL is transactional in Postgres, so a failed step leaves no trace.
 */
export async function runPostgresMigrations(pool: Pool, plan: PostgresMigrationPlan): Promise<number[]> {
  const { table } = plan;
  checkTableName(table);
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [plan.lockKey[0], plan.lockKey[1]]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${table} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${table}`);
    const applied = new Set(rows.map((r) => r.version));
    refuseNewer(applied, plan);
    const done: number[] = [];
    for (const m of inOrder(plan.migrations)) {
      if (applied.has(m.version)) continue;
      await client.query(m.sql);
      await client.query(`INSERT INTO ${table} (version, name) VALUES ($1, $2)`, [m.version, m.name]);
      done.push(m.version);
    }
    await client.query('COMMIT');
    return done;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {
      // A connection that cannot roll back is not returned to the pool for reuse.
      broken = true;
    });
    if (err instanceof MigrationError) throw err;
    throw new MigrationError(`${plan.failureLabel} failed: ${(err as Error).message}`, { cause: err });
  } finally {
    client.release(broken);
  }
}
