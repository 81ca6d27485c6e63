/**
 * One BullMQ queue per destination (Redis keys `carebridge:dest:<id>:*`), with our retry policy,
 * dead letters, per-patient ordering and Redis-outage behaviour. As BullMQ separates Queue and
 * Worker, this is three parts behind one face:
 *
 * - the producer (delivery-producer.ts): enqueue, resubmit after a crash, operator requeue, depths;
 *   jobId is derived from the delivery id, so re-enqueueing finds the existing job. Redis down:
 *   enqueue() returns false within enqueueTimeoutMs and never throws for outages; the store keeps
 *   the delivery pending and the gateway's sweep calls resubmit() later (also on onRedisRecovered).
 * - the workers (delivery-worker.ts): attempts, backoff, 429 pauses, dead letters, the hooks.
 * - the ordering gate (ordering-gate.ts, ordering-turns.ts): a patient's deliveries to a
 *   destination go out in store order.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { DEFAULT_BACKOFF, DEFAULT_MAX_ATTEMPTS } from './backoff.js';
import { DeliveryProducer, FAIL_FAST } from './delivery-producer.js';
import { DeliveryWorkers } from './delivery-worker.js';
import { OrderingGate } from './ordering-gate.js';
import { OrderingTurns } from './ordering-turns.js';
import { instanceClientName, liveInstances } from './stalled-reclaim.js';
import type { DeliveryQueuesOptions, DestinationPolicy, QueueDepth, ResubmitResult } from './queue-types.js';
import { silentLogger, type DeliveryJob, type DeliveryLogger } from './types.js';

export {
  jobIdFor,
  UnknownDestinationError,
  type AttemptNext,
  type AttemptReport,
  type DeadLetterReport,
  type DeliveryHooks,
  type DeliveryProcessor,
  type DeliveryQueuesOptions,
  type DestinationQueueOptions,
  type QueueDepth,
  type ResubmitResult,
} from './queue-types.js';

const DESTINATION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export class DeliveryQueues {
  private readonly producer: DeliveryProducer;
  private readonly gateConnection: Redis;
  private readonly workers?: DeliveryWorkers;
  private readonly log: DeliveryLogger;
  private closed = false;
  /** This process's name in Redis: its gate connection's client name and its workers' name (see stalled-reclaim.ts). */
  private readonly instance = randomUUID();
  private readonly prefix: string;

  constructor(private readonly opts: DeliveryQueuesOptions) {
    this.log = opts.logger ?? silentLogger;
    const hooks = opts.hooks ?? {};
    const prefix = opts.prefix ?? 'carebridge';
    this.prefix = prefix;
    const policies: DestinationPolicy[] = opts.destinations.map((dest) => {
      if (!DESTINATION_ID.test(dest.id)) throw new Error(`invalid destination id "${dest.id}" (letters, digits, . _ - only)`);
      return {
        id: dest.id,
        maxAttempts: Math.max(1, dest.maxAttempts ?? DEFAULT_MAX_ATTEMPTS),
        backoff: { ...DEFAULT_BACKOFF, ...dest.backoff },
        maxThrottles: dest.maxThrottles ?? 50,
        concurrency: dest.concurrency ?? 4,
      };
    });
    // The ordering gate's own connection, auto-pipelined: the gate calls of concurrent deliveries
    // in one event-loop tick go out in one write (BullMQ's connections are left as BullMQ wants them).
    this.gateConnection = new Redis(opts.redisUrl, {
      ...FAIL_FAST,
      enableAutoPipelining: true,
      connectionName: instanceClientName(prefix, this.instance),
    });
    this.gateConnection.on('error', (err: Error) => this.log.debug({ err: err.message }, 'redis ordering-gate connection error'));
    const gate = new OrderingGate(this.gateConnection, prefix);
    this.producer = new DeliveryProducer(opts, policies, gate, this.log, hooks, prefix);
    if (opts.processor) {
      const turns = new OrderingTurns(gate, (destinationId, deliveryId) => this.producer.getJob(destinationId, deliveryId), opts, this.log);
      this.workers = new DeliveryWorkers(
        opts,
        opts.processor,
        policies,
        this.producer,
        turns,
        hooks,
        this.log,
        opts.random ?? Math.random,
        prefix,
        this.instance,
      );
    }
  }

  /** True while the producer connection is ready; enqueue() short-circuits to false otherwise. */
  isRedisUp(): boolean {
    return this.producer.isRedisUp();
  }

  /** Waits until Redis answers (for startup); false after timeoutMs. */
  ready(timeoutMs = 10_000): Promise<boolean> {
    return this.producer.ready(timeoutMs);
  }

  /** Puts a delivery on its destination queue; false (never throws) when Redis is down or slow. */
  enqueue(job: DeliveryJob): Promise<boolean> {
    return this.producer.enqueue(job);
  }

  /** What Redis knows of a delivery the store thinks unfinished; enqueues it when Redis has none. */
  resubmit(job: DeliveryJob): Promise<ResubmitResult> {
    return this.producer.resubmit(job);
  }

  /** Operator requeue of a dead letter, with a full set of attempts, at its place in line. */
  requeueDead(job: DeliveryJob): Promise<boolean> {
    return this.producer.requeueDead(job);
  }

  /**
   * At start: deliveries a crashed gateway had in flight go back to their queues now instead of
   * after their locks lapse, releasing their patients' lines. Returns how many; 0 when Redis does
   * not list its clients (then BullMQ's stalled check does it, as before).
   */
  async reclaimFromStoppedGateways(): Promise<number> {
    if (!this.workers) return 0;
    const live = await liveInstances(this.gateConnection, this.prefix);
    return live ? this.workers.reclaimDeadOwners(this.gateConnection, live) : 0;
  }

  /** Queue depth for metrics. Throws when Redis is down (metrics should show "unknown"). */
  depth(destinationId: string): Promise<QueueDepth> {
    return this.producer.depth(destinationId);
  }

  destinationIds(): string[] {
    return this.producer.destinationIds();
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
    this.producer.beginClose();
    const workersClosed = (await this.workers?.close(this.opts.closeTimeoutMs ?? 15_000)) ?? true;
    if (!workersClosed) this.log.warn({}, 'delivery workers did not close in time; disconnecting anyway');
    await this.producer.close();
    this.gateConnection.disconnect();
    this.workers?.disconnect();
  }
}
