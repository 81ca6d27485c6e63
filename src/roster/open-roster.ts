import type { SqliteOpenOptions } from '../store/open-database.js';
import { openPostgresDb, type PostgresDbOptions } from '../store/sql/postgres-db.js';
import { openSqliteDb } from '../store/sql/sqlite-db.js';
import { migrateRosterPostgres, migrateRosterSqlite } from './migrate.js';
import { POSTGRES_ROSTER_MIGRATIONS, SQLITE_ROSTER_MIGRATIONS } from './schema.js';
import { SqlRosterBackend } from './sql-roster.js';

/** busyTimeoutMs; synchronous FULL (default: every chunk commit fsyncs) or NORMAL (benchmarks); cacheSizeMb, default 32 MiB (imports insert identifiers at random places in their index). */
export type SqliteRosterOptions = SqliteOpenOptions;

/** Pool size, default 4 (imports are serial per partner and lookups are single queries); idle-connection errors. */
export type PostgresRosterOptions = Partial<Pick<PostgresDbOptions, 'max' | 'onBackgroundError'>>;

/** The roster's own connection to the gateway's SQLite file (WAL lets it share the file with the message store). */
export function openSqliteRoster(filename: string, options: SqliteRosterOptions = {}): SqlRosterBackend {
  const db = openSqliteDb(filename, { ...options, cacheSizeMb: options.cacheSizeMb ?? 32 }, (opened) =>
    migrateRosterSqlite(opened, SQLITE_ROSTER_MIGRATIONS),
  );
  return new SqlRosterBackend(db);
}

/** The roster's own small pool on the gateway's Postgres database. */
export async function openPostgresRoster(connectionString: string, options: PostgresRosterOptions = {}): Promise<SqlRosterBackend> {
  const db = await openPostgresDb(connectionString, { ...options, max: options.max ?? 4 }, (pool) =>
    migrateRosterPostgres(pool, POSTGRES_ROSTER_MIGRATIONS),
  );
  return new SqlRosterBackend(db);
}
