// The message store: the gateway's source of truth. Redis only schedules work; everything that was
// acknowledged lives here first. One implementation (sql-store.ts) runs on SQLite and Postgres and
// passes the same contract test suite on each (tests/integration/store/contract.ts).

import type { Page } from './paging.js';

export type SourceKind = 'mllp' | 'http' | 'sftp' | 'api' | 'replay';
/**
 * `filtered`: accepted and kept, but nothing to send (no adapter converts it, no route takes it, the
 * member is not on the roster); `status_reason` says which. Never NACKed for that.
 */
export type MessageStatus = 'received' | 'processed' | 'filtered' | 'rejected' | 'failed';
export type DeliveryStatus = 'pending' | 'delivered' | 'failed-retrying' | 'dead' | 'withheld' | 'cancelled';
export type AttemptOutcome = 'success' | 'retryable-error' | 'fatal-error';

export const SOURCE_KINDS: readonly SourceKind[] = ['mllp', 'http', 'sftp', 'api', 'replay'];
export const MESSAGE_STATUSES: readonly MessageStatus[] = ['received', 'processed', 'filtered', 'rejected', 'failed'];
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'failed-retrying', 'dead', 'withheld', 'cancelled'];
export const ATTEMPT_OUTCOMES: readonly AttemptOutcome[] = ['success', 'retryable-error', 'fatal-error'];

export interface PatientIdentifier {
  system: string;
  value: string;
}

/** One received payload, as the inbox hands it over before acknowledging. */
export interface InboundInput {
  /** Defaults to now. */
  receivedAt?: Date;
  sourceKind: SourceKind;
  /** Configured source name (listener id, SFTP source id, ...). */
  sourceName: string;
  partnerId?: string | null;
  /** MSH-3^MSH-4 (or the file's partner for files). */
  sender?: string | null;
  /** MSH-10. */
  controlId?: string | null;
  /** MSH-9.1, e.g. ADT. */
  messageType?: string | null;
  /** MSH-9.2, e.g. A01. */
  triggerEvent?: string | null;
  /** MSH-12. */
  version?: string | null;
  /** Unique across the store: a second receive of the same key is a duplicate. */
  dedupeKey: string;
  /** Hex SHA-256 of `raw` when omitted. */
  contentHash?: string;
  /** The exact bytes received. */
  raw: Uint8Array;
  /** `rejected` stores bad input with its reason (it was NACKed, not lost). Default `received`. */
  status?: 'received' | 'rejected';
  statusReason?: string | null;
  /** Patient identifiers already known at receive time (searchable even before processing). */
  identifiers?: PatientIdentifier[];
}

export interface InboundResult {
  /** The stored message id; for a duplicate, the id of the first receive. */
  id: string;
  duplicate: boolean;
  /** Current status of the stored message (for a duplicate: the original's status). */
  status: MessageStatus;
  receiptId: string;
}

export interface DeliveryInput {
  destination: string;
  /** Key for per-patient ordering at this destination (e.g. the deterministic Patient id). */
  patientKey?: string | null;
  /** What will be sent: a string is stored verbatim, anything else JSON-encoded. */
  payload?: unknown;
  /** `withheld` records a decision not to send (consent/sensitivity), with the reason. Default `pending`. */
  status?: 'pending' | 'withheld';
  withheldReason?: string | null;
  /** The route rule that decided this delivery (routing explained in the message detail). */
  routeId?: string | null;
  /** The partner it is for (an attributed CP/ACO, or the destination's owner), when known. */
  partnerId?: string | null;
  nextAttemptAt?: Date | null;
}

export interface ProcessingOutcome {
  /** `filtered` carries its reason in statusReason and no deliveries. */
  status: 'processed' | 'filtered' | 'failed';
  statusReason?: string | null;
  /** The produced FHIR Bundle: a string is stored verbatim, anything else JSON-encoded. */
  fhir?: unknown;
  identifiers?: PatientIdentifier[];
  deliveries?: DeliveryInput[];
}

export interface CompleteResult {
  /** False when the message had already left `received` (another worker finished it): nothing was written. */
  applied: boolean;
  status: MessageStatus;
  /** The deliveries created, in input order (empty when not applied). */
  deliveries: DeliveryRecord[];
}

/** One message of a `completeProcessingBatch` call. */
export interface CompletionItem {
  messageId: string;
  outcome: ProcessingOutcome;
}

/**
 * Per-item result of `completeProcessingBatch`. An unknown message id is a result, not an error, so
 * one caller's stale id cannot fail the other callers' work committed in the same transaction.
 */
export type CompletionItemResult = { ok: true; result: CompleteResult } | { ok: false; error: 'not-found' };

export interface AttemptInput {
  startedAt: Date;
  durationMs: number;
  outcome: AttemptOutcome;
  httpStatus?: number | null;
  ackCode?: string | null;
  /** Already redacted by the caller: no PHI. */
  error?: string | null;
}

