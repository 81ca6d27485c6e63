import type { Outbox } from '../delivery/outbox.js';
import type { Logger } from '../observability/log.js';
import type { MessageStore } from '../store/types.js';
import type { Pipeline } from './pipeline.js';

export interface RecoveryStats {
  /** Owner work resumed before its message was finished (roster imports awaiting notices, resolved events awaiting routing). */
  owned: number;
  messages: number;
  deliveries: number;
  reconciled: number;
  redisDown: boolean;
}

/**
 * The periodic pass leaves a delivery to its queue until it has gone this long without a write
 * (created, attempted, requeued). Under load thousands are pending in Redis; asking Redis about each
 * every 30 s cost a round trip apiece and raced the attempt results in flight (a 20k-message bench
 * saw ~8,000 reconciliations that changed nothing). A lost job is still found: here within a minute,
 * at once when Redis comes back, and at start.
 */
export const DELIVERY_IDLE_MS = 60_000;

/**
 * The outbox pattern's safety net: everything the store holds as unfinished is brought back
 * into motion. Runs at start (after a crash), when Redis comes back, and periodically.
 * Safe to race with live processing: completion is guarded in the store and job ids dedupe.
 */
export class RecoverySweep {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RecoveryStats> | undefined;
  private runningMinAge = 0;

  constructor(
    private readonly store: MessageStore,
    private readonly pipeline: Pipeline,
    private readonly outbox: Outbox,
    private readonly log: Logger,
  ) {}

  /**
   * One pass; concurrent calls share the pass in progress. `minAgeMs` > 0 (the periodic pass) skips
   * work still in flight: messages received within it, deliveries written within DELIVERY_IDLE_MS.
   */
  run(minAgeMs = 0): Promise<RecoveryStats> {
    // A pass in progress that skips no more than this one would covers it; a full pass asked for
    // during a periodic one (Redis back) runs after it, so nothing recent is left out.
    if (this.running && this.runningMinAge <= minAgeMs) return this.running;
    const before = this.running?.catch(() => undefined);
    const pass: Promise<RecoveryStats> = (before ? before.then(() => this.pass(minAgeMs)) : this.pass(minAgeMs)).finally(() => {
      if (this.running === pass) this.running = undefined;
    });
    this.running = pass;
    this.runningMinAge = minAgeMs;
    return pass;
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.run(10_000).catch((e) => this.log.warn({ err: (e as Error).message }, 'recovery sweep failed'));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async pass(minAgeMs: number): Promise<RecoveryStats> {
    const stats: RecoveryStats = { owned: 0, messages: 0, deliveries: 0, reconciled: 0, redisDown: false };
    const now = Date.now();
    const cutoff = now - minAgeMs;
    const idleSince = minAgeMs > 0 ? now - Math.max(minAgeMs, DELIVERY_IDLE_MS) : now;
    // First: owners turn their leftover work into messages and deliveries, which the listing below
    // then also covers (a delivery they could not enqueue is pending like any other).
    stats.owned = await this.pipeline.recoverOwned(new Date(cutoff));
    let cursor: string | null = null;
    do {
      const page = await this.store.listUnfinished(500, cursor);
      for (const item of page.items) {
        if (item.kind === 'message') {
          if (item.receivedAt.getTime() > cutoff) continue;
          stats.messages++;
          await this.pipeline.reprocess(item.id);
          continue;
        }
        if (!this.outbox.isDeliverable(item.destination) || stats.redisDown || item.updatedAt.getTime() > idleSince) continue;
        stats.deliveries++;
        const r = await this.outbox.queues.resubmit({
          deliveryId: item.id,
          messageId: item.messageId,
          destinationId: item.destination,
          patientKey: item.patientKey ?? '',
          seq: item.seq,
        });
        if (r === 'redis-down') stats.redisDown = true;
        // Redis finished the job but the store missed the outcome (crash in between): catch up.
        else if (r === 'delivered') stats.reconciled += (await this.store.markDelivered(item.id)) ? 1 : 0;
        else if (r === 'dead') stats.reconciled += (await this.store.markDead(item.id, 'dead letter (reconciled from queue)')) ? 1 : 0;
      }
      cursor = page.next;
    } while (cursor);
    if (stats.owned || stats.messages || stats.deliveries) this.log.info({ ...stats }, 'recovery sweep');
    return stats;
  }
}
