import { z } from 'zod';
import { bool, filePath, host, hostKeySha256, httpUrl, id, int, nonEmpty, port, requireOneSshKey, sshKeyFields } from './primitives.js';

/**
 * Retry and throughput knobs shared by all destinations. Defaults match src/delivery: 1 s
 * doubling to a 15 min cap and 20 attempts, i.e. roughly 2-3 hours of retrying before a dead
 * letter, enough to ride out a partner's maintenance window.
 */
const deliveryBase = {
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

const headers = z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'must be an HTTP header name'), z.string()).default({});

const bearerAuth = z.strictObject({
  /** Use ${ENV_VAR}; never commit the token. */
  bearerToken: nonEmpty('a token'),
});

export const webhookDestinationSchema = z.strictObject({
  ...deliveryBase,
  type: z.literal('webhook'),
  url: httpUrl(),
  /** HMAC-SHA256 key for the signature header (use ${ENV_VAR}). */
  secret: z.string({ error: 'is required: webhooks are always signed (use ${ENV_VAR})' }).min(1, 'must not be empty: webhooks are always signed'),
  headers,
});

export const FHIR_MODES = ['conditional-update', 'transaction'] as const;

export const fhirDestinationSchema = z.strictObject({
  ...deliveryBase,
  type: z.literal('fhir'),
  baseUrl: httpUrl(),
  auth: bearerAuth.optional(),
  /** conditional-update: PUT [type]?identifier=...; transaction: one Bundle per message. Both idempotent. */
  mode: z.enum(FHIR_MODES, { error: `must be one of ${FHIR_MODES.join(', ')}` }).default('conditional-update'),
  headers,
});

/** Da Vinci Unsolicited Notifications: POST [baseUrl]/$process-message. */
export const fhirMessagingDestinationSchema = z.strictObject({
  ...deliveryBase,
  type: z.literal('fhir-messaging'),
  baseUrl: httpUrl(),
  auth: bearerAuth.optional(),
  headers,
});

const clientTls = z
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

export const mllpDestinationSchema = z.strictObject({
  ...deliveryBase,
  type: z.literal('mllp'),
  host: host(),
  port: port().refine((p) => p !== 0, 'must be a port number 1..65535'),
  tls: clientTls.optional(),
  /** How long to wait for the ACK; a timeout is retried. */
  ackTimeoutMs: int(1).default(30_000),
});

export const sftpDestinationSchema = z
  .strictObject({
    ...deliveryBase,
    type: z.literal('sftp'),
    host: host(),
    port: port().default(22),
    username: nonEmpty(),
    ...sshKeyFields,
    hostKeySha256: hostKeySha256(),
    remoteDir: nonEmpty('a remote folder'),
  })
  .superRefine(requireOneSshKey);

export const destinationSchema = z.discriminatedUnion(
  'type',
  [webhookDestinationSchema, fhirDestinationSchema, fhirMessagingDestinationSchema, mllpDestinationSchema, sftpDestinationSchema],
  { error: 'must be one of webhook, fhir, fhir-messaging, mllp, sftp' },
);
