/**
 * Narrow types the delivery layer needs. They are defined here (not imported from src/store or
 * src/mllp) so delivery can be built and tested on its own; the gateway wires the store to them.
 */
import type { RuntimeDestination } from './deliverers/registry.js';

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

/**
 * What a deliverer is given for a destination: each type's own shape, declared by its module
 * (src/delivery/deliverers/<type>.ts) and listed by the registry.
 */
export type DestinationConfig = RuntimeDestination;
export type { WebhookDestination } from './deliverers/webhook.js';
export type { FhirDestination } from './deliverers/fhir.js';
export type { FhirMessagingDestination } from './deliverers/fhir-messaging.js';
export type { AckDisposition, MllpDestination } from './deliverers/mllp.js';
export type { SftpDestination } from './deliverers/sftp.js';

/**
 * Transports injected into deliverers (tests pass fakes). Empty here: a module that needs one adds
 * its key by declaration merging (see deliverers/mllp.ts).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface DelivererDependencies {}

/** A deliverer sends one payload to one destination and classifies the result; it never throws. */
export type Deliverer<P, D extends { type: string; id: string }> = (
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
