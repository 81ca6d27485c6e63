// The worker side of the delivery queues (BullMQ's Worker): takes jobs in turn (the ordering gate
// parks a job whose patient has an earlier delivery unfinished), runs the processor, reports every
// attempt, and decides what follows: done, retry with our backoff (Retry-After a floor), a 429
// pause of the whole destination that burns no attempt (up to maxThrottles), or a dead letter.
// Every hook is awaited before the job moves on; a hook that throws gets the job retried:
// at-least-once, which idempotent destinations turn into exactly-once.
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { reclaimDeadOwners } from './stalled-reclaim.js';
import { retryDelayMs } from './backoff.js';
import type { DeliveryProducer } from './delivery-producer.js';
import type { OrderingTurns } from './ordering-turns.js';
import {
  errorText,
  settlesWithin,
  type AttemptNext,
  type DeliveryHooks,
  type DeliveryProcessor,
  type DeliveryQueuesOptions,
  type DestinationPolicy,
  type QueuedDelivery,
} from './queue-types.js';
import type { DeliveryContext, DeliveryJob, DeliveryLogger, DeliveryOutcome } from './types.js';

/** What follows an attempt's outcome. */
function nextStep(outcome: DeliveryOutcome, throttled: boolean, lastAttempt: boolean): AttemptNext {
  if (outcome.kind === 'delivered') return 'done';
  if (outcome.kind === 'fatal') return 'dead';
  if (throttled) return 'throttled';
  return lastAttempt ? 'dead' : 'retry';
}

/** Carries the retry hint from the processor to the backoff strategy. */
class RetryableDeliveryError extends Error {
  constructor(readonly outcome: DeliveryOutcome) {
    super(outcome.error ?? `retry (${outcome.status ?? 'no status'})`);
    this.name = 'RetryableDeliveryError';
  }
}

export class DeliveryWorkers {
  private readonly connection: Redis;
  private readonly workers: Worker<QueuedDelivery, DeliveryOutcome>[] = [];
  /** Failures whose dead letter was already reported from inside the processor. */
  private readonly reportedFailures = new WeakSet<Error>();

  constructor(
    private readonly opts: DeliveryQueuesOptions,
    private readonly processor: DeliveryProcessor,
    policies: readonly DestinationPolicy[],
    private readonly producer: DeliveryProducer,
    private readonly turns: OrderingTurns,
    private readonly hooks: DeliveryHooks,
    private readonly log: DeliveryLogger,
    private readonly random: () => number,
    prefix: string,
    /** Stamped on every job taken (processedBy): who holds it, for reclaimDeadOwners(). */
    private readonly name: string,
  ) {
    // Workers block on Redis; BullMQ requires maxRetriesPerRequest: null for them.
    this.connection = new Redis(opts.redisUrl, { maxRetriesPerRequest: null });
    this.connection.on('error', (err: Error) => this.log.debug({ err: err.message }, 'redis worker connection error'));
    for (const policy of policies) this.workers.push(this.createWorker(policy, `${prefix}:dest`));
  }

  /** Stops the workers, waiting for jobs in flight up to ms; false when they did not stop in time. */
  async close(ms: number): Promise<boolean> {
    return settlesWithin(Promise.all(this.workers.map((w) => w.close())), ms);
  }

  disconnect(): void {
    this.connection.disconnect();
  }

  /** Active jobs of gateways no longer connected go back to wait now (stalled-reclaim.ts). */
  async reclaimDeadOwners(client: Redis, live: ReadonlySet<string>): Promise<number> {
    let reclaimed = 0;
    for (const worker of this.workers) reclaimed += await reclaimDeadOwners(client, worker, live);
    return reclaimed;
  }

