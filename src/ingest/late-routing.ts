import type { Logger } from '../observability/log.js';
import type { ResolvedUnmatched, RosterStore } from '../roster/store-types.js';
import type { InboundInput, MessageDetail, MessageRaw, MessageRecord, MessageStore } from '../store/types.js';
import { inboundInput, lateRoutingOriginal, type InboundEntry, type InboundWriterPort } from './inbound.js';
import type { MessageOwner, Pipeline } from './pipeline.js';
import { SingleFlight } from './single-flight.js';

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
//
// The original itself may still be `received` when its event is resolved: the pipeline records
// the unmatched row BEFORE the original's commit (it learns "no member" while routing it), so a
// crash in between leaves both, and the sweep's reprocessing of the original, now finding the
// member, routes it to the attributed CP itself. Two paths could then reach the CP. Rule: the late
// routing waits for the original to leave `received` (the event stays pending, retried by the
// sweep), then routes only to destinations the original's committed deliveries do not name. The
// original's status change is the guard: it is committed once (completion only from `received`)
// and its deliveries with it, so once seen processed they are final, whichever process finishes
// it, and exactly one of the two paths reaches each destination. Nothing is lost: an original
// that committed without the member (looked up before the import) names no CP, so the late
// routing sends it. Not chosen: writing the unmatched row in the original's commit (roster and
// message store are separate stores), or having the original skip attributed routes when an
// unmatched row exists (a concurrent first processing can write that row after the check).

/** How late-routing messages are stored, and how the pipeline finds their owner on recovery. */
export const LATE_ROUTING_SOURCE = { sourceKind: 'replay', sourceName: 'roster' } as const;

const PAGE = 500;
/** Events routed per recovery pass (a backlog drains over the following passes). */
const RECOVER_BATCH = 1000;

export interface LateRoutingDeps {
  store: Pick<MessageStore, 'getMessage' | 'getMessageRaw'>;
  /** The inbox's writer: the late routing is stored with the late-routing dedupe key. */
  inbound: InboundWriterPort;
  roster: Pick<RosterStore, 'unroutedResolved' | 'markUnmatchedRouted'>;
  pipeline: Pick<Pipeline, 'convertAndRoute'>;
  log: Logger;
}

export class LateRouting implements MessageOwner {
  /** One run per original message at a time in this process (intakes and the sweep may all ask). */
  private readonly inFlight = new SingleFlight<boolean>();

  constructor(private readonly deps: LateRoutingDeps) {}

  /**
   * Routes every resolved event still pending: the ones the import just resolved, and any a crash
   * left behind. Throws on the first failure (the caller retries; what was routed stays routed).
   */
  async routePending(): Promise<number> {
    let routed = 0;
    let waiting = 0;
    for await (const page of this.pendingPages(new Date(), Infinity)) {
      const done: string[] = [];
      for (const event of page) {
        if (await this.routeOnce(event)) done.push(event.id);
        else waiting++;
      }
      routed += await this.deps.roster.markUnmatchedRouted(done);
    }
    if (routed) this.deps.log.info({ events: routed }, 'resolved unmatched events routed to attributed partners');
    if (waiting)
      this.deps.log.info(
        { events: waiting },
        'late routing waits for original messages still in processing; the recovery sweep routes them',
      );
    return routed;
  }

  /** Recovery: events resolved at or before `olderThan` whose routing a crash cut off (or that waited for their original). */
  async recover(olderThan: Date): Promise<number> {
    let routed = 0;
    for await (const page of this.pendingPages(olderThan, RECOVER_BATCH)) {
      const done: string[] = [];
      for (const event of page) {
        try {
          if (await this.routeOnce(event)) done.push(event.id);
        } catch (e) {
          this.deps.log.warn(
            { messageId: event.messageId, err: (e as Error).message },
            'late routing not resumed; retried on the next sweep',
          );
        }
      }
      routed += await this.deps.roster.markUnmatchedRouted(done);
    }
    if (routed) this.deps.log.info({ events: routed }, 'late routing resumed after a crash');
    return routed;
  }

  /**
   * A late-routing message still `received` (a crash before its commit), or an operator's replay
   * of one: sent where the late routing sends (attributed routes its original's processing did
   * not reach). While the original is `received` too (stored so by an earlier release) it stays as
   * it is: the sweep comes back to it after the original's own processing.
   */
  async complete(messageId: string, stored: MessageRaw, originId: string): Promise<void> {
    // An operator's replay of a late routing is finished like that late routing (same original).
    const detail = await this.deps.store.getMessage(originId);
    const originalId = detail ? lateRoutingOriginal(detail.dedupeKey) : undefined;
    const finish = async () => {
      // The original pruned meanwhile: routed under this message's own source name (rules naming sources miss it).
      const original = originalId ? await this.deps.store.getMessage(originalId) : null;
      return this.finish(messageId, stored, original);
    };
    // A replay is a message of its own: never folded into a run finishing the late routing itself.
    await (originId === messageId ? this.inFlight.run(originalId ?? messageId, finish) : finish());
  }

  /**
   * The event's routing stored once, whoever asks and however often; does not flag the event.
   * False: not now, its original is still being processed (the event stays pending).
   */
  private routeOnce(event: ResolvedUnmatched): Promise<boolean> {
    return this.inFlight.run(event.messageId, async () => {
      const original = await this.deps.store.getMessage(event.messageId);
      if (!original) {
        // Retention pruned it: there is nothing left to send.
        this.deps.log.warn({ messageId: event.messageId }, 'resolved unmatched event not routed: its message is gone');
        return true;
      }
      // Checked before storing the routing message, so a `received` routing message is rare (earlier releases).
      if (original.status === 'received') return false;
      const late = await this.deps.inbound.write(lateEntry(original));
      // A duplicate not `received` any more was routed before (or failed conversion, which a replay redoes).
      if (late.status !== 'received') return true;
      const stored = await this.deps.store.getMessageRaw(late.id);
      return stored ? this.finish(late.id, stored, original) : true;
    });
  }

  /** Routes a stored late-routing message to what its original's processing left out; false while the original is `received`. */
  private async finish(messageId: string, stored: MessageRaw, original: MessageDetail | null): Promise<boolean> {
    if (stored.status !== 'received') return true;
    if (original?.status === 'received') return false;
    // Read with the status that made them final (getMessage reads the message row first).
    const except = new Set(original?.deliveries.map((d) => d.destination));
    await this.deps.pipeline.convertAndRoute(messageId, stored, { attributedOnly: true, routeAs: original?.sourceName, except });
    return true;
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
export function lateEntry(original: MessageRecord): InboundEntry {
  return {
    kind: 'late-routing',
    key: { originalId: original.id },
    input: {
      ...LATE_ROUTING_SOURCE,
      partnerId: original.partnerId,
      sender: original.sender,
      controlId: original.controlId,
      messageType: original.messageType,
      triggerEvent: original.triggerEvent,
      version: original.version,
      contentHash: original.contentHash,
      raw: original.raw,
      identifiers: original.identifiers,
    },
  };
}

/** The stored row of `lateEntry` (tests write it directly to play an earlier release). */
export function lateMessage(original: MessageRecord): InboundInput {
  return inboundInput(lateEntry(original));
}
