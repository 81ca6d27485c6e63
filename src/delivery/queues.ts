/**
 * One BullMQ queue per destination (Redis keys `carebridge:dest:<id>:*`), with our retry policy,
 * dead letters, per-patient ordering and Redis-outage behaviour.
 *
 * - jobId is derived from the delivery id: re-enqueueing after a crash finds the existing job
 *   instead of creating a second one.
 * - Outcomes: 'delivered' completes; 'fatal' fails at once (UnrecoverableError); 'retry' fails the
 *   attempt and BullMQ reschedules it with our backoff (Retry-After is a floor); after maxAttempts
 *   the job is a dead letter. HTTP 429 is different: it says "slow down", not "this message is
 *   bad", so the whole destination queue is paused for Retry-After and the job goes back to wait
 *   without burning an attempt, up to `maxThrottles` times (then 429s count as normal retries, so
 *   a destination that throttles forever still ends in dead letters rather than limbo).
 * - Every attempt is reported (onAttempt) and awaited before the job moves on, then onDelivered or
 *   onDead. If a hook throws, the job is retried: at-least-once, which idempotent destinations
 *   (Idempotency-Key, conditional update) turn into exactly-once.
 * - Redis down: enqueue() returns false within enqueueTimeoutMs and never throws for outages; the
 *   store keeps the delivery pending and the gateway's sweep calls resubmit() later (also on
 *   onRedisRecovered). Workers reconnect by themselves.
 */
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { DEFAULT_BACKOFF, DEFAULT_MAX_ATTEMPTS, retryDelayMs, type BackoffPolicy } from './backoff.js';
import { OrderingGate } from './ordering-gate.js';
import { silentLogger, type DeliveryContext, type DeliveryJob, type DeliveryLogger, type DeliveryOutcome } from './types.js';

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
interface QueuedDelivery extends DeliveryJob {
  throttles?: number;
}

interface DestinationRuntime {
  id: string;
  queue: Queue<QueuedDelivery>;
  worker?: Worker<QueuedDelivery, DeliveryOutcome>;
  maxAttempts: number;
  backoff: BackoffPolicy;
  maxThrottles: number;
}

/** Carries the retry hint from the processor to the backoff strategy. */
class RetryableDeliveryError extends Error {
  constructor(readonly outcome: DeliveryOutcome) {
    super(outcome.error ?? `retry (${outcome.status ?? 'no status'})`);
    this.name = 'RetryableDeliveryError';
  }
}

const BACKOFF_TYPE = 'carebridge';
const JOB_NAME = 'deliver';
const DESTINATION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** BullMQ rejects integer-looking ids and ':'; prefixing and encoding avoids both. */
export function jobIdFor(deliveryId: string): string {
  return `dlv-${encodeURIComponent(deliveryId)}`;
}

export class DeliveryQueues {
  private readonly producer: Redis;
  private readonly gateConnection: Redis;
  private readonly workerConnection?: Redis;
  private readonly destinations = new Map<string, DestinationRuntime>();
  private readonly gate: OrderingGate;
  private readonly log: DeliveryLogger;
  private readonly hooks: DeliveryHooks;
  private readonly random: () => number;
  private readonly orphanSince = new Map<string, number>();
  /** Failures whose dead letter was already reported from inside the processor. */
  private readonly reportedFailures = new WeakSet<Error>();
  private wasDown = false;
  private closed = false;

  constructor(private readonly opts: DeliveryQueuesOptions) {
    this.log = opts.logger ?? silentLogger;
    this.hooks = opts.hooks ?? {};
    this.random = opts.random ?? Math.random;
    const prefix = opts.prefix ?? 'carebridge';

    // Producer side fails fast: no offline queue, one try per command, so an outage turns into
    // `false` from enqueue() instead of a pile of pending promises in the ingest path.
    const failFast = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      retryStrategy: (times: number) => Math.min(100 * times, 2_000),
    };
    this.producer = new Redis(opts.redisUrl, failFast);
    this.producer.on('error', (err: Error) => this.log.debug({ err: err.message }, 'redis producer connection error'));
    this.producer.on('close', () => {
      if (!this.wasDown && !this.closed) this.log.warn({}, 'redis unreachable: deliveries stay pending in the store');
      this.wasDown = true;
    });
    this.producer.on('ready', () => {
      if (!this.wasDown || this.closed) return;
      this.wasDown = false;
      this.log.info({}, 'redis reachable again');
      this.hooks.onRedisRecovered?.();
    });
    // The ordering gate's own connection, auto-pipelined: the gate calls of concurrent deliveries
    // in one event-loop tick go out in one write (BullMQ's connections are left as BullMQ wants them).
    this.gateConnection = new Redis(opts.redisUrl, { ...failFast, enableAutoPipelining: true });
    this.gateConnection.on('error', (err: Error) => this.log.debug({ err: err.message }, 'redis ordering-gate connection error'));
    this.gate = new OrderingGate(this.gateConnection, prefix);

