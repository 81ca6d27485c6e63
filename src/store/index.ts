export * from './types.js';
export { NotFoundError, MigrationError, StoreError, StoreInputError } from './errors.js';
export { openStore, parseStoreUrl, type OpenStoreOptions, type StoreLocation } from './open-store.js';
export { SqliteStore, type SqliteStoreOptions } from './sqlite/sqlite-store.js';
export { PostgresStore, type PostgresStoreOptions, type TransactionRetryReason } from './postgres/postgres-store.js';
export { newId } from './ids.js';
export { sha256Hex } from './inputs.js';
