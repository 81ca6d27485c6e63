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

/** Newest version a migration list knows; a database above it belongs to a newer build. */
export function latestVersion(migrations: readonly Migration[]): number {
  return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}