/**
 * One delivery attempt and the status transition it leads to, for `recordDeliveryResults`.
 * The transition is guarded exactly like the mark* calls: only from pending or failed-retrying.
 */
export interface DeliveryResultInput {
  deliveryId: string;
  attempt: AttemptInput;
  next: 'delivered' | 'retrying' | 'dead';
  /** Required for `retrying`; ignored otherwise. */
  nextAttemptAt?: Date;
  /** Becomes last_error for `retrying` and `dead` (default: the attempt's error). Already redacted: no PHI. */
  error?: string;
  /** For `delivered`; defaults to now. */
  deliveredAt?: Date;
}

export interface MessageSummary {
  id: string;
  receivedAt: Date;
  sourceKind: SourceKind;
  sourceName: string;
  partnerId: string | null;
  sender: string | null;
  controlId: string | null;
  messageType: string | null;
  triggerEvent: string | null;
  version: string | null;
  dedupeKey: string;
  contentHash: string;
  status: MessageStatus;
  statusReason: string | null;
  duplicateCount: number;
  replayOf: string | null;
  updatedAt: Date;
}

/** What re-processing needs: the exact bytes and where they came from, without the lineage. */
export interface MessageRaw {
  raw: Buffer;
  sourceKind: SourceKind;
  sourceName: string;
  partnerId: string | null;
  receivedAt: Date;
  status: MessageStatus;
  /** The message this one replays (an operator replay), or null. */
  replayOf: string | null;
}

export interface MessageRecord extends MessageSummary {
  raw: Buffer;
  /** JSON text of the produced Bundle. */
  fhir: string | null;
  identifiers: PatientIdentifier[];
}

export interface ReceiptRecord {
  id: string;
  messageId: string;
  receivedAt: Date;
  duplicate: boolean;
  sourceKind: SourceKind;
  sourceName: string;
}

export interface DeliveryRecord {
  id: string;
  /** Monotonic per store; orders deliveries of one patient at one destination. */
  seq: number;
  messageId: string;
  destination: string;
  patientKey: string | null;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date | null;
  lastError: string | null;
  /** JSON text (or the verbatim string given). */
  payload: string | null;
  withheldReason: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
  updatedAt: Date;
  /** Null for deliveries recorded before migration 3 or decided outside the route table (care plans, roster notices). */
  routeId: string | null;
  partnerId: string | null;
}

export interface AttemptRecord {
  id: string;
  deliveryId: string;
  startedAt: Date;
  durationMs: number;
  outcome: AttemptOutcome;
  httpStatus: number | null;
  ackCode: string | null;
  error: string | null;
}

/** A message with its lineage: raw -> FHIR -> each delivery and attempt, receipts, replays. */
export interface MessageDetail extends MessageRecord {
  /** The most recent receipts (at most RECEIPTS_IN_DETAIL); `duplicateCount` has the full count. */
  receipts: ReceiptRecord[];
  /** `attempts` is the count; `attemptLog` the recorded attempts, oldest first. */
  deliveries: Array<DeliveryRecord & { attemptLog: AttemptRecord[] }>;
  /** Messages created by replaying this one. */
  replays: MessageSummary[];
}

export type { Page };

export interface MessageQuery {
  controlId?: string;
  /** Patient identifier; without a system, any system matches. */
  identifier?: { system?: string; value: string };
  sender?: string;
  /** Trigger event (A01); `ADT^A01` also matches the message type. */
  event?: string;
  messageType?: string;
  status?: MessageStatus;
  partner?: string;
  /** received_at >= from */
  from?: Date;
  /** received_at < to */
  to?: Date;
  /** Default 50, max 1000. */
  limit?: number;
  cursor?: string | null;
  /** API-key scope: only messages of these partners (an empty list sees nothing). */
  partners?: readonly string[];
}

export interface DeliveryQuery {
  destination?: string;
  status?: DeliveryStatus;
  messageId?: string;
  /** Highest seq first (a partner's worklist); default oldest first. */
  newestFirst?: boolean;
  limit?: number;
  cursor?: string | null;
}

export type UnfinishedItem =
  | { kind: 'message'; id: string; receivedAt: Date }
  | {
      kind: 'delivery';
      id: string;
      messageId: string;
      destination: string;
      patientKey: string | null;
      seq: number;
      status: DeliveryStatus;
      attempts: number;
      nextAttemptAt: Date | null;
      /** Last written (created, attempted, requeued): the periodic sweep leaves recently touched deliveries to the queue. */
      updatedAt: Date;
    };

export interface AuditInput {
  at?: Date;
  /** API key id, or `system`. */
  actor: string;
  action: string;
  subjectType: string;
  subjectId?: string | null;
  /** JSON-encoded; keep PHI out. */
  detail?: unknown;
}

export interface AuditRecord {
  id: string;
  at: Date;
  actor: string;
  action: string;
  subjectType: string;
  subjectId: string | null;
  detail: unknown;
}

