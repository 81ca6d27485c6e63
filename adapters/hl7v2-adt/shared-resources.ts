import type { Resource } from 'fhir/r4';
import type { MappingProfile } from '../../src/mapping/profile-schema.js';
import { markShared } from '../../src/fhir/shared.js';
import { compact } from './context.js';

/**
 * Practitioners, Organizations and Locations repeat from message to message in a feed (the same
 * doctors, facilities and units), and each depends only on the mapping profile and the raw
 * field it came from. So each is built once per profile and the same object is put in every
 * Bundle that names it: no re-reading, re-hashing of ids or re-compacting per message. They are
 * marked shared (src/fhir/shared.ts): never changed, and serialized once. Not frozen: frozen
 * objects and arrays fall off V8's fast JSON.stringify path (measured: slower overall).
 */
const MAX_ENTRIES = 2_000;

interface ProfileCache {
  size: number;
  tables: Map<string, Map<string, unknown>>;
}
const caches = new WeakMap<MappingProfile, ProfileCache>();

/**
 * The cached value for `key` in the `kind` table of `profile`, building (and freezing) it on a
 * miss. Tables per kind keep the key the raw field text itself: no concatenation per lookup.
 */
export function shared<T>(profile: MappingProfile, kind: string, key: string, build: () => T): T {
  let cache = caches.get(profile);
  if (!cache) caches.set(profile, (cache = { size: 0, tables: new Map() }));
  let table = cache.tables.get(kind);
  if (!table) cache.tables.set(kind, (table = new Map()));
  if (table.has(key)) return table.get(key) as T;
  const value = build();
  // A feed with an unbounded variety (generated ids, free-text locations) must not grow memory
  // without limit: start over rather than track recency on the hot path.
  if (++cache.size > MAX_ENTRIES) {
    for (const t of cache.tables.values()) t.clear();
    cache.size = 1;
  }
  table.set(key, value);
  return value;
}

/** A resource ready to share: empties dropped (as every resource in a Bundle), then marked shared. */
export function sealed<T extends Resource>(resource: T): T {
  compact(resource);
  return markShared(resource);
}
