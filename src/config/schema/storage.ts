import { z } from 'zod';
import { int, nonEmpty } from './primitives.js';

/** `sqlite:<path>`, `sqlite::memory:`, or a `postgres://` / `postgresql://` URL. */
const storeUrl = nonEmpty('a store URL').refine(
  (v) => /^sqlite:.+/.test(v) || /^postgres(ql)?:\/\/.+/.test(v),
  'must be sqlite:<path> or a postgres:// URL',
);

export const storeSchema = z.strictObject({
  /** Absent: `sqlite:<dataDir>/carebridge.db`. */
  url: storeUrl.optional(),
  /** Finished messages older than this are pruned; 0 keeps everything. */
  retentionDays: int(0).default(90),
  pruneIntervalMinutes: int(1).default(60),
});

export const redisSchema = z.strictObject({
  /** Absent: the gateway starts a private redis-server under dataDir. */
  url: nonEmpty('a redis:// URL')
    .refine((v) => /^rediss?:\/\/.+/.test(v), 'must be a redis:// or rediss:// URL')
    .optional(),
  /** Key prefix, so several gateways (or environments) can share one Redis. */
  prefix: nonEmpty()
    .regex(/^[A-Za-z0-9_:.-]+$/, 'must be letters, digits, "_", ":", "." or "-"')
    .default('carebridge'),
});

export const mappingsSchema = z.strictObject({
  /** Folder with base/ and partners/ (default: the package's mappings/). */
  dir: nonEmpty('a folder path').optional(),
});
