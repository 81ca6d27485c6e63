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
 * The outbox pattern's safety net: everything the store holds as unfinished is brought back
 * into motion. Runs at start (after a crash), when Redis comes back, and periodically.
 * Safe to race with live processing: completion is guarded in the store and job ids dedupe.
 */
export class RecoverySweep {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RecoveryStats> | undefined;

  constructor(
    private readonly store: MessageStore,
    private readonly pipeline: Pipeline,
    private readonly outbox: Outbox,
    private readonly log: Logger,
  ) {}

  /** One pass; concurrent calls share the pass in progress. `minAgeMs` skips work still in flight. */
  run(minAgeMs = 0): Promise<RecoveryStats> {
    this.running ??= this.pass(minAgeMs).finally(() => (this.running = undefined));
    return this.running;
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
    const cutoff = Date.now() - minAgeMs;
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
        if (!this.outbox.isDeliverable(item.destination) || stats.redisDown) continue;
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
