import { readFileSync } from 'node:fs';
import type { DestinationConfig as ConfiguredDestination } from '../config/types.js';
import { MicroBatcher } from '../ingest/micro-batcher.js';
import { MllpClient } from '../mllp/client.js';
import type { Logger } from '../observability/log.js';
import type { AttemptOutcome, DeliveryResultInput, MessageStore } from '../store/types.js';
import { createDeliverer, type MllpSend } from './deliverers/index.js';
import { DeliveryQueues, type AttemptReport, type DeadLetterReport } from './queues.js';
import type { DeliveryJob, DeliveryOutcome, DestinationConfig } from './types.js';

export interface OutboxDeps {
  store: MessageStore;
  destinations: readonly ConfiguredDestination[];
  redisUrl: string;
  redisPrefix?: string;
  log: Logger;
  onAttempt?(job: DeliveryJob, report: AttemptReport): void;
  onDelivered?(job: DeliveryJob): void;
  onDead?(job: DeliveryJob, report: DeadLetterReport): void;
  /** Queue workers run in this process (default true); false: produce only. */
  consume?: boolean;
}

/**
 * The outbox: destination queues (BullMQ) wired to the message store. The store says what must
 * be sent and records every attempt; Redis only schedules. Attempt bookkeeping is group-committed
 * across concurrent workers.
 */
export class Outbox {
  readonly queues: DeliveryQueues;
  private readonly runtime = new Map<string, DestinationConfig>();
  private readonly mllpClients = new Map<string, MllpClient>();
  private readonly results: MicroBatcher<DeliveryResultInput, boolean>;
  private readonly redisRecoveredListeners: (() => void)[] = [];

  constructor(private readonly deps: OutboxDeps) {
    for (const d of deps.destinations) {
      const r = toRuntime(d);
      if (r) this.runtime.set(d.id, r);
      else deps.log.warn({ destinationId: d.id, type: d.type }, 'destination type not deliverable yet; its deliveries stay pending');
    }
    // Attempt bookkeeping is off the ACK path: let results pile up a few ms per commit.
    this.results = new MicroBatcher((items) => deps.store.recordDeliveryResults(items), 500, 5);
    const deliver = createDeliverer({ mllpSend: this.mllpSend });
    this.queues = new DeliveryQueues({
      redisUrl: deps.redisUrl,
      prefix: deps.redisPrefix,
      logger: deps.log,
      destinations: deps.destinations
        .filter((d) => this.runtime.has(d.id))
        .map((d) => ({ id: d.id, concurrency: d.concurrency, maxAttempts: d.maxAttempts, backoff: d.backoff })),
      processor: deps.consume === false ? undefined : (job, ctx) => this.process(job, ctx, deliver),
      hasPendingPredecessor: (job) => (job.patientKey ? deps.store.hasEarlierUndelivered(job.destinationId, job.patientKey, job.seq) : Promise.resolve(false)),
      hooks: {
        onAttempt: async (job, report) => {
          await this.results.submit(resultFor(job, report));
          deps.onAttempt?.(job, report);
        },
        onDelivered: (job) => deps.onDelivered?.(job),
        onDead: (job, report) => deps.onDead?.(job, report),
        onRedisRecovered: () => {
          for (const listener of this.redisRecoveredListeners) listener();
        },
      },
    });
  }

  /** Called whenever Redis is reachable again after an outage (the recovery sweep re-enqueues then). */
  onRedisRecovered(listener: () => void): void {
    this.redisRecoveredListeners.push(listener);
  }

  isDeliverable(destinationId: string): boolean {
    return this.runtime.has(destinationId);
  }

  enqueue(job: DeliveryJob): Promise<boolean> {
    if (!this.runtime.has(job.destinationId)) return Promise.resolve(false);
    return this.queues.enqueue(job);
  }

