// The producer side of the delivery queues (BullMQ's Queue): puts deliveries on their destination
// queue, answers what Redis knows about one (resubmit after a crash, operator requeue), counts queue
// depths. It fails fast: with Redis down, calls answer false / 'redis-down' within
// enqueueTimeoutMs instead of piling up promises in the ingest path; the store keeps the delivery
// pending and the sweep resubmits it later (also on onRedisRecovered).
import { Queue, type Job } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { OrderingGate } from './ordering-gate.js';
import {
  errorText,
  jobIdFor,
  settlesWithin,
  UnknownDestinationError,
  type DeliveryHooks,
  type DeliveryQueuesOptions,
  type DestinationPolicy,
  type QueueDepth,
  type QueuedDelivery,
  type ResubmitResult,
} from './queue-types.js';
import type { DeliveryJob, DeliveryLogger, DeliveryOutcome } from './types.js';

const BACKOFF_TYPE = 'carebridge';
const JOB_NAME = 'deliver';

/** No offline queue, one try per command: an outage turns into a quick "no" (the gate's connection too). */
export const FAIL_FAST: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  connectTimeout: 2_000,
  retryStrategy: (times: number) => Math.min(100 * times, 2_000),
};

interface ProducerQueue {
  policy: DestinationPolicy;
  queue: Queue<QueuedDelivery>;
}

export class DeliveryProducer {
  private readonly connection: Redis;
  private readonly queues = new Map<string, ProducerQueue>();
  private wasDown = false;
  private closing = false;

  constructor(
    private readonly opts: DeliveryQueuesOptions,
    policies: readonly DestinationPolicy[],
    /** Announces a job in its patient's line before the job exists. */
    private readonly gate: OrderingGate,
    private readonly log: DeliveryLogger,
    hooks: DeliveryHooks,
    prefix: string,
  ) {
    this.connection = new Redis(opts.redisUrl, FAIL_FAST);
    this.connection.on('error', (err: Error) => this.log.debug({ err: err.message }, 'redis producer connection error'));
    this.connection.on('close', () => {
      if (!this.wasDown && !this.closing) this.log.warn({}, 'redis unreachable: deliveries stay pending in the store');
      this.wasDown = true;
    });
    this.connection.on('ready', () => {
      if (!this.wasDown || this.closing) return;
      this.wasDown = false;
      this.log.info({}, 'redis reachable again');
      hooks.onRedisRecovered?.();
    });
    for (const policy of policies) {
      const queue = new Queue<QueuedDelivery>(policy.id, { connection: this.connection, prefix: `${prefix}:dest` });
      queue.on('error', (err: Error) => this.log.debug({ destinationId: policy.id, err: err.message }, 'queue error'));
      this.queues.set(policy.id, { policy, queue });
    }
  }

  /** True while the producer connection is ready; enqueue() short-circuits to false otherwise. */
  isRedisUp(): boolean {
    return this.connection.status === 'ready';
  }

  /** Waits until Redis answers (for startup); false after timeoutMs. */
  async ready(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.isRedisUp()) {
      if (this.closing || Date.now() > deadline) return false;
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
    const dest = this.destination(job.destinationId);
    if (!this.isRedisUp()) return false;
    try {
      await this.withTimeout(this.addJob(dest, job));
      return true;
    } catch (err) {
      this.log.warn(
        { deliveryId: job.deliveryId, destinationId: job.destinationId, err: errorText(err) },
        'enqueue failed; left for resubmit',
      );
      return false;
    }
  }

  /**
   * The re-enqueue sweep's call for a delivery the store thinks is unfinished. Tells the caller
   * what Redis knows, so the store can catch up with outcomes it missed (crash between delivery
   * and bookkeeping): 'delivered' and 'dead' mean the job already finished.
   */
  async resubmit(job: DeliveryJob): Promise<ResubmitResult> {
    const dest = this.destination(job.destinationId);
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
    const dest = this.destination(job.destinationId);
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
    const counts = await this.destination(destinationId).queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
    return {
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      failed: counts.failed ?? 0,
    };
  }

  destinationIds(): string[] {
    return [...this.queues.keys()];
  }

  /** The job of a delivery, if Redis still has it (for the ordering gate's head checks). */
  getJob(destinationId: string, deliveryId: string): Promise<Job<QueuedDelivery, DeliveryOutcome> | undefined> {
    return this.destination(destinationId).queue.getJob(jobIdFor(deliveryId));
  }

  /** Pauses a whole destination queue (a 429's Retry-After). */
  async pause(destinationId: string, ms: number): Promise<void> {
    await this.destination(destinationId).queue.rateLimit(ms);
  }

  /** No more outage warnings or recovery hooks: the queues are shutting down. */
  beginClose(): void {
    this.closing = true;
  }

  async close(): Promise<void> {
    this.closing = true;
    await settlesWithin(Promise.all([...this.queues.values()].map((d) => d.queue.close())), 2_000);
    this.connection.disconnect();
  }

  private destination(destinationId: string): ProducerQueue {
    const dest = this.queues.get(destinationId);
    if (!dest) throw new UnknownDestinationError(destinationId);
    return dest;
  }

  private async addJob(dest: ProducerQueue, job: DeliveryJob): Promise<void> {
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
      attempts: dest.policy.maxAttempts,
      backoff: { type: BACKOFF_TYPE },
      // Completed jobs linger so resubmit() after a crash sees "delivered"; failed ones are dead
      // letters and stay longer for inspection (the store remains the system of record).
      removeOnComplete: { age: retention.completedAgeSec ?? 24 * 3600, count: retention.completedCount ?? 100_000 },
      removeOnFail: { age: retention.failedAgeSec ?? 30 * 24 * 3600 },
    });
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
