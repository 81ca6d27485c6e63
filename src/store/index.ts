export * from './types.js';
export { NotFoundError, MigrationError, StoreError, StoreInputError } from './errors.js';
export {
  openStore,
  openSqliteStore,
  openPostgresStore,
  parseStoreUrl,
  type OpenStoreOptions,
  type StoreLocation,
  type SqliteStoreOptions,
  type PostgresStoreOptions,
} from './open-store.js';
export { SqlStore } from './sql-store.js';
export type { TransactionRetryReason } from './sql/sql-db.js';
export { newId } from './ids.js';
export { sha256Hex } from './inputs.js';
