import { decodeCursor, encodeCursor } from './cursor.js';
import {
  DELIVERY_COLUMNS,
  attemptFromRow,
  deliveryFromRow,
  messageSummaryFromRow,
  receiptFromRow,
  strOrNull,
  toDate,
  zeroCounts,
  type Row,
} from './rows.js';
import {
  DELIVERY_STATUSES,
  type AuditInput,
  type DeliveryRecord,
  type DeliveryStatus,
  type MessageDetail,
  type MessageRaw,
  type MessageStatus,
  type Page,
  type StoreStats,
  type UnfinishedItem,
} from './types.js';

// What the SQLite and Postgres stores do the same way once their rows are read: paging, the
// listUnfinished cursor, shaping results, audit details. SQL stays in each backend (placeholders,
// types and locking differ), so both answer alike by construction rather than by copy.

/** `a, b` with alias `m` -> `m.a, m.b`, for a column list used in a join. */
export function prefixed(columns: string, alias: string): string {
  return columns
    .split(',')
    .map((c) => `${alias}.${c.trim()}`)
    .join(', ');
}

// listUnfinished walks two phases: received messages by id, then unfinished deliveries by seq.
// Its cursor says which phase to resume and after which key: ['m', id, 0] or ['d', '', seq].

export interface UnfinishedStart {
  phase: 'm' | 'd';
  afterId: string;
  afterSeq: number;
}

export function unfinishedStart(afterCursor: string | null | undefined): UnfinishedStart {
  if (!afterCursor) return { phase: 'm', afterId: '', afterSeq: 0 };
  const [p, afterId, afterSeq] = decodeCursor<[string, string, number]>(afterCursor, ['string', 'string', 'number']);
  return { phase: p === 'd' ? 'd' : 'm', afterId, afterSeq };
}

/** The messages phase (LIMIT size): a full page ends here, and the next one resumes after its last id. */
export function unfinishedMessagesPage(rows: Row[], size: number): Page<UnfinishedItem> {
  const items: UnfinishedItem[] = rows.map((r) => ({ kind: 'message', id: String(r.id), receivedAt: toDate(r.received_at) }));
  return { items, next: rows.length === size ? encodeCursor(['m', String(rows[rows.length - 1].id), 0]) : null };
}

/**
 * What the sweep reads of an unfinished delivery: every column but the payload. A page of 500
 * Bundles is ~5 MB the sweep would hold across a Redis round trip per item, long enough for the
 * young GC to promote it.
 */
export const UNFINISHED_DELIVERY_COLUMNS = DELIVERY_COLUMNS.split(', ')
  .filter((c) => c !== 'payload')
  .join(', ');

/** The deliveries phase fills the `remaining` places the messages phase left (LIMIT remaining). */
export function unfinishedDeliveriesPage(items: UnfinishedItem[], rows: Row[], remaining: number): Page<UnfinishedItem> {
  for (const r of rows) items.push(unfinishedDelivery(deliveryFromRow(r)));
  const next = rows.length === remaining ? encodeCursor(['d', '', Number(rows[rows.length - 1].seq)]) : null;
  return { items, next };
}

function unfinishedDelivery(d: DeliveryRecord): UnfinishedItem {
  return {
    kind: 'delivery',
    id: d.id,
    messageId: d.messageId,
    destination: d.destination,
    patientKey: d.patientKey,
    seq: d.seq,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.nextAttemptAt,
    updatedAt: d.updatedAt,
  };
}

export interface MessageDetailRows {
  identifiers: Row[];
  receipts: Row[];
  deliveries: Row[];
  attempts: Row[];
  replays: Row[];
}

/** A message row (summary columns, raw, fhir) and its children, read in one snapshot. */
export function messageDetailFromRows(row: Row, children: MessageDetailRows): MessageDetail {
  const attemptLog = children.attempts.map((r) => attemptFromRow(r));
  return {
    ...messageSummaryFromRow(row),
    raw: row.raw as Buffer,
    fhir: row.fhir === null ? null : String(row.fhir),
    identifiers: children.identifiers.map((r) => ({ system: String(r.system), value: String(r.value) })),
    receipts: children.receipts.map((r) => receiptFromRow(r)),
    deliveries: children.deliveries.map((r) => {
      const d = deliveryFromRow(r);
      return { ...d, attemptLog: attemptLog.filter((a) => a.deliveryId === d.id) };
    }),
    replays: children.replays.map((r) => messageSummaryFromRow(r)),
  };
}

export function messageRawFromRow(row: Row): MessageRaw {
  return {
    raw: row.raw as Buffer,
    sourceKind: row.source_kind as MessageRaw['sourceKind'],
    sourceName: String(row.source_name),
    partnerId: strOrNull(row.partner_id),
    receivedAt: toDate(row.received_at),
    status: row.status as MessageStatus,
    replayOf: strOrNull(row.replay_of),
  };
}

/** Delivery counts per status, dead and pending (pending + failed-retrying) per destination, from (destination, status, n) rows. */
export function deliveryTallies(rows: Row[]): Pick<StoreStats, 'deliveriesByStatus' | 'deadByDestination' | 'pendingByDestination'> {
  const deliveriesByStatus = zeroCounts(DELIVERY_STATUSES);
  const deadByDestination: Record<string, number> = {};
  const pendingByDestination: Record<string, number> = {};
  for (const r of rows) {
    const status = r.status as DeliveryStatus;
    const destination = String(r.destination);
    const n = Number(r.n);
    deliveriesByStatus[status] += n;
    if (status === 'dead') deadByDestination[destination] = (deadByDestination[destination] ?? 0) + n;
    if (status === 'pending' || status === 'failed-retrying') {
      pendingByDestination[destination] = (pendingByDestination[destination] ?? 0) + n;
    }
  }
  return { deliveriesByStatus, deadByDestination, pendingByDestination };
}

/** The audit event of a dead-letter requeue: one delivery by id, or a whole destination. */
export function requeueAuditEvent(actor: string, target: string | { destination: string }, count: number): AuditInput {
  return {
    actor,
    action: 'delivery.requeue',
    subjectType: typeof target === 'string' ? 'delivery' : 'destination',
    subjectId: typeof target === 'string' ? target : target.destination,
    detail: { count },
  };
}
