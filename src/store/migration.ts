/** One forward-only schema step. Versions are applied in order and recorded in schema_migrations. */
export interface Migration {
  version: number;
  name: string;
  /** One or more statements; executed inside the migration transaction. */
  sql: string;
}

/** Newest version a migration list knows; a database above it belongs to a newer build. */
export function latestVersion(migrations: readonly Migration[]): number {
  return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}
