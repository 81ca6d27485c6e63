/**
 * Per-patient ordering on one destination: "a later message for a patient never reaches a
 * destination before an earlier one", with concurrency > 1 and retries in between.
 *
 * BullMQ (open source) has no job groups, so we keep, per (destination, patient), a Redis sorted
 * set of unfinished deliveries scored by their store sequence. Only the lowest entry (the head)
 * may be sent; others are parked (moved to delayed) and promoted when the head finishes.
 * The entry is added before the job (so a job never runs unannounced) and removed only after the
 * outcome is recorded, delivered or dead. A dead letter releases the line: later messages flow on,
 * and a requeued dead letter is delivered late; holding every later ADT event of a patient
 * hostage to one bad message would be worse for care coordination.
 *
 * Keys hash the patient key: Redis keys show up in monitoring tools and must not carry MRNs.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { DeliveryJob } from './types.js';

// One script call instead of a MULTI of two commands: one command for Redis to run and for ioredis
// to frame and parse. Atomic like the MULTI was (a script runs alone).
const ADMIT_AND_HEAD = `redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[2])
return redis.call('ZRANGE', KEYS[1], 0, 0)[1] or false`;
const RELEASE = `redis.call('ZREM', KEYS[1], ARGV[1])
return redis.call('ZRANGE', KEYS[1], 0, 0)[1] or false`;

interface GateCommands {
  gateAdmitAndHead(key: string, seq: number, deliveryId: string): Promise<string | null>;
  gateRelease(key: string, deliveryId: string): Promise<string | null>;
}

export class OrderingGate {
  private readonly scripts: GateCommands;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {
    redis.defineCommand('gateAdmitAndHead', { numberOfKeys: 1, lua: ADMIT_AND_HEAD });
    redis.defineCommand('gateRelease', { numberOfKeys: 1, lua: RELEASE });
    this.scripts = redis as unknown as GateCommands;
  }

  key(job: Pick<DeliveryJob, 'destinationId' | 'patientKey'>): string {
    const digest = createHash('sha256').update(job.patientKey).digest('hex').slice(0, 32);
    return `${this.keyPrefix}:order:${job.destinationId}:${digest}`;
  }

  /** Announces a delivery in its patient's line. Idempotent (NX keeps the first score). */
  async admit(job: DeliveryJob): Promise<void> {
    await this.redis.zadd(this.key(job), 'NX', job.seq, job.deliveryId);
  }

  /** Re-announces `job` (in case the entry was lost) and returns the current head of its line. */
  async admitAndHead(job: DeliveryJob): Promise<string | null> {
    return this.scripts.gateAdmitAndHead(this.key(job), job.seq, job.deliveryId);
  }

  /** Removes a finished delivery (ours, or a stale head) and returns the new head, if any. */
  async release(job: Pick<DeliveryJob, 'destinationId' | 'patientKey'>, deliveryId: string): Promise<string | null> {
    return this.scripts.gateRelease(this.key(job), deliveryId);
  }
}
