import { StoreInputError } from './errors.js';
import { migratePostgres, migrateSqlite } from './migrate.js';
import { POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS } from './schema.js';
import { openPostgresDb, type PostgresDbOptions } from './sql/postgres-db.js';
import { openSqliteDb } from './sql/sqlite-db.js';
import { SqlStore } from './sql-store.js';
import { batchWrites } from './batch-writes.js';
import type { MessageStore } from './types.js';

export type StoreLocation = { kind: 'sqlite'; filename: string } | { kind: 'postgres'; connectionString: string };

/**
 * `sqlite:./data/carebridge.db` (relative to the working directory), `sqlite:///abs/path.db`,
 * `sqlite::memory:`, or `postgres://` / `postgresql://` connection URLs.
 */
export function parseStoreUrl(url: string): StoreLocation {
  if (url.startsWith('sqlite:')) {
    let filename = url.slice('sqlite:'.length);
    // sqlite:///abs/path -> /abs/path; sqlite://./rel -> ./rel
    if (filename.startsWith('//')) filename = filename.slice(2);
    if (filename === '') throw new StoreInputError('store url sqlite: needs a file path or :memory:');
    return { kind: 'sqlite', filename };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    return { kind: 'postgres', connectionString: url };
  }
  // Never echo the URL: it may carry a password.
  throw new StoreInputError('store url must start with sqlite: or postgres://');
}

export interface SqliteStoreOptions {
  /** How long a writer waits for another process's write lock before failing. Default 5000 ms. */
  busyTimeoutMs?: number;
  /**
   * FULL (default) fsyncs the WAL on every commit: an ACKed message survives power loss.
   * NORMAL only survives process crashes; offered for benchmarks, not for production.
   * Delivery bookkeeping always commits with NORMAL (sql/relaxed-sync.ts).
   */
  synchronous?: 'FULL' | 'NORMAL';
}

/** Pool size (default 10), idle-connection errors, and transaction reruns (`deadlock`, `serialization`, `conflict`: worth a metric). */
export type PostgresStoreOptions = Partial<PostgresDbOptions>;

export interface OpenStoreOptions {
  sqlite?: SqliteStoreOptions;
  postgres?: PostgresStoreOptions;
}

/** A SQLite store (creating directories and the file as needed; `:memory:` for tests), migrated. */
export function openSqliteStore(filename: string, options: SqliteStoreOptions = {}): SqlStore {
  const db = openSqliteDb(filename, options, (handle) => migrateSqlite(handle, SQLITE_MIGRATIONS));
  return new SqlStore(db, batchWrites(db));
}

export async function openPostgresStore(connectionString: string, options: PostgresStoreOptions = {}): Promise<SqlStore> {
  const db = await openPostgresDb(connectionString, { ...options, max: options.max ?? 10 }, (pool) =>
    migratePostgres(pool, POSTGRES_MIGRATIONS),
  );
  return new SqlStore(db, batchWrites(db));
}

/** Opens the store named by `url` and brings its schema up to date. */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<MessageStore> {
  const location = parseStoreUrl(url);
  if (location.kind === 'sqlite') return openSqliteStore(location.filename, options.sqlite);
  return openPostgresStore(location.connectionString, options.postgres);
}
