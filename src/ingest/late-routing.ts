import type { Logger } from '../observability/log.js';
import type { ResolvedUnmatched, RosterStore } from '../roster/store-types.js';
import type { InboundInput, MessageRaw, MessageRecord, MessageStore } from '../store/types.js';
import type { MessageOwner, Pipeline } from './pipeline.js';

// Late routing: an ADT event whose patient matched no roster member was stored "unmatched"; once a
// member file makes it matchable, the roster marks it resolved and the event goes to the member's
// attributed partners (only them: fixed routes had it the first time).
//
// Crash safety: the resolution (roster) and the routing (message store) cannot share a
// transaction, so the roster keeps a resolved event pending (routed_at null) until its routing is
// stored, and every path (the intake after an import, the same file seen again, the recovery
// sweep) routes what is pending. Exactly once: the routing is ONE stored message per original
// event (dedupe key `roster-late|<original id>`, not createReplay, which makes a new message per
// call). A second attempt finds the first one's message: still `received` (a crash before its
// commit) → finished, with the store's guarded commit letting one run create the deliveries;
// otherwise already done. The event is flagged routed only after that.

/** How late-routing messages are stored, and how the pipeline finds their owner on recovery. */
export const LATE_ROUTING_SOURCE = { sourceKind: 'replay', sourceName: 'roster' } as const;

const KEY_PREFIX = 'roster-late|';
const PAGE = 500;
/** Events routed per recovery pass (a backlog drains over the following passes). */
const RECOVER_BATCH = 1000;

export interface LateRoutingDeps {
  store: Pick<MessageStore, 'acceptInbound' | 'getMessage' | 'getMessageRaw'>;
  roster: Pick<RosterStore, 'unroutedResolved' | 'markUnmatchedRouted'>;
  pipeline: Pick<Pipeline, 'convertAndRoute'>;
  log: Logger;
}

export class LateRouting implements MessageOwner {
  /** One run per original message at a time in this process (intakes and the sweep may all ask). */
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(private readonly deps: LateRoutingDeps) {}

  /**
   * Routes every resolved event still pending: the ones the import just resolved, and any a crash
   * left behind. Throws on the first failure (the caller retries; what was routed stays routed).
   */
  async routePending(): Promise<number> {
    let routed = 0;
    for await (const page of this.pendingPages(new Date(), Infinity)) {
      for (const event of page) await this.routeOnce(event);
      routed += await this.deps.roster.markUnmatchedRouted(page.map((e) => e.id));
    }
    if (routed) this.deps.log.info({ events: routed }, 'resolved unmatched events routed to attributed partners');
    return routed;
  }

  /** Recovery: events resolved at or before `olderThan` whose routing a crash cut off. */
  async recover(olderThan: Date): Promise<number> {
    let routed = 0;
    for await (const page of this.pendingPages(olderThan, RECOVER_BATCH)) {
      const done: string[] = [];
      for (const event of page) {
        try {
          await this.routeOnce(event);
          done.push(event.id);
        } catch (e) {
          this.deps.log.warn({ messageId: event.messageId, err: (e as Error).message }, 'late routing not resumed; retried on the next sweep');
        }
      }
      routed += await this.deps.roster.markUnmatchedRouted(done);
    }
    if (routed) this.deps.log.info({ events: routed }, 'late routing resumed after a crash');
    return routed;
  }

  /** Recovery: a late-routing message still `received` (a crash before its commit). */
  async complete(messageId: string, stored: MessageRaw): Promise<void> {
    const detail = await this.deps.store.getMessage(messageId);
    const originalId = detail?.dedupeKey.startsWith(KEY_PREFIX) ? detail.dedupeKey.slice(KEY_PREFIX.length) : undefined;
    // The original pruned meanwhile: routed under this message's own source name (rules naming sources miss it).
    const original = originalId ? await this.deps.store.getMessageRaw(originalId) : null;
    await this.once(originalId ?? messageId, () => this.finish(messageId, stored, original?.sourceName));
  }

  /** The event's routing stored once, whoever asks and however often; does not flag the event. */
  private routeOnce(event: ResolvedUnmatched): Promise<void> {
    return this.once(event.messageId, async () => {
      const original = await this.deps.store.getMessage(event.messageId);
      if (!original) {
        // Retention pruned it: there is nothing left to send.
        this.deps.log.warn({ messageId: event.messageId }, 'resolved unmatched event not routed: its message is gone');
        return;
      }
      const [late] = await this.deps.store.acceptInbound([lateMessage(original)]);
      // A duplicate not `received` any more was routed before (or failed conversion, which a replay redoes).
      if (late.status !== 'received') return;
      const stored = await this.deps.store.getMessageRaw(late.id);
      if (stored) await this.finish(late.id, stored, original.sourceName);
    });
  }

  private async finish(messageId: string, stored: MessageRaw, routeAs: string | undefined): Promise<void> {
    if (stored.status !== 'received') return;
    await this.deps.pipeline.convertAndRoute(messageId, stored, { attributedOnly: true, routeAs });
  }

  private once(key: string, work: () => Promise<void>): Promise<void> {
    let running = this.inFlight.get(key);
    if (!running) {
      running = work().finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, running);
    }
    return running;
  }

  /** Pages of pending events in id order, at most `max` in all. */
  private async *pendingPages(resolvedBefore: Date, max: number): AsyncGenerator<ResolvedUnmatched[]> {
    let after: string | undefined;
    let seen = 0;
    while (seen < max) {
      const page = await this.deps.roster.unroutedResolved({ resolvedBefore, after, limit: Math.min(PAGE, max - seen) });
      if (page.length === 0) return;
      yield page;
      seen += page.length;
      after = page[page.length - 1].id;
    }
  }
}

/** The original event again, as the one stored late routing of it (same bytes, origin and identifiers). */
function lateMessage(original: MessageRecord): InboundInput {
  return {
    ...LATE_ROUTING_SOURCE,
    partnerId: original.partnerId,
    sender: original.sender,
    controlId: original.controlId,
    messageType: original.messageType,
    triggerEvent: original.triggerEvent,
    version: original.version,
    dedupeKey: `${KEY_PREFIX}${original.id}`,
    contentHash: original.contentHash,
    raw: original.raw,
    identifiers: original.identifiers,
  };
}
