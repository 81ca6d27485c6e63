import type Database from 'better-sqlite3';
import { openSqlite, type SqliteOpenOptions } from '../open-database.js';
import { sqliteDialect } from './dialect.js';
import { withRelaxedSync } from './relaxed-sync.js';
import { ROW_REF, rowRefs, type Op, type Row, type SqlDb, type Tx, type WriteOptions } from './sql-db.js';

type Statement = Database.Statement<unknown[], unknown>;

/** better-sqlite3 binds numbers, strings, bigints, buffers and null only. */
function bindable(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (Array.isArray(value)) return JSON.stringify(value); // a list parameter (dialect.inList)
  return value;
}
const bind = (params: readonly unknown[]): unknown[] => params.map(bindable);

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
  const statements = new Map<string, Statement>();
  const prepare = (sql: string): Statement => {
    let s = statements.get(sql);
    if (!s) statements.set(sql, (s = db.prepare(sql)));
    return s;
  };

  const execute = (op: Op): unknown => {
    switch (op.kind) {
      case 'all': {
        const s = prepare(op.sql);
        if (s.reader) return s.all(...bind(op.params)) as Row[];
        s.run(...bind(op.params));
        return [];
      }
      case 'run':
        return prepare(op.sql).run(...bind(op.params)).changes;
      case 'insert': {
        const names = Object.keys(op.columns);
        const s = prepare(`INSERT INTO ${op.table} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')}) ${op.tail}`);
        const out: Row[] = [];
        const key = op.insertedKey;
        for (const row of op.rows) {
          const params = names.map((n) => bindable(row[n]));
          if (s.reader) out.push(...(s.all(...params) as Row[]));
          else if (s.run(...params).changes === 1 && key !== undefined) out.push({ [key]: row[key] });
        }
        return out;
      }
      case 'update': {
        const sql = `${op.update} WHERE ${op.where}`;
        const names = rowRefs(sql);
        const s = prepare(sql.replace(ROW_REF, '?'));
        let changed = 0;
        for (const row of op.rows) changed += s.run(...names.map((n) => bindable(row[n]))).changes;
        return changed;
      }
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
    query: async (sql, params = []) => execute({ kind: 'all', sql, params }) as Row[],
    exec: async (sql, params = []) => execute({ kind: 'run', sql, params }) as number,
    withSessionLock: (_class, _key, fn) => fn(),
    close: async () => {
      if (db.open) db.close();
    },
  };
}
