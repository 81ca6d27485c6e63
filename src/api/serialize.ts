// Store records -> JSON bodies. Explicit (not a spread) so a column added to the store is not
// published by accident.
import type { AttemptRecord, DeliveryRecord, MessageDetail, MessageSummary } from '../store/types.js';

const iso = (d: Date) => d.toISOString();
const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null);

export function messageSummaryJson(m: MessageSummary) {
  return {
    id: m.id,
    receivedAt: iso(m.receivedAt),
    sourceKind: m.sourceKind,
    sourceName: m.sourceName,
    partnerId: m.partnerId,
    sender: m.sender,
    controlId: m.controlId,
    messageType: m.messageType,
    triggerEvent: m.triggerEvent,
    version: m.version,
    contentHash: m.contentHash,
    status: m.status,
    statusReason: m.statusReason,
    duplicateCount: m.duplicateCount,
    replayOf: m.replayOf,
    updatedAt: iso(m.updatedAt),
  };
}

export function deliverySummaryJson(d: DeliveryRecord) {
  return {
    id: d.id,
    seq: d.seq,
    messageId: d.messageId,
    destination: d.destination,
    patientKey: d.patientKey,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: isoOrNull(d.nextAttemptAt),
    lastError: d.lastError,
    withheldReason: d.withheldReason,
    routeId: d.routeId,
    partnerId: d.partnerId,
    createdAt: iso(d.createdAt),
    deliveredAt: isoOrNull(d.deliveredAt),
    updatedAt: iso(d.updatedAt),
  };
}

function attemptJson(a: AttemptRecord) {
  return {
    id: a.id,
    startedAt: iso(a.startedAt),
    durationMs: a.durationMs,
    outcome: a.outcome,
    httpStatus: a.httpStatus,
    ackCode: a.ackCode,
    error: a.error,
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Text when the bytes are valid UTF-8 (HL7 v2 and FHIR JSON almost always are), else lossless base64. */
export function rawJson(raw: Buffer): { raw: string; rawEncoding: 'utf-8' | 'base64' } {
  try {
    return { raw: utf8.decode(raw), rawEncoding: 'utf-8' };
  } catch {
    return { raw: raw.toString('base64'), rawEncoding: 'base64' };
  }
}

function parseFhir(text: string | null): object | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' ? value : null;
  } catch {
    return null;
  }
}

/** The lineage view: raw -> FHIR -> each delivery with its attempts, receipts, replays. */
export function messageDetailJson(m: MessageDetail) {
  return {
    ...messageSummaryJson(m),
    ...rawJson(m.raw),
    fhir: parseFhir(m.fhir),
    identifiers: m.identifiers.map((i) => ({ system: i.system, value: i.value })),
    receipts: m.receipts.map((r) => ({
      id: r.id,
      receivedAt: iso(r.receivedAt),
      duplicate: r.duplicate,
      sourceKind: r.sourceKind,
      sourceName: r.sourceName,
    })),
    deliveries: m.deliveries.map((d) => ({
      ...deliverySummaryJson(d),
      payload: d.payload,
      attemptLog: d.attemptLog.map(attemptJson),
    })),
    replays: m.replays.map(messageSummaryJson),
    routing: routingJson(m),
  };
}

/** The routing decision, read back from the deliveries (each keeps its route and partner) and the reason. */
function routingJson(m: MessageDetail) {
  if (m.status === 'received' || m.status === 'rejected' || m.status === 'failed') return null;
  const distinct = (values: (string | null)[]) => [...new Set(values.filter((v): v is string => v !== null))];
  return {
    reason: m.statusReason,
    routes: distinct(m.deliveries.map((d) => d.routeId)),
    partners: distinct(m.deliveries.map((d) => d.partnerId)),
    destinations: m.deliveries.filter((d) => d.status !== 'withheld').map((d) => d.destination),
    withheld: m.deliveries
      .filter((d) => d.status === 'withheld')
      .map((d) => ({ destination: d.destination, routeId: d.routeId, partnerId: d.partnerId, reason: d.withheldReason })),
  };
}
