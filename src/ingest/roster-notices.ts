import type { GatewayConfig } from '../config/types.js';
import { renderFor } from '../delivery/deliverers/registry.js';
import type { Logger } from '../observability/log.js';
import { memberAsPatient } from '../roster/fhir-patient.js';
import type { DiffEvent, RosterStore } from '../roster/store-types.js';
import type { DeliveryInput, MessageRaw } from '../store/types.js';
import type { InboundEntry, InboundWriterPort } from './inbound.js';
import type { MessageOwner, Pipeline } from './pipeline.js';
import { SingleFlight } from './single-flight.js';

// Roster assignment notices: newly assigned members (a new member, or a new CP/ACO assignment)
// go, as a FHIR Patient, to the receiving partner's `destinations.members`. One stored message per
// import carries the deliveries (lineage, retries, dead letters like every other delivery).
//
// Crash safety: the notices of an import are a pure function of its unflagged diff events, the
// members and the config, so they can be derived again at any point. Events are flagged notified
// only after the import's message was committed, so until then they are all still unflagged, and
// every path (the live intake, the same file seen again, the recovery sweep) re-derives and
// finishes the same message (one dedupe key per import); the store's guarded completion lets only
// one of them create the deliveries.

/** How the notice messages are stored, and how the pipeline finds their owner on recovery. */
export const ROSTER_NOTICE_SOURCE = { sourceKind: 'sftp', sourceName: 'roster' } as const;

const PAGE = 500;
const MARK_BATCH = 1000;
/** Imports resumed per recovery pass (a backlog drains over the following passes). */
const RECOVER_BATCH = 100;

export interface RosterNoticeDeps {
  config: Pick<GatewayConfig, 'partners' | 'destinations'>;
  /** The inbox's writer: the notice message is stored with the roster-notice dedupe key. */
  inbound: InboundWriterPort;
  roster: Pick<RosterStore, 'listDiffEvents' | 'getMember' | 'markDiffEventsNotified' | 'importsAwaitingNotice'>;
  pipeline: Pick<Pipeline, 'commit'>;
  log: Logger;
}

export class RosterNotices implements MessageOwner {
  private readonly destinationTypes: ReadonlyMap<string, string>;
  /** One run per import at a time in this process (the intake and the sweep may both ask). */
  private readonly inFlight = new SingleFlight<void>();

  constructor(private readonly deps: RosterNoticeDeps) {
    this.destinationTypes = new Map(deps.config.destinations.map((d) => [d.id, d.type]));
  }

  /** Sends the import's notices unless that was done already; safe to call any number of times. */
  notify(importId: string): Promise<void> {
    return this.inFlight.run(importId, () => this.run(importId));
  }

  /**
   * A notice message still `received`: the import's own (a crash before its commit), or an
   * operator's replay of it, which sends every notice of the import again from the members as
   * they are now (the events' notified flags belong to the original and stay as they are).
   */
  async complete(messageId: string, stored: MessageRaw, originId: string): Promise<void> {
    const importId = importIdOf(stored.raw);
    if (!importId) {
      await this.deps.pipeline.commit(messageId, { status: 'failed', statusReason: 'roster notice without an import id' });
      return;
    }
    if (originId !== messageId) {
      const deliveries = await this.deliveriesFor(await this.events(importId, undefined));
      await this.deps.pipeline.commit(messageId, { status: 'processed', deliveries });
      return;
    }
    await this.inFlight.run(importId, () => this.run(importId, messageId));
  }

  /** Recovery: applied imports whose notices a crash cut off before their message was stored. */
  async recover(olderThan: Date): Promise<number> {
    const ids = await this.deps.roster.importsAwaitingNotice({ finishedBefore: olderThan, limit: RECOVER_BATCH });
    let done = 0;
    for (const importId of ids) {
      try {
        await this.notify(importId);
        done++;
      } catch (e) {
        this.deps.log.warn({ importId, err: (e as Error).message }, 'roster notices not resumed; retried on the next sweep');
      }
    }
    if (done) this.deps.log.info({ imports: done }, 'roster notices resumed after a crash');
    return done;
  }