  private createWorker(dest: DestinationPolicy, prefix: string): Worker<QueuedDelivery, DeliveryOutcome> {
    const tuning = this.opts.workerTuning ?? {};
    const worker = new Worker<QueuedDelivery, DeliveryOutcome>(dest.id, (job, token) => this.process(dest, job, token), {
      connection: this.connection,
      prefix,
      concurrency: dest.concurrency,
      name: this.name,
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
    dest: DestinationPolicy,
    job: Job<QueuedDelivery, DeliveryOutcome>,
    token: string | undefined,
  ): Promise<DeliveryOutcome> {
    const { throttles = 0, ...delivery } = job.data;

    if (delivery.patientKey) {
      const parkMs = await this.turns.waitForTurn(dest.id, delivery).catch((err: unknown) => {
        // Unsure whose turn it is: wait rather than risk overtaking an earlier message.
        this.log.warn({ deliveryId: delivery.deliveryId, destinationId: dest.id, err: errorText(err) }, 'ordering check failed');
        return this.turns.parkMs;
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
    const next = nextStep(outcome, throttled, attempt >= dest.maxAttempts);

    this.log.debug({ deliveryId: delivery.deliveryId, destinationId: dest.id, attempt, status: outcome.status, next }, 'delivery attempt');
    await this.hooks.onAttempt?.(delivery, { attempt, outcome, next, sinceEnqueueMs: Math.max(0, Date.now() - job.timestamp) });

    switch (next) {
      case 'done':
        await this.hooks.onDelivered?.(delivery, outcome);
        if (delivery.patientKey) await this.turns.releaseTurn(dest.id, delivery);
        return outcome;
      case 'throttled': {
        const pauseMs = Math.min(Math.max(outcome.retryAfterMs ?? 1_000, 1), this.opts.maxRetryAfterMs ?? 3_600_000);
        await job.updateData({ ...delivery, throttles: throttles + 1 });
        await this.producer.pause(dest.id, pauseMs);
        throw Worker.RateLimitError();
      }
      case 'retry':
        throw new RetryableDeliveryError(outcome);
      case 'dead': {
        const reason = outcome.error ?? `${outcome.kind} (${outcome.status ?? 'no status'})`;
        // debug: the onAttempt hook logs the dead step with its reason (src/observability/message-log.ts).
        this.log.debug({ deliveryId: delivery.deliveryId, destinationId: dest.id, attempt, status: outcome.status }, 'dead letter');
        await this.hooks.onDead?.(delivery, { attempts: attempt, reason, outcome });
        if (delivery.patientKey) await this.turns.releaseTurn(dest.id, delivery);
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
  private onUnreportedFailure(dest: DestinationPolicy, job: Job<QueuedDelivery, DeliveryOutcome> | undefined, err: Error): void {
    if (!job || this.reportedFailures.has(err) || !job.finishedOn) return;
    const { throttles: _throttles, ...delivery } = job.data;
    const outcome: DeliveryOutcome = { kind: 'retry', error: err.message, durationMs: 0 };
    this.log.warn(
      { deliveryId: delivery.deliveryId, destinationId: dest.id, attempts: job.attemptsMade },
      'dead letter (unexpected error)',
    );
    Promise.resolve(this.hooks.onDead?.(delivery, { attempts: job.attemptsMade, reason: err.message, outcome })).catch((hookErr: unknown) =>
      this.log.error({ deliveryId: delivery.deliveryId, err: errorText(hookErr) }, 'onDead hook failed; resubmit will report the dead job'),
    );
  }

  /** A processor that throws is a bug or an outage of the store; treat it as retryable. */
  private async runProcessor(job: DeliveryJob, ctx: DeliveryContext): Promise<DeliveryOutcome> {
    const started = performance.now();
    try {
      return await this.processor(job, ctx);
    } catch (err) {
      this.log.error({ deliveryId: job.deliveryId, destinationId: job.destinationId, err: errorText(err) }, 'delivery processor threw');
      return { kind: 'retry', error: `processor error: ${errorText(err)}`, durationMs: performance.now() - started };
    }
  }
}
