import type {
  AttemptOutcome,
  AttemptRecord,
  AuditRecord,
  DeliveryRecord,
  DeliveryStatus,
  MessageStatus,
  MessageSummary,
  ReceiptRecord,
  SourceKind,
} from './types.js';

// Row -> record mapping shared by both backends. The SQL of both selects the same snake_case
// columns; the differences are representation only: SQLite keeps times as epoch milliseconds and
// booleans as 0/1, pg returns Date, boolean, and BIGINT as a string.

export type Row = Record<string, unknown>;

export const SUMMARY_COLUMNS =
  'id, received_at, source_kind, source_name, partner_id, sender, control_id, message_type, ' +
  'trigger_event, version, dedupe_key, content_hash, status, status_reason, duplicate_count, ' +
  'replay_of, updated_at';

export const DELIVERY_COLUMNS =
  'id, seq, message_id, destination, patient_key, status, attempts, next_attempt_at, last_error, ' +
  'payload, withheld_reason, created_at, delivered_at, updated_at, route_id, partner_id';

export const ATTEMPT_COLUMNS = 'id, delivery_id, started_at, duration_ms, outcome, http_status, ack_code, error';

export function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'number' || typeof value === 'bigint') return new Date(Number(value));
  if (typeof value === 'string') return new Date(value);
  throw new TypeError('expected a timestamp column');
}

export function toDateOrNull(value: unknown): Date | null {
  return value === null || value === undefined ? null : toDate(value);
}

/** Epoch ms: how both schemas store times. */
export function ms(date: Date): number;
export function ms(date: Date | null): number | null;
export function ms(date: Date | null): number | null {
  return date === null ? null : date.getTime();
}

function str(value: unknown): string {
  return String(value);
}

export function strOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function num(value: unknown): number {
  return Number(value);
}

function numOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

export function messageSummaryFromRow(r: Row): MessageSummary {
  return {
    id: str(r.id),
    receivedAt: toDate(r.received_at),
    sourceKind: str(r.source_kind) as SourceKind,
    sourceName: str(r.source_name),
    partnerId: strOrNull(r.partner_id),
    sender: strOrNull(r.sender),
    controlId: strOrNull(r.control_id),
    messageType: strOrNull(r.message_type),
    triggerEvent: strOrNull(r.trigger_event),
    version: strOrNull(r.version),
    dedupeKey: str(r.dedupe_key),
    contentHash: str(r.content_hash),
    status: str(r.status) as MessageStatus,
    statusReason: strOrNull(r.status_reason),
    duplicateCount: num(r.duplicate_count),
    replayOf: strOrNull(r.replay_of),
    updatedAt: toDate(r.updated_at),
  };
}

export function deliveryFromRow(r: Row): DeliveryRecord {
  return {
    id: str(r.id),
    seq: num(r.seq),
    messageId: str(r.message_id),
    destination: str(r.destination),
    patientKey: strOrNull(r.patient_key),
    status: str(r.status) as DeliveryStatus,
    attempts: num(r.attempts),
    nextAttemptAt: toDateOrNull(r.next_attempt_at),
    lastError: strOrNull(r.last_error),
    payload: strOrNull(r.payload),
    withheldReason: strOrNull(r.withheld_reason),
    createdAt: toDate(r.created_at),
    deliveredAt: toDateOrNull(r.delivered_at),
    updatedAt: toDate(r.updated_at),
    routeId: strOrNull(r.route_id),
    partnerId: strOrNull(r.partner_id),
  };
}

export function attemptFromRow(r: Row): AttemptRecord {
  return {
    id: str(r.id),
    deliveryId: str(r.delivery_id),
    startedAt: toDate(r.started_at),
    durationMs: num(r.duration_ms),
    outcome: str(r.outcome) as AttemptOutcome,
    httpStatus: numOrNull(r.http_status),
    ackCode: strOrNull(r.ack_code),
    error: strOrNull(r.error),
  };
}

export function receiptFromRow(r: Row): ReceiptRecord {
  return {
    id: str(r.id),
    messageId: str(r.message_id),
    receivedAt: toDate(r.received_at),
    duplicate: Boolean(r.duplicate),
    sourceKind: str(r.source_kind) as SourceKind,
    sourceName: str(r.source_name),
  };
}

export function auditFromRow(r: Row): AuditRecord {
  let detail: unknown = null;
  if (typeof r.detail === 'string') {
    try {
      detail = JSON.parse(r.detail);
    } catch {
      detail = r.detail;
    }
  }
  return {
    id: str(r.id),
    at: toDate(r.at),
    actor: str(r.actor),
    action: str(r.action),
    subjectType: str(r.subject_type),
    subjectId: strOrNull(r.subject_id),
    detail,
  };
}

/** Zero-filled counters so metrics always expose every status. */
export function zeroCounts<K extends string>(keys: readonly K[]): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const k of keys) out[k] = 0;
  return out;
}