    if (opts.processor) {
      // Workers block on Redis; BullMQ requires maxRetriesPerRequest: null for them.
      this.workerConnection = new Redis(opts.redisUrl, { maxRetriesPerRequest: null });
      this.workerConnection.on('error', (err: Error) => this.log.debug({ err: err.message }, 'redis worker connection error'));
    }

    for (const dest of opts.destinations) {
      if (!DESTINATION_ID.test(dest.id)) throw new Error(`invalid destination id "${dest.id}" (letters, digits, . _ - only)`);
      const queue = new Queue<QueuedDelivery>(dest.id, { connection: this.producer, prefix: `${prefix}:dest` });
      queue.on('error', (err: Error) => this.log.debug({ destinationId: dest.id, err: err.message }, 'queue error'));
      const runtime: DestinationRuntime = {
        id: dest.id,
        queue,
        maxAttempts: Math.max(1, dest.maxAttempts ?? DEFAULT_MAX_ATTEMPTS),
        backoff: { ...DEFAULT_BACKOFF, ...dest.backoff },
        maxThrottles: dest.maxThrottles ?? 50,
      };
      if (opts.processor && this.workerConnection) {
        runtime.worker = this.createWorker(runtime, dest.concurrency ?? 4, `${prefix}:dest`);
      }
      this.destinations.set(dest.id, runtime);
    }
  }

  /** True while the producer connection is ready; enqueue() short-circuits to false otherwise. */
  isRedisUp(): boolean {
    return this.producer.status === 'ready';
  }

  /** Waits until Redis answers (for startup); false after timeoutMs. */
  async ready(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.isRedisUp()) {
      if (this.closed || Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 25));
    }
    return true;
  }

  /**
   * Puts a delivery on its destination queue. Returns false (never throws) when Redis is down or
   * slow; the delivery then stays pending in the store until a resubmit. Enqueueing the same
   * delivery twice is harmless: the second add finds the existing job.
   */
  async enqueue(job: DeliveryJob): Promise<boolean> {
    const dest = this.runtime(job.destinationId);
    if (!this.isRedisUp()) return false;
    try {
      await this.withTimeout(this.addJob(dest, job));
      return true;
    } catch (err) {
      this.log.warn({ deliveryId: job.deliveryId, destinationId: job.destinationId, err: errorText(err) }, 'enqueue failed; left for resubmit');
      return false;
    }
  }

  /**
   * The re-enqueue sweep's call for a delivery the store thinks is unfinished. Tells the caller
   * what Redis knows, so the store can catch up with outcomes it missed (crash between delivery
   * and bookkeeping): 'delivered' and 'dead' mean the job already finished.
   */
  async resubmit(job: DeliveryJob): Promise<ResubmitResult> {
    const dest = this.runtime(job.destinationId);
    if (!this.isRedisUp()) return 'redis-down';
    try {
      return await this.withTimeout(
        (async (): Promise<ResubmitResult> => {
          const existing = await dest.queue.getJob(jobIdFor(job.deliveryId));
          if (existing) {
            const state = await existing.getState();
            if (state === 'completed') return 'delivered';
            if (state === 'failed') return 'dead';
            if (state !== 'unknown') {
              if (job.patientKey) await this.gate.admit(job);
              return 'pending';
            }
          }
          await this.addJob(dest, job);
          return 'enqueued';
        })(),
      );
    } catch (err) {
      this.log.warn({ deliveryId: job.deliveryId, destinationId: job.destinationId, err: errorText(err) }, 'resubmit failed');
      return 'redis-down';
    }
  }

  /**
   * Operator requeue of a dead letter: a fresh job with a full set of attempts, back in its
   * patient's line at its original position. False if Redis is down or the job already delivered.
   */
  async requeueDead(job: DeliveryJob): Promise<boolean> {
    const dest = this.runtime(job.destinationId);
    if (!this.isRedisUp()) return false;
    try {
      return await this.withTimeout(
        (async () => {
          const existing = await dest.queue.getJob(jobIdFor(job.deliveryId));
          if (existing) {
            const state = await existing.getState();
            if (state === 'completed') return false;
            if (state !== 'failed' && state !== 'unknown') return true; // already queued
            await existing.remove();
          }
          await this.addJob(dest, { ...job });
          return true;
        })(),
      );
    } catch (err) {
      this.log.warn({ deliveryId: job.deliveryId, destinationId: job.destinationId, err: errorText(err) }, 'requeue failed');
      return false;
    }
  }

  /** Queue depth for metrics. Throws when Redis is down (metrics should show "unknown"). */
  async depth(destinationId: string): Promise<QueueDepth> {
    const counts = await this.runtime(destinationId).queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
    return {
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      failed: counts.failed ?? 0,
    };
  }

  destinationIds(): string[] {
    return [...this.destinations.keys()];
  }

  /**
   * Stops workers (waiting for jobs in flight), then queues and connections.
   *
   * Bounded by closeTimeoutMs: BullMQ's Worker.close() can wait forever for an ioredis 'end'
   * event that never comes when its blocking connection is between reconnect attempts (Redis
   * down or just restarted; taskforcesh/bullmq#4656, redis/ioredis#2169). Shutdown must not hang
   * on that; jobs cut off here are finished by another worker after the stalled-job check.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const runtimes = [...this.destinations.values()];
    const workersClosed = await settlesWithin(
      Promise.all(runtimes.map((d) => d.worker?.close())),
      this.opts.closeTimeoutMs ?? 15_000,
    );
    if (!workersClosed) this.log.warn({}, 'delivery workers did not close in time; disconnecting anyway');
    await settlesWithin(Promise.all(runtimes.map((d) => d.queue.close())), 2_000);
    this.producer.disconnect();
    this.gateConnection.disconnect();
    this.workerConnection?.disconnect();
  }

  private runtime(destinationId: string): DestinationRuntime {
    const dest = this.destinations.get(destinationId);
    if (!dest) throw new UnknownDestinationError(destinationId);
    return dest;
  }

  private async addJob(dest: DestinationRuntime, job: DeliveryJob): Promise<void> {
    // Announce in the patient's line first, so the job can never run before its turn is known.
    if (job.patientKey) await this.gate.admit(job);
    const retention = this.opts.retention ?? {};
    const data: QueuedDelivery = {
      deliveryId: job.deliveryId,
      messageId: job.messageId,
      destinationId: job.destinationId,
      patientKey: job.patientKey,
      seq: job.seq,
    };
    await dest.queue.add(JOB_NAME, data, {
      jobId: jobIdFor(job.deliveryId),
      attempts: dest.maxAttempts,
      backoff: { type: BACKOFF_TYPE },
      // Completed jobs linger so resubmit() after a crash sees "delivered"; failed ones are dead
      // letters and stay longer for inspection (the store remains the system of record).
      removeOnComplete: { age: retention.completedAgeSec ?? 24 * 3600, count: retention.completedCount ?? 100_000 },
      removeOnFail: { age: retention.failedAgeSec ?? 30 * 24 * 3600 },
    });
  }

  private createWorker(dest: DestinationRuntime, concurrency: number, prefix: string): Worker<QueuedDelivery, DeliveryOutcome> {
    const tuning = this.opts.workerTuning ?? {};
    const worker = new Worker<QueuedDelivery, DeliveryOutcome>(dest.id, (job, token) => this.process(dest, job, token), {
      connection: this.workerConnection!,
      prefix,
      concurrency,
      // After a crash, a job the dead process held waits for its lock to lapse and the next
      // stalled check: ≤ 20 s with these (BullMQ's 30 s + 30 s defaults made it up to a minute,
      // holding that patient's line). The live worker renews its locks every 7.5 s.
      lockDuration: tuning.lockDurationMs ?? 15_000,
      stalledInterval: tuning.stalledIntervalMs ?? 5_000,
      // A job that stalls (gateway crash, Redis restart mid-attempt) is retried, not dead-lettered.
      maxStalledCount: tuning.maxStalledCount ?? 10,
      settings: {
        backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) =>
          retryDelayMs(
            attemptsMade,
            dest.backoff,
            err instanceof RetryableDeliveryError ? err.outcome.retryAfterMs : undefined,
            this.opts.maxRetryAfterMs ?? 3_600_000,
            this.random,
          ),
      },
    });
    worker.on('error', (err: Error) => this.log.debug({ destinationId: dest.id, err: err.message }, 'worker error'));
    worker.on('failed', (job, err) => this.onUnreportedFailure(dest, job, err));
    return worker;
  }

  private async process(
    dest: DestinationRuntime,
    job: Job<QueuedDelivery, DeliveryOutcome>,
    token: string | undefined,
  ): Promise<DeliveryOutcome> {
    const { throttles = 0, ...delivery } = job.data;

    if (delivery.patientKey) {
      const parkMs = await this.waitForTurn(dest, delivery).catch((err: unknown) => {
        // Unsure whose turn it is: wait rather than risk overtaking an earlier message.
        this.log.warn({ deliveryId: delivery.deliveryId, destinationId: dest.id, err: errorText(err) }, 'ordering check failed');
        return this.opts.gatePollMs ?? 2_000;
      });
      if (parkMs > 0) {
        // Parking is not an attempt: moveToDelayed does not count one.
        await job.moveToDelayed(Date.now() + parkMs, token);
        throw new DelayedError();
      }
    }

    const attempt = job.attemptsMade + 1;
    const outcome = await this.runProcessor(delivery, { deliveryId: delivery.deliveryId, attempt });
    const throttled = outcome.kind === 'retry' && outcome.status === 429 && throttles < dest.maxThrottles;
    const next: AttemptNext =
      outcome.kind === 'delivered' ? 'done'
      : outcome.kind === 'fatal' ? 'dead'
      : throttled ? 'throttled'
      : attempt >= dest.maxAttempts ? 'dead'
      : 'retry';

    this.log.debug({ deliveryId: delivery.deliveryId, destinationId: dest.id, attempt, status: outcome.status, next }, 'delivery attempt');
    await this.hooks.onAttempt?.(delivery, { attempt, outcome, next, sinceEnqueueMs: Math.max(0, Date.now() - job.timestamp) });

    switch (next) {
      case 'done':
        await this.hooks.onDelivered?.(delivery, outcome);
        if (delivery.patientKey) await this.releaseTurn(dest, delivery, delivery.deliveryId);
        return outcome;
      case 'throttled': {
        const pauseMs = Math.min(Math.max(outcome.retryAfterMs ?? 1_000, 1), this.opts.maxRetryAfterMs ?? 3_600_000);
        await job.updateData({ ...delivery, throttles: throttles + 1 });
        await dest.queue.rateLimit(pauseMs);
        throw Worker.RateLimitError();
      }
      case 'retry':
        throw new RetryableDeliveryError(outcome);
      case 'dead': {
        const reason = outcome.error ?? `${outcome.kind} (${outcome.status ?? 'no status'})`;
        // debug: the onAttempt hook logs the dead step with its reason (src/observability/message-log.ts).
        this.log.debug({ deliveryId: delivery.deliveryId, destinationId: dest.id, attempt, status: outcome.status }, 'dead letter');
        await this.hooks.onDead?.(delivery, { attempts: attempt, reason, outcome });
        if (delivery.patientKey) await this.releaseTurn(dest, delivery, delivery.deliveryId);
        const final = new UnrecoverableError(reason);
        this.reportedFailures.add(final);
        throw final;
      }
    }
  }

  /**
   * A job can also end failed without passing our 'dead' branch: an exception outside the
   * deliverer (ordering check, hook, Redis) on its last attempt. The store must still hear of it.
   */
  private onUnreportedFailure(dest: DestinationRuntime, job: Job<QueuedDelivery, DeliveryOutcome> | undefined, err: Error): void {
    if (!job || this.reportedFailures.has(err) || !job.finishedOn) return;
    const { throttles: _throttles, ...delivery } = job.data;
    const outcome: DeliveryOutcome = { kind: 'retry', error: err.message, durationMs: 0 };
    this.log.warn({ deliveryId: delivery.deliveryId, destinationId: dest.id, attempts: job.attemptsMade }, 'dead letter (unexpected error)');
    Promise.resolve(this.hooks.onDead?.(delivery, { attempts: job.attemptsMade, reason: err.message, outcome })).catch((hookErr: unknown) =>
      this.log.error({ deliveryId: delivery.deliveryId, err: errorText(hookErr) }, 'onDead hook failed; resubmit will report the dead job'),
    );
  }

  /** A processor that throws is a bug or an outage of the store; treat it as retryable. */
  private async runProcessor(job: DeliveryJob, ctx: DeliveryContext): Promise<DeliveryOutcome> {
    const started = performance.now();
    try {
      return await this.opts.processor!(job, ctx);
    } catch (err) {
      this.log.error({ deliveryId: job.deliveryId, destinationId: job.destinationId, err: errorText(err) }, 'delivery processor threw');
      return { kind: 'retry', error: `processor error: ${errorText(err)}`, durationMs: performance.now() - started };
    }
  }

  /** 0 when the job may be sent now, else how long to park it. */
  private async waitForTurn(dest: DestinationRuntime, job: DeliveryJob): Promise<number> {
    const parkMs = this.opts.gatePollMs ?? 2_000;
    for (let round = 0; round < 5; round++) {
      const head = await this.gate.admitAndHead(job);
      if (head === null || head === job.deliveryId) {
        if (this.opts.hasPendingPredecessor && (await this.opts.hasPendingPredecessor(job))) return parkMs;
        return 0;
      }
      const headJob = await dest.queue.getJob(jobIdFor(head));
      const state = headJob ? await headJob.getState() : 'unknown';
      if (state === 'completed' || state === 'failed') {
        // Finished without releasing its turn (e.g. Redis failed at that moment): drop it.
        await this.gate.release(job, head);
        continue;
      }
      if (state === 'unknown' && this.isOrphanHead(dest.id, head)) {
        this.log.warn({ destinationId: dest.id, deliveryId: head }, 'dropping head of line with no job');
        await this.gate.release(job, head);
        continue;
      }
      return parkMs;
    }
    return parkMs;
  }

  /** A head with no job is normal for a moment (being added, or awaiting resubmit); not forever. */
  private isOrphanHead(destinationId: string, deliveryId: string): boolean {
    const key = `${destinationId}\u0000${deliveryId}`;
    const now = Date.now();
    const since = this.orphanSince.get(key);
    if (since === undefined) {
      this.orphanSince.set(key, now);
      return false;
    }
    if (now - since < (this.opts.orphanHeadMs ?? 5 * 60_000)) return false;
    this.orphanSince.delete(key);
    return true;
  }

  /** Leaves the line and wakes the next delivery of the patient if it is parked. */
  private async releaseTurn(dest: DestinationRuntime, job: DeliveryJob, deliveryId: string): Promise<void> {
    const next = await this.gate.release(job, deliveryId);
    if (!next) return;
    try {
      const nextJob = await dest.queue.getJob(jobIdFor(next));
      if (nextJob && (await nextJob.getState()) === 'delayed') await nextJob.promote();
    } catch (err) {
      // Only latency: the parked job comes back after gatePollMs anyway.
      this.log.debug({ destinationId: dest.id, err: errorText(err) }, 'could not promote next in line');
    }
  }

  private withTimeout<T>(work: Promise<T>): Promise<T> {
    const ms = this.opts.enqueueTimeoutMs ?? 2_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`redis did not answer within ${ms} ms`)), ms);
    });
    work.catch(() => {}); // a late failure after the timeout must not become unhandled
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }
}

/** True if `work` settled (either way) within ms; a late rejection is swallowed. */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
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

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
