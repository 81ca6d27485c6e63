import type Database from 'better-sqlite3';
import { openSqlite, type SqliteOpenOptions } from '../open-database.js';
import { sqliteDialect } from './dialect.js';
import { withRelaxedSync } from './relaxed-sync.js';
import { ROW_REF, rowRefs, type Op, type Row, type SqlDb, type Tx, type WriteOptions } from './sql-db.js';

type Statement = Database.Statement<unknown[], unknown>;
/** A prepared statement and whether it returns rows (read once: `reader` is a native accessor). */
interface Prepared {
  s: Statement;
  reader: boolean;
}

/** better-sqlite3 binds numbers, strings, bigints, buffers and null only. */
function bindable(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (Array.isArray(value)) return JSON.stringify(value); // a list parameter (dialect.inList)
  return value;
}

/** The parameters as better-sqlite3 takes them; the list itself when none needs converting (the usual case). */
function bind(params: readonly unknown[]): readonly unknown[] {
  for (let i = 0; i < params.length; i++) {
    const v = params[i];
    if (v === undefined || typeof v === 'boolean' || Array.isArray(v)) return params.map(bindable);
  }
  return params;
}

export interface SqliteDb extends SqlDb {
  /** The connection itself, for tests that probe it. */
  readonly handle: Database.Database;
}

/**
 * Opens (creating directories and the file) a SQLite database in WAL mode, lets `migrate` bring
 * its schema up to date, and serves the SQL layer over it. Every call runs synchronously inside
 * its promise; statements are prepared once per SQL text.
 */
export function openSqliteDb(filename: string, options: SqliteOpenOptions, migrate: (db: Database.Database) => void): SqliteDb {
  const db = openSqlite(filename, options, (opened) => {
    migrate(opened);
    return opened;
  });
  const sync = options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL';
  const statements = new Map<string, Prepared>();
  const prepare = (sql: string): Prepared => {
    let p = statements.get(sql);
    if (!p) {
      const s = db.prepare(sql);
      statements.set(sql, (p = { s, reader: s.reader }));
    }
    return p;
  };

  // One small function per kind, so each stays monomorphic on the hot path.
  const allRows = (sql: string, params: readonly unknown[]): Row[] => {
    const p = prepare(sql);
    if (p.reader) return p.s.all(...bind(params)) as Row[];
    p.s.run(...bind(params));
    return [];
  };
  const runOne = (sql: string, params: readonly unknown[]): number => prepare(sql).s.run(...bind(params)).changes;
  const insert = (op: Extract<Op, { kind: 'insert' }>): Row[] => {
    const names = Object.keys(op.columns);
    const p = prepare(`INSERT INTO ${op.table} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')}) ${op.tail}`);
    const out: Row[] = [];
    const key = op.insertedKey;
    // One parameter array reused for every row: better-sqlite3 copies the values when it binds them.
    const params: unknown[] = new Array(names.length);
    for (const row of op.rows) {
      for (let i = 0; i < names.length; i++) params[i] = bindable(row[names[i]]);
      if (p.reader) for (const r of p.s.all(...params) as Row[]) out.push(r);
      else if (p.s.run(...params).changes === 1 && key !== undefined) out.push({ [key]: row[key] });
    }
    return out;
  };
  const update = (op: Extract<Op, { kind: 'update' }>): number => {
    const sql = `${op.update} WHERE ${op.where}`;
    const names = rowRefs(sql);
    const { s } = prepare(sql.replace(ROW_REF, '?'));
    const params: unknown[] = new Array(names.length);
    let changed = 0;
    for (const row of op.rows) {
      for (let i = 0; i < names.length; i++) params[i] = bindable(row[names[i]]);
      changed += s.run(...params).changes;
    }
    return changed;
  };
  const execute = (op: Op): unknown => {
    switch (op.kind) {
      case 'all':
        return allRows(op.sql, op.params);
      case 'run':
        return runOne(op.sql, op.params);
      case 'insert':
        return insert(op);
      case 'update':
        return update(op);
    }
  };

  const drive = <T>(gen: Tx<T>): T => {
    let step = gen.next();
    while (!step.done) {
      let result: unknown;
      try {
        result = execute(step.value);
      } catch (err) {
        step = gen.throw(err);
        continue;
      }
      step = gen.next(result);
    }
    return step.value;
  };
  const transaction = db.transaction((body: () => Tx<unknown>): unknown => drive(body()));

  return {
    dialect: sqliteDialect,
    blocksEventLoop: true,
    handle: db,
    async write<T>(body: () => Tx<T>, opts: WriteOptions = {}): Promise<T> {
      // IMMEDIATE: take the write lock first, so two processes queue on busy_timeout instead of
      // failing a lock upgrade halfway.
      return (opts.relaxed ? withRelaxedSync(db, sync, () => transaction.immediate(body)) : transaction.immediate(body)) as T;
    },
    read: async <T>(body: () => Tx<T>): Promise<T> => transaction.deferred(body) as T,
    query: async (sql, params = []) => allRows(sql, params),
    exec: async (sql, params = []) => runOne(sql, params),
    withSessionLock: (_class, _key, fn) => fn(),
    close: async () => {
      if (db.open) db.close();
    },
  };
}
