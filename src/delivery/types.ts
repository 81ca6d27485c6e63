/**
 * Narrow types the delivery layer needs. They are defined here (not imported from src/store or
 * src/mllp) so delivery can be built and tested on its own; the gateway wires the store to them.
 */

/** One unit of work on a destination queue. The payload itself stays in the message store. */
export interface DeliveryJob {
  /** Store id of the delivery row; also the BullMQ job id, so re-enqueueing never duplicates. */
  deliveryId: string;
  messageId: string;
  destinationId: string;
  /**
   * Ordering key: deliveries with the same key on the same destination are delivered in `seq`
   * order. Usually a stable patient key; empty string means "no ordering needed".
   */
  patientKey: string;
  /** Monotonic per patient (e.g. the store's receive sequence). Lower goes first. */
  seq: number;
}

export type DeliveryOutcomeKind = 'delivered' | 'retry' | 'fatal';

/** What a deliverer reports for one attempt. Never contains payload data (it may be logged). */
export interface DeliveryOutcome {
  kind: DeliveryOutcomeKind;
  /** HTTP status, or the MLLP acknowledgment code (AA, AE, ...) as a string. */
  status?: number | string;
  /** Short reason without PHI, e.g. "HTTP 503" or "timeout after 10000 ms". */
  error?: string;
  /** Server-requested wait (Retry-After). With HTTP 429 the destination is slowed down. */
  retryAfterMs?: number;
  durationMs: number;
}

/** Per-attempt context given to a deliverer. */
export interface DeliveryContext {
  deliveryId: string;
  /** 1-based attempt number (throttled attempts do not count). */
  attempt: number;
}

interface DestinationBase {
  id: string;
  /** Per-request timeout; a timeout is retried. */
  timeoutMs?: number;
}

export interface WebhookDestination extends DestinationBase {
  type: 'webhook';
  url: string;
  /** HMAC-SHA256 key for the Standard Webhooks webhook-signature header (see webhook-signature.ts). */
  secret: string;
  headers?: Record<string, string>;
}

export interface FhirDestination extends DestinationBase {
  type: 'fhir';
  baseUrl: string;
  bearerToken?: string;
  headers?: Record<string, string>;
}

export interface FhirMessagingDestination extends DestinationBase {
  type: 'fhir-messaging';
  baseUrl: string;
  bearerToken?: string;
  headers?: Record<string, string>;
}

/** How an MLLP acknowledgment code is treated when it is not AA/CA. */
export type AckDisposition = 'retry' | 'fatal';

export interface MllpDestination extends DestinationBase {
  type: 'mllp';
  host: string;
  port: number;
  /** Overrides of the default policy (AE/CE/AR retry, CR fatal; see deliverers/mllp.ts). */
  ackPolicy?: Partial<Record<'AE' | 'AR' | 'CE' | 'CR', AckDisposition>>;
}

/** File drop on an SFTP server (deliverers/sftp.ts). Exactly one of privateKeyFile / privateKeyEnv. */
export interface SftpDestination extends DestinationBase {
  type: 'sftp';
  host: string;
  port: number;
  username: string;
  /** Read at every attempt, so a rotated key needs no restart. */
  privateKeyFile?: string;
  /** Name of the environment variable holding the key (PEM/OpenSSH text or base64). */
  privateKeyEnv?: string;
  passphrase?: string;
  /** `SHA256:<base64>`; any other host key is refused. */
  hostKeySha256: string;
  remoteDir: string;
}

export type DestinationConfig =
  | WebhookDestination
  | FhirDestination
  | FhirMessagingDestination
  | MllpDestination
  | SftpDestination;

/** A deliverer sends one payload to one destination and classifies the result; it never throws. */
export type Deliverer<P, D extends DestinationConfig> = (
  payload: P,
  destination: D,
  ctx: DeliveryContext,
) => Promise<DeliveryOutcome>;

/** Minimal logger (pino-compatible subset). Callers must not pass PHI at info level. */
export interface DeliveryLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: DeliveryLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
