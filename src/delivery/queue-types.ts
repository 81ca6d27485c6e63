// What the delivery queues' producer, workers and ordering gate share: options, reports, hooks, and
// how a delivery is named and stored as a BullMQ job.
import type { BackoffPolicy } from './backoff.js';
import type { DeliveryContext, DeliveryJob, DeliveryLogger, DeliveryOutcome } from './types.js';

export interface DestinationQueueOptions {
  id: string;
  /** Jobs in flight per gateway process for this destination. Default 4. */
  concurrency?: number;
  /** Total attempts before a dead letter. Default 20 (about 2-3 hours with the default backoff). */
  maxAttempts?: number;
  backoff?: Partial<BackoffPolicy>;
  /** 429 answers that pause the destination without burning an attempt. Default 50. */
  maxThrottles?: number;
}

/** What happens after an attempt. */
export type AttemptNext = 'done' | 'retry' | 'throttled' | 'dead';

export interface AttemptReport {
  /** 1-based; a throttled attempt is repeated with the same number. */
  attempt: number;
  outcome: DeliveryOutcome;
  next: AttemptNext;
  /** Time from the first enqueue to the end of this attempt (for the delivery latency histogram). */
  sinceEnqueueMs: number;
}

export interface DeadLetterReport {
  attempts: number;
  reason: string;
  outcome: DeliveryOutcome;
}

export interface DeliveryHooks {
  /** Every attempt, before the queue moves on. The store records the attempt here. */
  onAttempt?(job: DeliveryJob, report: AttemptReport): void | Promise<void>;
  /** The store marks the delivery delivered. */
  onDelivered?(job: DeliveryJob, outcome: DeliveryOutcome): void | Promise<void>;
  /** The store marks the delivery dead (fatal outcome or attempts exhausted). */
  onDead?(job: DeliveryJob, report: DeadLetterReport): void | Promise<void>;
  /** Redis answers again after an outage: run the re-enqueue sweep (resubmit). */
  onRedisRecovered?(): void;
}

/** Sends one delivery: typically loads the payload from the store and calls a deliverer. */
export type DeliveryProcessor = (job: DeliveryJob, ctx: DeliveryContext) => Promise<DeliveryOutcome>;

export interface DeliveryQueuesOptions {
  redisUrl: string;
  destinations: DestinationQueueOptions[];
  /** Without a processor this instance only produces (no workers). */
  processor?: DeliveryProcessor;
  hooks?: DeliveryHooks;
  /** Key prefix. Default `carebridge` (queues live under `<prefix>:dest:<id>`). */
  prefix?: string;
  /** enqueue() gives up (returns false) after this long. Default 2000 ms. */
  enqueueTimeoutMs?: number;
  /** How long a job waiting for an earlier delivery of the same patient is parked. Default 2000 ms. */
  gatePollMs?: number;
  /** A head of line whose job cannot be found is dropped after this long. Default 5 min. */
  orphanHeadMs?: number;
  /**
   * Optional store check, asked when Redis says a job is first in its patient's line: is an
   * earlier delivery (same destination and patient, lower seq) still unfinished in the store?
   * Closes the gap where the earlier one could not even be announced because Redis was down.
   */
  hasPendingPredecessor?(job: DeliveryJob): Promise<boolean>;
  /** Cap for server-sent Retry-After. Default 1 hour. */
  maxRetryAfterMs?: number;
  /** Finished jobs kept in Redis so a post-crash resubmit can tell "already done". */
  retention?: { completedAgeSec?: number; completedCount?: number; failedAgeSec?: number };
  logger?: DeliveryLogger;
  random?: () => number;
  /** Upper bound for close() (see there). Default 15 s. */
  closeTimeoutMs?: number;
  /** BullMQ worker knobs; tests shorten them to see stalled-job recovery quickly. */
  workerTuning?: { lockDurationMs?: number; stalledIntervalMs?: number; maxStalledCount?: number };
}

export interface QueueDepth {
  waiting: number;
  active: number;
  delayed: number;
  /** Dead letters still kept in Redis. */
  failed: number;
}

export type ResubmitResult = 'enqueued' | 'pending' | 'delivered' | 'dead' | 'redis-down';

export class UnknownDestinationError extends Error {
  constructor(id: string) {
    super(`unknown delivery destination "${id}"`);
    this.name = 'UnknownDestinationError';
  }
}

/** Job data as stored in Redis: the delivery plus our throttle counter. */
export interface QueuedDelivery extends DeliveryJob {
  throttles?: number;
}

/** A destination's retry rules, as its producer queue and its worker both apply them. */
export interface DestinationPolicy {
  id: string;
  maxAttempts: number;
  backoff: BackoffPolicy;
  maxThrottles: number;
  concurrency: number;
}

/** BullMQ rejects integer-looking ids and ':'; prefixing and encoding avoids both. */
export function jobIdFor(deliveryId: string): string {
  return `dlv-${encodeURIComponent(deliveryId)}`;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** True if `work` settled (either way) within ms; a late rejection is swallowed. */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = work.then(
    () => true,
    () => true,
  );
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
