import { StoreInputError } from './errors.js';
import { PostgresStore, type PostgresStoreOptions } from './postgres/postgres-store.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite/sqlite-store.js';
import type { MessageStore } from './types.js';

export type StoreLocation =
  | { kind: 'sqlite'; filename: string }
  | { kind: 'postgres'; connectionString: string };

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

export interface OpenStoreOptions {
  sqlite?: SqliteStoreOptions;
  postgres?: PostgresStoreOptions;
}

/** Opens the store named by `url` and brings its schema up to date. */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<MessageStore> {
  const location = parseStoreUrl(url);
  if (location.kind === 'sqlite') return SqliteStore.open(location.filename, options.sqlite);
  return PostgresStore.open(location.connectionString, options.postgres);
}
