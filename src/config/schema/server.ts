import { z } from 'zod';
import { host, int, nonEmpty, port, serverTls } from './primitives.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const httpServerSchema = z.strictObject({
  host: host().default('127.0.0.1'),
  port: port().default(8080),
  /** Largest accepted request body; HL7 batches and FHIR bundles can be several MB. */
  bodyLimitBytes: int(1024).default(10 * 1024 * 1024),
  tls: serverTls().optional(),
  /** Per client IP, on ingest and API routes. */
  rateLimit: z
    .strictObject({
      max: int(1).default(2_000),
      timeWindowMs: int(1).default(1_000),
    })
    .prefault({}),
});

export const serverSchema = z.strictObject({
  http: httpServerSchema.prefault({}),
  logLevel: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  /** Time to drain connections and in-flight deliveries before exiting. */
  shutdownTimeoutMs: int(0).default(15_000),
});

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
  url: nonEmpty('a redis:// URL').refine((v) => /^rediss?:\/\/.+/.test(v), 'must be a redis:// or rediss:// URL').optional(),
  /** Key prefix, so several gateways (or environments) can share one Redis. */
  prefix: nonEmpty().regex(/^[A-Za-z0-9_:.-]+$/, 'must be letters, digits, "_", ":", "." or "-"').default('carebridge'),
});

export const mappingsSchema = z.strictObject({
  /** Folder with base/ and partners/ (default: the package's mappings/). */
  dir: nonEmpty('a folder path').optional(),
});

const sensitiveEntry = z.strictObject({
  /** Facility (MSH-4 / PV1-3.4) or hospital service (PV1-10) code. */
  code: nonEmpty(),
  /** Drives the meta.security label and which consent is needed (42 CFR Part 2 for substance-use). */
  category: z.enum(['behavioral-health', 'substance-use'], { error: 'must be behavioral-health or substance-use' }),
});

export const consentSchema = z.strictObject({
  sensitiveFacilities: z.array(sensitiveEntry).default([]),
  sensitiveServices: z.array(sensitiveEntry).default([]),
});
