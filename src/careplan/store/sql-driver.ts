// The few things the care-plan store needs from a database, over better-sqlite3 and pg, so its
// queries are written once. SQL uses `?` placeholders (rewritten to $n for Postgres) and only
// syntax both engines share (ON CONFLICT, RETURNING, LIMIT). Times are epoch-millisecond integers
// on both: the store converts them to Date, and pg's BIGINT strings are turned into numbers here.
import Database from 'better-sqlite3';
import { openPool, openSqlite } from '../../store/open-database.js';
import type { Migration } from '../../store/migration.js';
import { migrateCarePlanPostgres, migrateCarePlanSqlite } from './migrate.js';

export type Row = Record<string, unknown>;

export interface SqlExecutor {
  all(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Rows changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

/** One statement of a transaction; `mustChange`: no row changed means stop and roll back. */
export interface Step {
  sql: string;
  params: readonly unknown[];
  mustChange?: boolean;
}

export interface SqlDriver extends SqlExecutor {
  readonly kind: 'sqlite' | 'postgres';
  /**
   * Runs the steps in one write transaction, in order, and returns the rows of the last one; null
   * (everything rolled back) when a `mustChange` step changed nothing. A fixed list rather than a
   * callback: on SQLite the transaction must not span an await (see sqliteDriver).
   */
  transaction(steps: readonly Step[]): Promise<Row[] | null>;
  close(): Promise<void>;
}

/**
 * better-sqlite3 is synchronous. A transaction runs start to end in one synchronous call: held open
 * across an await, it would let another connection of this process (the message store, the roster)
 * start a write that waits on the lock synchronously, blocking the event loop that would finish ours.
 */
export function sqliteDriver(filename: string, migrations: readonly Migration[], busyTimeoutMs = 5000): SqlDriver {
  const db = openSqlite(filename, { busyTimeoutMs }, (opened) => {
    migrateCarePlanSqlite(opened, migrations);
    return opened;
  });
  const statements = new Map<string, Database.Statement>();
  const prepare = (sql: string): Database.Statement => {
    let s = statements.get(sql);
    if (!s) {
      s = db.prepare(sql);
      statements.set(sql, s);
    }
    return s;
  };
  const all = (sql: string, params: readonly unknown[] = []): Row[] => {
    const st = prepare(sql);
    if (st.reader) return st.all(...params) as Row[];
    st.run(...params);
    return [];
  };
  const runSteps = db.transaction((steps: readonly Step[]): Row[] | null => {
    let rows: Row[] = [];
    for (const step of steps) {
      const st = prepare(step.sql);
      if (st.reader) rows = st.all(...step.params) as Row[];
      else {
        rows = [];
        if (st.run(...step.params).changes === 0 && step.mustChange) throw ROLLBACK;
      }
    }
    return rows;
  });
  return {
    kind: 'sqlite',
    all: async (sql, params) => all(sql, params),
    run: async (sql, params = []) => prepare(sql).run(...params).changes,
    async transaction(steps) {
      try {
        // IMMEDIATE: take the write lock first, so two processes queue on busy_timeout instead of
        // failing a lock upgrade halfway.
        return runSteps.immediate(steps);
      } catch (err) {
        if (err === ROLLBACK) return null;
        throw err;
      }
    },
    close: async () => void db.close(),
  };
}

const ROLLBACK = Symbol('rollback');

function toPg(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

// BIGINT (epoch ms, counts) comes back from pg as text; the store wants numbers.
function numbers(rows: Row[]): Row[] {
  for (const row of rows)
    for (const k of Object.keys(row)) if (typeof row[k] === 'string' && BIGINT_COLUMNS.has(k)) row[k] = Number(row[k]);
  return rows;
}
const BIGINT_COLUMNS = new Set([
  'seq',
  'due_at',
  'created_at',
  'completed_at',
  'updated_at',
  'decided_at',
  'recorded_at',
  'version',
  'plan_version',
  'rows',
  'applied',
  'errors',
]);

const RETRYABLE = new Set(['40001', '40P01']); // serialization failure, deadlock

export async function postgresDriver(connectionString: string, migrations: readonly Migration[], max = 4): Promise<SqlDriver> {
  const pool = await openPool(connectionString, { max }, (p) => migrateCarePlanPostgres(p, migrations));
  return {
    kind: 'postgres',
    async all(sql, params = []) {
      return numbers((await pool.query(toPg(sql), params as unknown[])).rows as Row[]);
    },
    async run(sql, params = []) {
      return (await pool.query(toPg(sql), params as unknown[])).rowCount ?? 0;
    },
    async transaction(steps) {
      for (let attempt = 1; ; attempt++) {
        const client = await pool.connect();
        let broken = false;
        try {
          await client.query('BEGIN');
          let rows: Row[] = [];
          let stopped = false;
          for (const step of steps) {
            const r = await client.query(toPg(step.sql), step.params as unknown[]);
            rows = numbers((r.rows ?? []) as Row[]);
            if (step.mustChange && r.command !== 'SELECT' && (r.rowCount ?? 0) === 0) {
              stopped = true;
              break;
            }
          }
          await client.query(stopped ? 'ROLLBACK' : 'COMMIT');
          return stopped ? null : rows;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {
            broken = true;
          });
          if (attempt < 5 && RETRYABLE.has((err as { code?: string }).code ?? '')) continue;
          throw err;
        } finally {
          client.release(broken);
        }
      }
    },
    close: () => pool.end(),
  };
}
