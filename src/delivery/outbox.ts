import type { DestinationConfig as ConfiguredDestination } from '../config/types.js';
import { MicroBatcher } from '../ingest/micro-batcher.js';
import type { Logger } from '../observability/log.js';
import type { AttemptOutcome, DeliveryResultInput, MessageStore } from '../store/types.js';
import { destinationModule } from './deliverers/registry.js';
import { DeliveryQueues, type AttemptReport, type DeadLetterReport } from './queues.js';
import type { DeliveryContext, DeliveryJob, DeliveryOutcome } from './types.js';

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

/** One configured destination, bound to its module once: the worker's path does no lookup by type. */
interface Channel {
  deliver(payload: unknown, ctx: DeliveryContext): Promise<DeliveryOutcome>;
  /** Every delivery carries the raw message as received, whatever the route's payload. */
  rawOnly: boolean;
  close?(): Promise<void>;
}

/**
 * The outbox: destination queues (BullMQ) wired to the message store. The store says what must
 * be sent and records every attempt; Redis only schedules. Attempt bookkeeping is group-committed
 * across concurrent workers.
 */
export class Outbox {
  readonly queues: DeliveryQueues;
  private readonly runtime = new Map<string, Channel>();
  private readonly results: MicroBatcher<DeliveryResultInput, boolean>;
  private readonly redisRecoveredListeners: (() => void)[] = [];

  constructor(private readonly deps: OutboxDeps) {
    for (const d of deps.destinations) {
      const channel = openChannel(d);
      if (channel) this.runtime.set(d.id, channel);
      else deps.log.warn({ destinationId: d.id, type: d.type }, 'destination type not deliverable yet; its deliveries stay pending');
    }
    // Attempt bookkeeping is off the ACK path: let results pile up a few ms per commit.
    this.results = new MicroBatcher((items) => deps.store.recordDeliveryResults(items), 500, 5);
    this.queues = new DeliveryQueues({
      redisUrl: deps.redisUrl,
      prefix: deps.redisPrefix,
      logger: deps.log,
      destinations: deps.destinations
        .filter((d) => this.runtime.has(d.id))
        .map((d) => ({ id: d.id, concurrency: d.concurrency, maxAttempts: d.maxAttempts, backoff: d.backoff })),
      processor: deps.consume === false ? undefined : (job, ctx) => this.process(job, ctx),
      hasPendingPredecessor: (job) =>
        job.patientKey ? deps.store.hasEarlierUndelivered(job.destinationId, job.patientKey, job.seq) : Promise.resolve(false),
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

  private async process(job: DeliveryJob, ctx: DeliveryContext): Promise<DeliveryOutcome> {
    const channel = this.runtime.get(job.destinationId)!;
    const d = await this.deps.store.getDelivery(job.deliveryId);
    if (!d) return { kind: 'fatal', error: 'delivery no longer in the store', durationMs: 0 };
    // Already finished (e.g. delivered just before a crash, then resubmitted): never send twice.
    if (d.status === 'delivered' || d.status === 'cancelled' || d.status === 'withheld') return { kind: 'delivered', durationMs: 0 };
    let payload: unknown = d.payload;
    // A raw-only destination always, and a passthrough delivery (no stored payload), send the raw message as received.
    if (channel.rawOnly || payload === null || payload === undefined) {
      const raw = await this.deps.store.getMessageRaw(d.messageId);
      if (!raw) return { kind: 'fatal', error: 'source message no longer in the store', durationMs: 0 };
      payload = raw.raw;
    }
    return channel.deliver(payload, ctx);
  }

  async close(): Promise<void> {
    await this.queues.close();
    for (const c of this.runtime.values()) await c.close?.();
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

/** Binds a configured destination to its type's module: runtime shape, shared connection, deliver. */
function openChannel(d: ConfiguredDestination): Channel | undefined {
  const module = destinationModule(d.type);
  if (!module) return undefined;
  const destination = module.toRuntime(d);
  const connection = module.open?.(d);
  const deps = connection?.deps ?? {};
  return {
    deliver: (payload, ctx) => module.deliver(payload, destination, ctx, deps),
    rawOnly: module.rawOnly ?? false,
    close: connection?.close,
  };
}