  /** `pendingMessage`: the notice message known to be `received`, completed even if nothing is left to send. */
  private async run(importId: string, pendingMessage?: string): Promise<void> {
    const events = await this.events(importId, false);
    // Nothing unflagged and no message waiting: sent before, or there was nothing to send.
    if (events.length === 0 && !pendingMessage) return;
    const deliveries = await this.deliveriesFor(events);
    let messageId = pendingMessage;
    if (!messageId && deliveries.length > 0) {
      const stored = await this.deps.inbound.write(noticeMessage(importId));
      // A duplicate still `received` is this import's notice left unfinished by a crash: finish it.
      if (stored.status === 'received') messageId = stored.id;
    }
    // Guarded in the store: if another run committed it first, this one creates nothing.
    if (messageId) await this.deps.pipeline.commit(messageId, { status: 'processed', deliveries });
    // Only now: a crash before this leaves them unflagged, so the same notice is derived again. In
    // batches: a crash between two leaves a committed message, which the next run does not redo.
    const ids = events.map((e) => e.id);
    for (let i = 0; i < ids.length; i += MARK_BATCH) await this.deps.roster.markDiffEventsNotified(ids.slice(i, i + MARK_BATCH));
  }

  /** The import's diff events; `notified: false` only the unflagged ones, undefined all. */
  private async events(importId: string, notified: false | undefined): Promise<DiffEvent[]> {
    const events: DiffEvent[] = [];
    let cursor: string | null = null;
    do {
      const page = await this.deps.roster.listDiffEvents({ importId, notified, limit: PAGE, cursor: cursor ?? undefined });
      events.push(...page.items);
      cursor = page.next;
    } while (cursor);
    return events;
  }

  /** One delivery per newly assigned member and receiving partner that declares a members destination. */
  private async deliveriesFor(events: readonly DiffEvent[]): Promise<DeliveryInput[]> {
    const deliveries: DeliveryInput[] = [];
    for (const e of events) {
      if (e.kind === 'terminated') continue;
      const detail = e.detail as { cp?: { to?: string | null }; aco?: { to?: string | null } };
      const targets = new Set<string>();
      if (detail.cp?.to) targets.add(detail.cp.to);
      if (detail.aco?.to) targets.add(detail.aco.to);
      if (targets.size === 0) continue;
      const member = await this.deps.roster.getMember(e.memberId);
      if (!member) continue;
      const patient = memberAsPatient(member);
      for (const partner of targets) {
        const destination = this.deps.config.partners[partner]?.destinations.members;
        if (!destination) continue;
        // Shaped by the destination's type (a FHIR server gets a conditional-update transaction); none if it takes no notices.
        const payload = renderFor(this.destinationTypes.get(destination), { kind: 'roster-notice', patient });
        if (typeof payload === 'string') deliveries.push({ destination, patientKey: e.memberId, payload });
      }
    }
    return deliveries;
  }
}

function noticeMessage(importId: string): InboundEntry {
  const raw = Buffer.from(JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'rosterImport', valueString: importId }] }));
  return {
    kind: 'roster-notice',
    key: { importId },
    input: { ...ROSTER_NOTICE_SOURCE, messageType: 'ROSTER', triggerEvent: 'assignments', controlId: importId, raw },
  };
}

/** The import id a stored notice message names (undefined when it names none). */
function importIdOf(raw: Buffer): string | undefined {
  try {
    const body = JSON.parse(raw.toString('utf8')) as { parameter?: { name?: string; valueString?: unknown }[] };
    const value = body.parameter?.find((p) => p.name === 'rosterImport')?.valueString;
    return typeof value === 'string' && value ? value : undefined;
  } catch {
    return undefined;
  }
}
