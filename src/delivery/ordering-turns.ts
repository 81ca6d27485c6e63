// Turn-taking in a patient's line, on top of the ordering gate's Redis primitives: whether a job may
// be sent now or is parked, heads of line that finished without leaving it or whose job is gone,
// and waking the next job in line when one finishes.
import type { Job } from 'bullmq';
import type { OrderingGate } from './ordering-gate.js';
import { errorText, type DeliveryQueuesOptions, type QueuedDelivery } from './queue-types.js';
import type { DeliveryJob, DeliveryLogger, DeliveryOutcome } from './types.js';

/** How the turns see the queues: a delivery's job, if Redis still has it. */
export type JobLookup = (destinationId: string, deliveryId: string) => Promise<Job<QueuedDelivery, DeliveryOutcome> | undefined>;

export class OrderingTurns {
  private readonly orphanSince = new Map<string, number>();

  constructor(
    private readonly gate: OrderingGate,
    private readonly getJob: JobLookup,
    private readonly opts: Pick<DeliveryQueuesOptions, 'gatePollMs' | 'orphanHeadMs' | 'hasPendingPredecessor'>,
    private readonly log: DeliveryLogger,
  ) {}

  /** How long a job that is not first in line is parked. */
  get parkMs(): number {
    return this.opts.gatePollMs ?? 2_000;
  }

  /** 0 when the job may be sent now, else how long to park it. */
  async waitForTurn(destinationId: string, job: DeliveryJob): Promise<number> {
    const parkMs = this.parkMs;
    for (let round = 0; round < 5; round++) {
      const head = await this.gate.admitAndHead(job);
      if (head === null || head === job.deliveryId) {
        if (this.opts.hasPendingPredecessor && (await this.opts.hasPendingPredecessor(job))) return parkMs;
        return 0;
      }
      const headJob = await this.getJob(destinationId, head);
      const state = headJob ? await headJob.getState() : 'unknown';
      if (state === 'completed' || state === 'failed') {
        // Finished without releasing its turn (e.g. Redis failed at that moment): drop it.
        await this.gate.release(job, head);
        continue;
      }
      if (state === 'unknown' && this.isOrphanHead(destinationId, head)) {
        this.log.warn({ destinationId, deliveryId: head }, 'dropping head of line with no job');
        await this.gate.release(job, head);
        continue;
      }
      return parkMs;
    }
    return parkMs;
  }

  /** Leaves the line and wakes the next delivery of the patient if it is parked. */
  async releaseTurn(destinationId: string, job: DeliveryJob): Promise<void> {
    const next = await this.gate.release(job, job.deliveryId);
    if (!next) return;
    try {
      const nextJob = await this.getJob(destinationId, next);
      if (nextJob && (await nextJob.getState()) === 'delayed') await nextJob.promote();
    } catch (err) {
      // Only latency: the parked job comes back after gatePollMs anyway.
      this.log.debug({ destinationId, err: errorText(err) }, 'could not promote next in line');
    }
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
}
