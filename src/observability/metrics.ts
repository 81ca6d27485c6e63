/**
 * Prometheus metrics for the gateway. One registry per gateway (not prom-client's global one), so
 * tests and several gateways in one process never share series. Labels carry configured ids only
 * (source, destination, outcome kinds): bounded cardinality and no PHI.
 *
 * The pipeline increments the exported counters and histograms; the gauges are filled at scrape
 * time from whatever `observe()` was given (queue depths from Redis, dead letters from the store).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { StoreStats } from '../store/types.js';

export interface QueueDepth {
  waiting: number;
  delayed: number;
  active: number;
  failed: number;
}

/** Read at scrape time; either may be absent (e.g. a CLI process without queues). */
export interface ScrapeSources {
  queueDepths?: () => Promise<Record<string, QueueDepth>>;
  storeStats?: () => Promise<StoreStats>;
}

export interface CreateMetricsOptions {
  /** Node process metrics (CPU, memory, event loop lag, GC). Default true. */
  defaultMetrics?: boolean;
  /** A scrape source slower than this is left out of that scrape rather than hanging it. Default 2000. */
  scrapeTimeoutMs?: number;
}

export interface CarebridgeMetrics {
  readonly registry: Registry;
  /** Every received message, by outcome: accepted | duplicate | rejected | unavailable. */
  readonly messagesReceived: Counter<'source' | 'outcome'>;
  /** reason_kind is a short code (parse, validation, unsupported-event, ...), never the reason text. */
  readonly messagesRejected: Counter<'source' | 'reason_kind'>;
  /** Accepted but nothing to send; reason: no-converter | no-route | unmatched | no-destination. */
  readonly messagesFiltered: Counter<'source' | 'reason'>;
  readonly duplicates: Counter<'source'>;
  /** outcome: success | retryable-error | fatal-error. */
  readonly deliveryAttempts: Counter<'destination' | 'outcome'>;
  readonly deadLetters: Counter<'destination'>;
  /** Files taken from SFTP sources, by source, partner and result (applied, duplicate, failed, ...). */
  readonly sftpFiles: Counter<'source' | 'partner' | 'result'>;
  /** Failed polls of SFTP sources (unreachable, refused, listing failed). */
  readonly sftpPollFailures: Counter<'source' | 'partner'>;
  /** Missed expected-daily-file deadlines, by source and partner. */
  readonly sftpMissingDaily: Counter<'source' | 'partner'>;
  /** MLLP connections closed, by source and reason (peer-closed, idle-timeout, frame-timeout, ...). */
  readonly mllpConnectionsClosed: Counter<'source' | 'reason'>;
  /** MLLP connections refused at accept, by source and reason (max-connections, max-connections-per-address, tls-handshake). */
  readonly mllpConnectionsRejected: Counter<'source' | 'reason'>;
  /** From receipt to confirmed delivery. */
  readonly deliveryLatency: Histogram<'destination'>;
  /** From the first byte received to the ACK sent. */
  readonly ackLatency: Histogram<'source'>;
  /** Queue depth per destination and BullMQ state, collected on scrape. */
  readonly queueDepth: Gauge<'destination' | 'state'>;
  /** Dead letters currently stored per destination (requeued ones leave), collected on scrape. */
  readonly deadLettersStored: Gauge<'destination'>;
  /** Pending + retrying deliveries stored per destination, collected on scrape. */
  readonly deliveriesPending: Gauge<'destination'>;
  /** 1 when the last scrape could read queue depths from Redis. */
  readonly queueUp: Gauge;
  /** Sets (or replaces) what the gauges read at scrape time. */
  observe(sources: ScrapeSources): void;
  /** Prometheus text exposition. */
  metrics(): Promise<string>;
  readonly contentType: string;
}

// ACKs are a store commit away (ms); deliveries include partner round-trips and retries (s to h).
const ACK_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const DELIVERY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14_400];
const QUEUE_STATES = ['waiting', 'delayed', 'active', 'failed'] as const;

