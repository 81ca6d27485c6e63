import type { Logger } from 'pino';
import type { CarePlanService } from '../careplan/service.js';
import type { GatewayConfig } from '../config/types.js';
import type { CarebridgeMetrics, QueueDepth } from '../observability/metrics.js';
import type { RosterStore } from '../roster/store-types.js';
import type { MessageStore } from '../store/types.js';

export type IngestOutcome = 'accepted' | 'duplicate' | 'rejected' | 'unavailable';

export interface Hl7IngestMeta {
  /** The configured HTTP source id. */
  sourceName: string;
  /** The source's partner, or the partner of the API key that posted. */
  partnerId?: string;
  remoteAddress?: string;
}

export interface FhirIngestMeta {
  sourceName: string;
  partnerId?: string;
}

export interface Hl7IngestResult {
  /** HL7 ACK text to answer with; empty when the sender asked for none (enhanced mode NE/ER/SU). */
  ack: string;
  outcome: IngestOutcome;
  messageIds: string[];
  httpStatus: number;
}

export interface FhirIngestResult {
  outcome: IngestOutcome;
  messageId?: string;
  httpStatus: number;
  /** Why it was rejected, for people; no PHI. */
  issues?: string[];
}

/**
 * What the API needs from the ingest pipeline (inbox, router, outbox). The gateway wires the real
 * one; tests pass a fake.
 */
export interface IngestPort {
  /** Persists then answers: ack = HL7 ACK text (AA/AE/AR or CA/CE/CR per MSH-15/16), httpStatus 200 for accepted/
   *  duplicate, 400 for rejected (still stored), 503 when the store is unavailable (nothing stored, no ACK). */
  receiveHl7(body: Buffer, meta: Hl7IngestMeta): Promise<Hl7IngestResult>;
  /** A FHIR Bundle or resource: persisted and routed; returns an OperationOutcome-compatible result. */
  receiveFhir(resource: unknown, meta: FhirIngestMeta): Promise<FhirIngestResult>;
  /** Throws the store's NotFoundError for an unknown message. */
  replay(messageId: string, actor: string): Promise<{ id: string; replayOf: string }>;
  /** Dead letters back to pending and enqueued again; returns the requeued delivery ids. */
  requeueDead(target: { deliveryId: string } | { destination: string }, actor: string): Promise<string[]>;
  /** True when Redis answers (for /ready), and queue depth per destination (for /metrics). */
  redisUp(): Promise<boolean>;
  queueDepths(): Promise<Record<string, QueueDepth>>;
}

export interface ApiDeps {
  config: GatewayConfig;
  store: MessageStore;
  ingest: IngestPort;
  log: Logger;
  metrics: CarebridgeMetrics;
  /** File-arrival status of the SFTP sources; without it /api/sources/files is not registered. */
  sftpStatus?: () => import('../sources/sftp/types.js').SftpSourceStatus[];
  /** The attribution roster; without it the /api/roster routes are not registered. */
  roster?: RosterStore;
  /** Shown in the OpenAPI document; default: package.json's version. */
  version?: string;
  /** /ready waits this long for the store and Redis before calling them down. Default 2000. */
  readyTimeoutMs?: number;
  /** Member-file uploads; absent: POST /api/roster/imports is not registered. */
  memberUploads?: import('./routes/roster-imports.js').MemberUploads;
  /** Care plans (issue 5); absent: the /api/careplans routes are not registered. */
  careplans?: CarePlanService;
  /** The built console's folder (default dist/web); tests point it elsewhere. */
  consoleRoot?: string;
  /** How often the console's traffic charts sample the counters. Default 10 s. */
  trafficIntervalMs?: number;
}

/** The API key a request was made with. */
export interface Principal {
  /** The configured key id: the actor in audit events. */
  keyId: string;
  /** `["*"]` keys see every partner (admins and operators). */
  admin: boolean;
  /** admin: everything; operator: sees everything, replays and requeues, never acts for a partner; partner: its partners only. */
  role: 'admin' | 'operator' | 'partner';
  /** Partner ids a non-admin key may see (empty for admin keys: they see all). */
  partners: readonly string[];
}
