import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';

// How every carebridge table set (messages, roster, care plans) opens its database, so the three
// stay configured alike: one place for the pragmas and for cleaning up when migration fails.

export interface SqliteOpenOptions {
  busyTimeoutMs?: number;
  /** Default FULL: a committed write survives a power cut. */
  synchronous?: 'FULL' | 'NORMAL';
  /** Page cache per connection; SQLite's default when unset. */
  cacheSizeMb?: number;
}

/**
 * Opens a SQLite file (creating its directory; `:memory:` or '' for tests) in WAL mode with foreign
 * keys on, then hands it to `setup` (migrations, statements). Closed again if `setup` throws.
 */
export function openSqlite<T>(filename: string, options: SqliteOpenOptions, setup: (db: Database.Database) => T): T {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  const memory = filename === ':memory:' || filename === '';
  if (!memory) mkdirSync(dirname(filename), { recursive: true });
  const db = new Database(filename, { timeout: busyTimeoutMs });
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    if (!memory) db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
    db.pragma('foreign_keys = ON');
    if (options.cacheSizeMb !== undefined) db.pragma(`cache_size = ${-Math.max(1, Math.floor(options.cacheSizeMb * 1024))}`);
    return setup(db);
  } catch (err) {
    db.close();
    throw err;
  }
}

export interface PoolOpenOptions {
  max: number;
  /** An idle client losing its connection must not crash the process; the next query reports it. */
  onBackgroundError?: (err: Error) => void;
}

const INT8_OID = 20;
// BIGINT (epoch-ms times, seq, counts) as a number: every value carebridge stores is below 2^53.
const typeParser = ((oid: number, format?: 'text' | 'binary') =>
  oid === INT8_OID && format !== 'binary' ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser;

/** A Postgres pool, migrated by `migrate` before anyone uses it; ended again if that fails. */
export async function openPool(
  connectionString: string,
  options: PoolOpenOptions,
  migrate: (pool: pg.Pool) => Promise<unknown>,
): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString, max: options.max, types: { getTypeParser: typeParser } });
  const onError = options.onBackgroundError ?? (() => {});
  pool.on('error', (err) => onError(err));
  try {
    await migrate(pool);
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }
  return pool;
}