export interface AuditQuery {
  subjectType?: string;
  subjectId?: string;
  limit?: number;
  cursor?: string | null;
}

export interface StoreStats {
  messagesByStatus: Record<MessageStatus, number>;
  /** Total duplicate receipts recorded. */
  duplicates: number;
  deliveriesByStatus: Record<DeliveryStatus, number>;
  deadByDestination: Record<string, number>;
  /** pending + failed-retrying, per destination. */
  pendingByDestination: Record<string, number>;
}

export interface PruneOptions {
  /** Finished messages received before this instant are deleted with their children. */
  olderThan: Date;
  /** Also delete `failed` messages (processing gave up). Default false: they wait for a replay. */
  includeFailed?: boolean;
}

export interface PruneResult {
  messages: number;
}

/** Who asked, for the audit trail written in the same transaction. */
export interface ActorOptions {
  actor?: string;
}

export interface MessageStore {
  readonly kind: 'sqlite' | 'postgres';

  /**
   * Group commit: stores every message of the batch in ONE transaction and resolves only once it is
   * durable, so the caller may then ACK them all. A known dedupe key (from earlier, or earlier in the
   * same batch) records a duplicate receipt and increments the original's duplicate count.
   * Results are in input order.
   */
  acceptInbound(batch: readonly InboundInput[]): Promise<InboundResult[]>;

  /** One transaction: FHIR output, identifiers, deliveries, status. Only from `received`. */
  completeProcessing(messageId: string, outcome: ProcessingOutcome): Promise<CompleteResult>;

  /**
   * Group commit for processing: every item as `completeProcessing` would apply it, all in ONE
   * transaction; results in input order. A message already out of `received` (or completed earlier
   * in the same batch) gets `applied: false`; an unknown id gets `{ ok: false, error: 'not-found' }`
   * without failing the others. Invalid input (StoreInputError) rejects the whole call before
   * anything is written. Deliveries get seq in input order, and per-patient ordering holds across
   * concurrent batches and processes.
   */
  completeProcessingBatch(items: readonly CompletionItem[]): Promise<CompletionItemResult[]>;

  /** Appends an attempt and increments the delivery's attempt count. Returns the attempt id. */
  recordAttempt(deliveryId: string, attempt: AttemptInput): Promise<string>;
  /**
   * Group commit for delivery workers: for each item, records the attempt (bumping `attempts`) and
   * applies the guarded transition, all in ONE transaction. Returns, in input order, whether each
   * transition was applied: false when the delivery was no longer pending/retrying (the attempt is
   * still recorded: it happened) and false for an unknown id (nothing recorded). Items for the same
   * delivery apply in input order. Invalid input (StoreInputError) rejects the whole call first.
   */
  recordDeliveryResults(items: readonly DeliveryResultInput[]): Promise<boolean[]>;
  /** The mark* calls return false when the delivery was not in a state allowing the transition. */
  markDelivered(deliveryId: string, at?: Date): Promise<boolean>;
  markRetrying(deliveryId: string, nextAttemptAt: Date, error: string): Promise<boolean>;
  markDead(deliveryId: string, error: string): Promise<boolean>;
  markCancelled(deliveryId: string, reason: string, options?: ActorOptions): Promise<boolean>;
  /** dead -> pending, for one delivery or all of a destination. Returns the requeued ids. */
  requeueDead(target: string | { destination: string }, options?: ActorOptions): Promise<string[]>;

  /** Per-patient ordering: is a delivery with a smaller seq for this destination+patient still pending/retrying? */
  hasEarlierUndelivered(destination: string, patientKey: string, seq: number): Promise<boolean>;

  /**
   * Work to re-enqueue after a restart: messages still `received`, then deliveries pending or
   * retrying. Paged so a large backlog is never loaded at once.
   */
  listUnfinished(limit: number, afterCursor?: string | null): Promise<Page<UnfinishedItem>>;

  /** Newest first. */
  searchMessages(query: MessageQuery): Promise<Page<MessageSummary>>;
  getMessage(id: string): Promise<MessageDetail | null>;
  /** The raw bytes and their origin only: a cheap read for re-processing. */
  getMessageRaw(id: string): Promise<MessageRaw | null>;
  /** Ordered by seq. */
  listDeliveries(query: DeliveryQuery): Promise<Page<DeliveryRecord>>;
  getDelivery(id: string): Promise<DeliveryRecord | null>;

  /** A new `received` message with the same raw bytes, linked by replay_of, with a new dedupe key. */
  createReplay(originalId: string, options?: ActorOptions): Promise<{ id: string; replayOf: string }>;

  recordAudit(event: AuditInput): Promise<string>;
  /** Newest first. */
  listAudit(query: AuditQuery): Promise<Page<AuditRecord>>;

  stats(): Promise<StoreStats>;
  /** Retention: never deletes unfinished work. */
  prune(options: PruneOptions): Promise<PruneResult>;

  /** Throws when the store is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