  private async process(job: DeliveryJob, ctx: { deliveryId: string; attempt: number }, deliver: ReturnType<typeof createDeliverer>): Promise<DeliveryOutcome> {
    const dest = this.runtime.get(job.destinationId)!;
    const d = await this.deps.store.getDelivery(job.deliveryId);
    if (!d) return { kind: 'fatal', error: 'delivery no longer in the store', durationMs: 0 };
    // Already finished (e.g. delivered just before a crash, then resubmitted): never send twice.
    if (d.status === 'delivered' || d.status === 'cancelled' || d.status === 'withheld') return { kind: 'delivered', durationMs: 0 };
    let payload: unknown = d.payload;
    // MLLP always, and a passthrough delivery (no stored payload), send the raw message as received.
    if (dest.type === 'mllp' || payload === null || payload === undefined) {
      const raw = await this.deps.store.getMessageRaw(d.messageId);
      if (!raw) return { kind: 'fatal', error: 'source message no longer in the store', durationMs: 0 };
      payload = raw.raw;
    }
    return deliver(payload, dest, ctx);
  }

  /** One client per MLLP destination: it serializes sends, which keeps the order per destination. */
  private readonly mllpSend: MllpSend = async (message, destination, signal) => {
    let client = this.mllpClients.get(destination.id);
    if (!client) {
      const cfg = this.deps.destinations.find((d) => d.id === destination.id);
      const tls = cfg?.type === 'mllp' && cfg.tls ? cfg.tls : undefined;
      client = new MllpClient({
        host: destination.host,
        port: destination.port,
        ackTimeoutMs: destination.timeoutMs,
        tls: tls
          ? {
              ca: tls.ca ? readFileSync(tls.ca) : undefined,
              cert: tls.cert ? readFileSync(tls.cert) : undefined,
              key: tls.key ? readFileSync(tls.key) : undefined,
              servername: tls.servername,
              rejectUnauthorized: tls.rejectUnauthorized,
            }
          : undefined,
      });
      this.mllpClients.set(destination.id, client);
    }
    void signal;
    return client.send(message);
  };

  async close(): Promise<void> {
    await this.queues.close();
    for (const c of this.mllpClients.values()) await c.close().catch(() => {});
  }
}

function resultFor(job: DeliveryJob, report: AttemptReport): DeliveryResultInput {
  const o = report.outcome;
  const outcome: AttemptOutcome = o.kind === 'delivered' ? 'success' : o.kind === 'retry' ? 'retryable-error' : 'fatal-error';
  const now = Date.now();
  const next = report.next === 'done' ? 'delivered' : report.next === 'dead' ? 'dead' : 'retrying';
  return {
    deliveryId: job.deliveryId,
    attempt: {
      startedAt: new Date(now - o.durationMs),
      durationMs: o.durationMs,
      outcome,
      httpStatus: typeof o.status === 'number' ? o.status : null,
      ackCode: typeof o.status === 'string' ? o.status : null,
      error: o.error ?? null,
    },
    next,
    nextAttemptAt: next === 'retrying' ? new Date(now + (o.retryAfterMs ?? 1000)) : undefined,
    error: o.error,
  };
}

/** Config destination → what the deliverers need (secrets already resolved by the config loader). */
function toRuntime(d: ConfiguredDestination): DestinationConfig | undefined {
  switch (d.type) {
    case 'webhook':
      return { type: 'webhook', id: d.id, url: d.url, secret: d.secret, headers: d.headers, timeoutMs: d.timeoutMs };
    case 'fhir':
      return { type: 'fhir', id: d.id, baseUrl: d.baseUrl, bearerToken: d.auth?.bearerToken, headers: d.headers, timeoutMs: d.timeoutMs };
    case 'fhir-messaging':
      return { type: 'fhir-messaging', id: d.id, baseUrl: d.baseUrl, bearerToken: d.auth?.bearerToken, headers: d.headers, timeoutMs: d.timeoutMs };
    case 'mllp':
      return { type: 'mllp', id: d.id, host: d.host, port: d.port, timeoutMs: d.ackTimeoutMs };
    case 'sftp':
      return {
        type: 'sftp',
        id: d.id,
        host: d.host,
        port: d.port,
        username: d.username,
        privateKeyFile: d.privateKey,
        privateKeyEnv: d.privateKeyEnv,
        passphrase: d.passphrase,
        hostKeySha256: d.hostKeySha256,
        remoteDir: d.remoteDir,
        timeoutMs: d.timeoutMs,
      };
    default:
      return undefined;
  }
}
