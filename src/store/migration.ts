/** One forward-only schema step. Versions are applied in order and recorded in schema_migrations. */
export interface Migration {
  version: number;
  name: string;
  /** One or more statements; executed inside the migration transaction. */
  sql: string;
  /**
   * SQLite only: the step rebuilds a table (SQLite cannot alter a constraint). The runner turns
   * foreign keys off around the transaction, so dropping the old table cascades nothing, and runs
   * `PRAGMA foreign_key_check` before committing.
   */
  rebuildsTables?: boolean;
}

/** A step written for both engines: the same version, each engine's SQL. */
export interface DialectMigration {
  version: number;
  name: string;
  sqlite: string;
  postgres: string;
  /** SQLite's step rebuilds a table (see Migration.rebuildsTables). */
  rebuildsTables?: boolean;
}

/** The steps one engine runs. */
export function migrationsFor(kind: 'sqlite' | 'postgres', steps: readonly DialectMigration[]): Migration[] {
  return steps.map((m) => ({
    version: m.version,
    name: m.name,
    sql: m[kind],
    ...(kind === 'sqlite' && m.rebuildsTables ? { rebuildsTables: true } : {}),
  }));
}

/**
 * Postgres: TIMESTAMPTZ columns to BIGINT epoch milliseconds, as SQLite always stored them (so one
 * SQL text serves both). Floor: a time never moves later than it was.
 */
export function timesToEpochMs(table: string, columns: readonly string[]): string {
  const alter = columns.map((c) => `ALTER COLUMN ${c} TYPE BIGINT USING floor(extract(epoch FROM ${c}) * 1000)::bigint`);
  return `ALTER TABLE ${table} ${alter.join(', ')};`;
}

/** Newest version a migration list knows; a database above it belongs to a newer build. */
export function latestVersion(migrations: readonly Migration[]): number {
  return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}
