/**
 * Config keys shared by destination types. Each type's own schema lives in its module
 * (src/delivery/deliverers/<type>.ts); destinations.ts unites them from the registry.
 */
import { z } from 'zod';
import { bool, filePath, id, int, nonEmpty } from './primitives.js';

/**
 * Retry and throughput knobs shared by all destinations. Defaults match src/delivery: 1 s
 * doubling to a 15 min cap and 20 attempts, i.e. roughly 2-3 hours of retrying before a dead
 * letter, enough to ride out a partner's maintenance window.
 */
export const deliveryBase = {
  id: id(),
  /** Owning partner: scopes API keys and attributed routing. */
  partner: id().optional(),
  maxAttempts: int(1, 1_000).default(20),
  backoff: z
    .strictObject({
      baseMs: int(1).default(1_000),
      maxMs: int(1).default(15 * 60_000),
    })
    .prefault({})
    .refine((b) => b.maxMs >= b.baseMs, { message: 'maxMs must be at least baseMs' }),
  /** Deliveries in flight at once per gateway process. */
  concurrency: int(1, 256).default(4),
  /** Per attempt. */
  timeoutMs: int(1).default(10_000),
};

export const headers = z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'must be an HTTP header name'), z.string()).default({});

export const bearerAuth = z.strictObject({
  /** Use ${ENV_VAR}; never commit the token. */
  bearerToken: nonEmpty('a token'),
});

/**
 * TLS to the server. A destination's `tls` key holds local files: the loader makes them absolute
 * (resolve-paths.ts) and `check` reads them (file-checks.ts), whatever the destination's type.
 */
export const clientTls = z
  .strictObject({
    /** CA bundle to verify the server; default: Node's trusted roots. */
    ca: filePath().optional(),
    /** Client certificate and key for mutual TLS. */
    cert: filePath().optional(),
    key: filePath().optional(),
    /** SNI / certificate name check, when it differs from host. */
    servername: nonEmpty().optional(),
    rejectUnauthorized: bool().default(true),
  })
  .refine((t) => (t.cert === undefined) === (t.key === undefined), { message: 'give both cert and key, or neither', path: ['cert'] });
