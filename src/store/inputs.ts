import { createHash } from 'node:crypto';
import { StoreInputError } from './errors.js';
import {
  ATTEMPT_OUTCOMES,
  SOURCE_KINDS,
  type AttemptInput,
  type CompletionItem,
  type DeliveryInput,
  type DeliveryResultInput,
  type InboundInput,
  type PatientIdentifier,
} from './types.js';

// Validation and normalization shared by both implementations, so they accept and reject exactly
// the same inputs (the CHECK constraints in the schema are the last line, not the first).

/** Lineage shows the latest receipts only; duplicate_count keeps the full number. */
export const RECEIPTS_IN_DETAIL = 100;
/** Rows deleted per prune transaction: short transactions keep ingest flowing during retention. */
export const PRUNE_CHUNK = 500;

export interface NormalizedInbound {
  receivedAt: Date;
  sourceKind: InboundInput['sourceKind'];
  sourceName: string;
  partnerId: string | null;
  sender: string | null;
  controlId: string | null;
  messageType: string | null;
  triggerEvent: string | null;
  version: string | null;
  dedupeKey: string;
  contentHash: string;
  raw: Buffer;
  status: 'received' | 'rejected';
  statusReason: string | null;
  identifiers: PatientIdentifier[];
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function normalizeInbound(input: InboundInput, now: Date): NormalizedInbound {
  if (!SOURCE_KINDS.includes(input.sourceKind)) {
    throw new StoreInputError(`unknown source kind: ${String(input.sourceKind)}`);
  }
  if (typeof input.dedupeKey !== 'string' || input.dedupeKey.length === 0) {
    throw new StoreInputError('dedupeKey is required');
  }
  if (!(input.raw instanceof Uint8Array)) {
    throw new StoreInputError('raw must be bytes (Buffer or Uint8Array)');
  }
  const status = input.status ?? 'received';
  if (status !== 'received' && status !== 'rejected') {
    throw new StoreInputError(`inbound status must be received or rejected, got ${String(status)}`);
  }
  const raw = toBuffer(input.raw);
  return {
    receivedAt: input.receivedAt ?? now,
    sourceKind: input.sourceKind,
    sourceName: input.sourceName,
    partnerId: input.partnerId ?? null,
    sender: input.sender ?? null,
    controlId: input.controlId ?? null,
    messageType: input.messageType ?? null,
    triggerEvent: input.triggerEvent ?? null,
    version: input.version ?? null,
    dedupeKey: input.dedupeKey,
    contentHash: input.contentHash ?? sha256Hex(raw),
    raw,
    status,
    statusReason: input.statusReason ?? null,
    identifiers: normalizeIdentifiers(input.identifiers),
  };
}

/** Drops empty values and repeats (the table's primary key would reject repeats anyway). */
export function normalizeIdentifiers(ids: readonly PatientIdentifier[] | undefined): PatientIdentifier[] {
  const seen = new Set<string>();
  const out: PatientIdentifier[] = [];
  for (const id of ids ?? []) {
    if (!id || typeof id.value !== 'string' || id.value === '') continue;
    const system = typeof id.system === 'string' ? id.system : '';
    const key = `${system}\u0000${id.value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ system, value: id.value });
  }
  return out;
}

/** Strings are stored verbatim (already-serialized JSON); anything else is JSON-encoded. */
export function jsonText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export interface NormalizedDelivery {
  destination: string;
  patientKey: string | null;
  payload: string | null;
  status: 'pending' | 'withheld';
  withheldReason: string | null;
  nextAttemptAt: Date | null;
  routeId: string | null;
  partnerId: string | null;
}

export function normalizeDelivery(input: DeliveryInput): NormalizedDelivery {
  if (typeof input.destination !== 'string' || input.destination === '') {
    throw new StoreInputError('delivery destination is required');
  }
  const status = input.status ?? 'pending';
  if (status !== 'pending' && status !== 'withheld') {
    throw new StoreInputError(`a new delivery is pending or withheld, got ${String(status)}`);
  }
  return {
    destination: input.destination,
    patientKey: input.patientKey ?? null,
    payload: jsonText(input.payload),
    status,
    withheldReason: input.withheldReason ?? null,
    nextAttemptAt: input.nextAttemptAt ?? null,
    routeId: input.routeId ?? null,
    partnerId: input.partnerId ?? null,
  };
}

export function validateAttempt(attempt: AttemptInput): void {
  if (!ATTEMPT_OUTCOMES.includes(attempt.outcome)) {
    throw new StoreInputError(`unknown attempt outcome: ${String(attempt.outcome)}`);
  }
  if (!(attempt.startedAt instanceof Date) || Number.isNaN(attempt.startedAt.getTime())) {
    throw new StoreInputError('attempt startedAt must be a valid Date');
  }
}

export interface NormalizedCompletion {
  messageId: string;
  status: 'processed' | 'filtered' | 'failed';
  statusReason: string | null;
  fhir: string | null;
  identifiers: PatientIdentifier[];
  deliveries: NormalizedDelivery[];
}

export function normalizeCompletion(item: CompletionItem): NormalizedCompletion {
  if (typeof item.messageId !== 'string' || item.messageId === '') {
    throw new StoreInputError('messageId is required');
  }
  const { outcome } = item;
  // Without this check a status of `received` would pass the CHECK constraint and undo processing.
  if (outcome.status !== 'processed' && outcome.status !== 'filtered' && outcome.status !== 'failed') {
    throw new StoreInputError(`processing ends processed, filtered or failed, got ${String(outcome.status)}`);
  }
  if (outcome.status === 'filtered' && outcome.deliveries?.length) throw new StoreInputError('a filtered message has no deliveries');
  return {
    messageId: item.messageId,
    status: outcome.status,
    statusReason: outcome.statusReason ?? null,
    fhir: jsonText(outcome.fhir),
    identifiers: normalizeIdentifiers(outcome.identifiers),
    deliveries: (outcome.deliveries ?? []).map(normalizeDelivery),
  };
}

export interface NormalizedAttempt {
  startedAt: Date;
  durationMs: number;
  outcome: AttemptInput['outcome'];
  httpStatus: number | null;
  ackCode: string | null;
  error: string | null;
}

export function normalizeAttempt(attempt: AttemptInput): NormalizedAttempt {
  validateAttempt(attempt);
  return {
    startedAt: attempt.startedAt,
    durationMs: Math.max(0, Math.round(attempt.durationMs)),
    outcome: attempt.outcome,
    httpStatus: attempt.httpStatus ?? null,
    ackCode: attempt.ackCode ?? null,
    error: attempt.error ?? null,
  };
}

/** A delivery result with the target status spelled as stored and every field resolved. */
export interface NormalizedDeliveryResult {
  deliveryId: string;
  attempt: NormalizedAttempt;
  status: 'delivered' | 'failed-retrying' | 'dead';
  /** Set for failed-retrying only (delivered and dead clear it). */
  nextAttemptAt: Date | null;
  /** Written for failed-retrying and dead; delivered leaves last_error alone. */
  lastError: string | null;
  /** Set for delivered only. */
  deliveredAt: Date | null;
}

function isValidDate(value: unknown): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

export function normalizeDeliveryResult(input: DeliveryResultInput, now: Date): NormalizedDeliveryResult {
  if (typeof input.deliveryId !== 'string' || input.deliveryId === '') {
    throw new StoreInputError('deliveryId is required');
  }
  const attempt = normalizeAttempt(input.attempt);
  const lastError = input.error ?? attempt.error;
  switch (input.next) {
    case 'delivered':
      if (input.deliveredAt !== undefined && !isValidDate(input.deliveredAt)) {
        throw new StoreInputError('deliveredAt must be a valid Date');
      }
      return {
        deliveryId: input.deliveryId,
        attempt,
        status: 'delivered',
        nextAttemptAt: null,
        lastError: null,
        deliveredAt: input.deliveredAt ?? now,
      };
    case 'retrying':
      if (!isValidDate(input.nextAttemptAt)) throw new StoreInputError('retrying needs a valid nextAttemptAt');
      return {
        deliveryId: input.deliveryId,
        attempt,
        status: 'failed-retrying',
        nextAttemptAt: input.nextAttemptAt,
        lastError,
        deliveredAt: null,
      };
    case 'dead':
      return { deliveryId: input.deliveryId, attempt, status: 'dead', nextAttemptAt: null, lastError, deliveredAt: null };
    default:
      throw new StoreInputError(`next must be delivered, retrying or dead, got ${String(input.next)}`);
  }
}

/**
 * Normalizes every item of a batch before anything is written; a bad item rejects the whole call,
 * and the error names its position so the caller can find it.
 */
export function normalizeAll<I, O>(items: readonly I[], normalize: (item: I) => O): O[] {
  return items.map((item, index) => {
    try {
      return normalize(item);
    } catch (err) {
      if (err instanceof StoreInputError) throw new StoreInputError(`item ${index}: ${err.message}`);
      throw err;
    }
  });
}

/** `ADT^A01` -> type ADT, event A01; `A01` -> event only. */
export function splitEvent(event: string): { messageType?: string; triggerEvent: string } {
  const caret = event.indexOf('^');
  if (caret < 0) return { triggerEvent: event };
  return { messageType: event.slice(0, caret), triggerEvent: event.slice(caret + 1) };
}

export function replayDedupeKey(newId: string): string {
  return `replay:${newId}`;
}
