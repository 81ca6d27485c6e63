import type { ColumnType, Dialect } from './dialect.js';

// One SQL implementation per domain over better-sqlite3 and pg. A transaction body is a generator
// that yields the statements it wants run and receives their results:
//
//   const rows = yield* all('SELECT status FROM messages WHERE id = ?', [id]);
//
// SQLite drives it synchronously inside one BEGIN IMMEDIATE (a better-sqlite3 transaction must not
// span an await: another connection of this process would then block the event loop on the lock);
// Postgres drives it with an await per statement on one pooled connection, rerunning the whole body
// on deadlock or serialization failure. So the body, its SQL and its decisions are written once.

export type Row = Record<string, unknown>;
export type Columns = Readonly<Record<string, ColumnType>>;

export type Op =
  | { kind: 'all'; sql: string; params: readonly unknown[] }
  | { kind: 'run'; sql: string; params: readonly unknown[] }
  | { kind: 'insert'; table: string; columns: Columns; rows: readonly Row[]; tail: string; insertedKey?: string }
  | { kind: 'update'; update: string; where: string; columns: Columns; rows: readonly Row[] };

/** A transaction body (or a step of one): yields statements, returns T. */
export type Tx<T> = Generator<Op, T, unknown>;

/** Rows of a query (an INSERT/UPDATE without RETURNING gives none). */
export function* all(sql: string, params: readonly unknown[] = []): Tx<Row[]> {
  return (yield { kind: 'all', sql, params }) as Row[];
}

export function* get(sql: string, params: readonly unknown[] = []): Tx<Row | undefined> {
  return (yield* all(sql, params))[0];
}

/** Rows changed. */
export function* run(sql: string, params: readonly unknown[] = []): Tx<number> {
  return (yield { kind: 'run', sql, params }) as number;
}

/**
 * Inserts rows (objects keyed by the columns' names), in order, and returns what `tail`'s RETURNING
 * gives. `tail` follows the VALUES/SELECT: `ON CONFLICT ... DO NOTHING`, `RETURNING ...`.
 * SQLite runs one prepared statement per row; Postgres one INSERT ... SELECT FROM unnest(arrays).
 */
export function* insertRows(table: string, columns: Columns, rows: readonly Row[], tail = ''): Tx<Row[]> {
  if (rows.length === 0) return [];
  return (yield { kind: 'insert', table, columns, rows, tail }) as Row[];
}

/**
 * Inserts rows whose `tail` may skip some (`ON CONFLICT ... DO NOTHING`) and returns `{ [key]: value }`
 * for each row actually inserted. Postgres asks with RETURNING; SQLite reads each row's change count,
 * because RETURNING there costs more than the insert itself on a wide, indexed table (messages:
 * 20 → 32-42 µs per row, measured with better-sqlite3 12.11 on the store's schema).
 */
export function* insertRowsReportingNew(table: string, columns: Columns, rows: readonly Row[], tail: string, key: string): Tx<Row[]> {
  if (rows.length === 0) return [];
  return (yield { kind: 'insert', table, columns, rows, tail, insertedKey: key }) as Row[];
}

/**
 * Updates with one row of values at a time: `update` (`UPDATE t SET a = v.a`) and `where`
 * (`id = v.id`) name a row's values as `v.<column>`. Returns rows changed.
 */
export function* updateRows(update: string, where: string, columns: Columns, rows: readonly Row[]): Tx<number> {
  if (rows.length === 0) return 0;
  return (yield { kind: 'update', update, where, columns, rows }) as number;
}

/** Thrown by a body when a concurrent writer changed what it read: the whole transaction reruns (Postgres). */
export class RetryTransaction extends Error {}

export type TransactionRetryReason = 'deadlock' | 'serialization' | 'conflict';

export interface WriteOptions {
  /**
   * Delivery bookkeeping: commit without waiting for the disk (SQLite synchronous=NORMAL, Postgres
   * synchronous_commit=off). Losing the last few costs an idempotent resend, never a message.
   */
  relaxed?: boolean;
}

export interface SqlDb {
  readonly dialect: Dialect;
  /** True when calls run synchronously on the event loop (better-sqlite3). */
  readonly blocksEventLoop: boolean;
  /** One write transaction (SQLite: BEGIN IMMEDIATE). */
  write<T>(body: () => Tx<T>, options?: WriteOptions): Promise<T>;
  /** One consistent read snapshot. */
  read<T>(body: () => Tx<T>): Promise<T>;
  /** One statement on its own. */
  query(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** One statement on its own; rows changed. */
  exec(sql: string, params?: readonly unknown[]): Promise<number>;
  /**
   * Runs fn holding a lock named (lockClass, key) across processes for as long as fn runs
   * (Postgres: a session advisory lock, gone with a crashed holder's connection). SQLite
   * deployments are one process: callers serialize in memory.
   */
  withSessionLock<T>(lockClass: number, key: string, fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** `v.name` references of an updateRows statement, in order of appearance. */
export function rowRefs(sql: string): string[] {
  return [...sql.matchAll(ROW_REF)].map((m) => m[1]);
}
export const ROW_REF = /\bv\.([a-z_][a-z0-9_]*)/g;

/** A WHERE clause built from conditions with `?` placeholders and their parameters. */
export class Where {
  private readonly conditions: string[] = [];
  readonly params: unknown[] = [];

  add(condition: string, ...params: unknown[]): this {
    this.conditions.push(condition);
    this.params.push(...params);
    return this;
  }

  sql(): string {
    return this.conditions.length ? ` WHERE ${this.conditions.join(' AND ')}` : '';
  }
}