export function createMetrics(options: CreateMetricsOptions = {}): CarebridgeMetrics {
  const registry = new Registry();
  const timeoutMs = options.scrapeTimeoutMs ?? 2_000;
  let sources: ScrapeSources = {};
  // Several gauges read the same source in one scrape: share the in-flight call.
  const depths = shareInFlight(() => withTimeout(sources.queueDepths?.(), timeoutMs));
  const stats = shareInFlight(() => withTimeout(sources.storeStats?.(), timeoutMs));

  const queueUp = new Gauge({
    name: 'carebridge_queue_up',
    help: '1 when queue depths could be read from Redis at the last scrape, else 0',
    registers: [registry],
    async collect() {
      if (!sources.queueDepths) return this.reset();
      this.set((await depths().then(Boolean, () => false)) ? 1 : 0);
    },
  });

  const queueDepth = new Gauge({
    name: 'carebridge_queue_depth',
    help: 'Jobs in each destination queue by state (waiting, delayed, active, failed)',
    labelNames: ['destination', 'state'] as const,
    registers: [registry],
    async collect() {
      // Redis down: no series rather than stale ones; carebridge_queue_up says why.
      this.reset();
      const value = await depths().catch(() => undefined);
      for (const [destination, depth] of Object.entries(value ?? {})) {
        for (const state of QUEUE_STATES) this.set({ destination, state }, depth[state]);
      }
    },
  });

  const deadLettersStored = new Gauge({
    name: 'carebridge_dead_letters_stored',
    help: 'Deliveries in the dead-letter state in the message store, per destination',
    labelNames: ['destination'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const value = await stats().catch(() => undefined);
      for (const [destination, n] of Object.entries(value?.deadByDestination ?? {})) this.set({ destination }, n);
    },
  });

  const deliveriesPending = new Gauge({
    name: 'carebridge_deliveries_pending',
    help: 'Deliveries pending or retrying in the message store, per destination',
    labelNames: ['destination'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const value = await stats().catch(() => undefined);
      for (const [destination, n] of Object.entries(value?.pendingByDestination ?? {})) this.set({ destination }, n);
    },
  });

  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  return {
    registry,
    messagesReceived: new Counter({
      name: 'carebridge_messages_received_total',
      help: 'Messages received, by source and outcome (accepted, duplicate, rejected, unavailable)',
      labelNames: ['source', 'outcome'] as const,
      registers: [registry],
    }),
    messagesRejected: new Counter({
      name: 'carebridge_messages_rejected_total',
      help: 'Messages rejected (stored and NACKed), by source and kind of reason',
      labelNames: ['source', 'reason_kind'] as const,
      registers: [registry],
    }),
    messagesFiltered: new Counter({
      name: 'carebridge_messages_filtered_total',
      help: 'Messages accepted and stored as filtered (nothing to send), by source and kind of reason',
      labelNames: ['source', 'reason'] as const,
      registers: [registry],
    }),
    duplicates: new Counter({
      name: 'carebridge_duplicates_total',
      help: 'Duplicate receipts acknowledged and not processed again, by source',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    deliveryAttempts: new Counter({
      name: 'carebridge_delivery_attempts_total',
      help: 'Delivery attempts by destination and outcome (success, retryable-error, fatal-error)',
      labelNames: ['destination', 'outcome'] as const,
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'carebridge_dead_letters_total',
      help: 'Deliveries that gave up and became dead letters, by destination',
      labelNames: ['destination'] as const,
      registers: [registry],
    }),
    sftpFiles: new Counter({
      name: 'carebridge_sftp_files_total',
      help: 'Files taken from SFTP sources, by source, partner and result',
      labelNames: ['source', 'partner', 'result'] as const,
      registers: [registry],
    }),
    sftpPollFailures: new Counter({
      name: 'carebridge_sftp_poll_failures_total',
      help: 'SFTP polls that could not reach or list the server, by source and partner',
      labelNames: ['source', 'partner'] as const,
      registers: [registry],
    }),
    sftpMissingDaily: new Counter({
      name: 'carebridge_sftp_missing_daily_total',
      help: "Missed expected-daily-file deadlines (a partner's daily file did not arrive in time)",
      labelNames: ['source', 'partner'] as const,
      registers: [registry],
    }),
    mllpConnectionsClosed: new Counter({
      name: 'carebridge_mllp_connections_closed_total',
      help: 'MLLP connections closed, by source and reason (peer-closed, idle-timeout, frame-timeout, server-closing, ...)',
      labelNames: ['source', 'reason'] as const,
      registers: [registry],
    }),
    mllpConnectionsRejected: new Counter({
      name: 'carebridge_mllp_connections_rejected_total',
      help: 'MLLP connections refused at accept, by source and reason (max-connections, max-connections-per-address, tls-handshake)',
      labelNames: ['source', 'reason'] as const,
      registers: [registry],
    }),
    deliveryLatency: new Histogram({
      name: 'carebridge_delivery_latency_seconds',
      help: 'Time from receipt of a message to its confirmed delivery, by destination',
      labelNames: ['destination'] as const,
      buckets: DELIVERY_BUCKETS,
      registers: [registry],
    }),
    ackLatency: new Histogram({
      name: 'carebridge_ack_latency_seconds',
      help: 'Time from receiving a message to sending its acknowledgment, by source',
      labelNames: ['source'] as const,
      buckets: ACK_BUCKETS,
      registers: [registry],
    }),
    queueDepth,
    deadLettersStored,
    deliveriesPending,
    queueUp,
    observe(next: ScrapeSources): void {
      sources = { ...next };
    },
    metrics: () => registry.metrics(),
    get contentType() {
      return registry.contentType;
    },
  };
}

/** Calls made while one is in flight get the same promise. */
function shareInFlight<T>(fn: () => Promise<T>): () => Promise<T> {
  let current: Promise<T> | undefined;
  return () => {
    current ??= fn().finally(() => {
      current = undefined;
    });
    return current;
  };
}

/** Rejects when `promise` is absent or takes longer than `ms`. */
function withTimeout<T>(promise: Promise<T> | undefined, ms: number): Promise<T> {
  if (!promise) return Promise.reject(new Error('no source'));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('scrape source timed out')), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
