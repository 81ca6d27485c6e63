import { z } from 'zod';
import { host, int, port, serverTls } from './primitives.js';

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
