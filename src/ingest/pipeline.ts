import { routingFactsOf } from '../conversion/message-facts.js';
import type { DeliveryJob } from '../delivery/types.js';
import { Hl7Message } from '../hl7v2/index.js';
import type { MappingProfile } from '../mapping/profile-schema.js';
import type { Logger } from '../observability/log.js';
import type { RosterLookup } from '../roster/types.js';
import { MEMBER_UNMATCHED, NO_ROUTE_MATCHED, type FilterKind } from '../routing/explain.js';
import { fetchPlanFacts, type RoutingReads } from '../routing/facts.js';
import {
  draftPlan,
  outcomeOf,
  planDelivery,
  planFhir,
  type DeliveryPlan,
  type PlanRequest,
  type RoutableMessage,
  type RoutingPolicy,
} from '../routing/plan.js';
import type { DeliveryInput, DeliveryRecord, MessageRaw, MessageStore, ProcessingOutcome, SourceKind } from '../store/types.js';
import { convertParsed } from './convert-message.js';
import type { AcceptedWork } from './inbox.js';
import { MicroBatcher } from './micro-batcher.js';

export type { FilterKind } from '../routing/explain.js';
export type { TransitionOfCareInput } from '../routing/plan.js';

/** The routing policy (src/routing), the roster it reads, and what the pipeline itself needs. */
export interface PipelineDeps extends RoutingPolicy {
  store: MessageStore;
  /** Absent: attributed routes deliver nothing and consent cannot be checked. */
  roster?: RosterLookup;
  profileFor(partnerId: string | undefined): MappingProfile;
  /** Hands created deliveries to the queue; false when Redis is down (the sweep retries). */
  enqueue(job: DeliveryJob): Promise<boolean>;
  log: Logger;
  onProcessed?(work: { messageId: string; receivedAt: number; deliveries: number }): void;
  /** A message stored as `filtered` (nothing to send), by reason kind: for the metric. */
  onFiltered?(work: { messageId: string; sourceName: string; kind: FilterKind }): void;
}

/**
 * What a module registered after the pipeline adds to its routing (care plans: src/careplan), so
 * that module can depend on the pipeline without the pipeline depending back on it.
 */
export interface PipelineExtension {
  /**
   * Transition of care: for a discharge of a member attributed to a CP, the CarePlan (follow-up
   * due in N business days) that goes to that CP with the discharge notification.
   */
  transitionOfCare?: RoutingReads['transitionOfCare'];
  /**
   * FHIR messages of sources whose owner decides the deliveries (care plans: src/careplan/outbound.ts)
   * instead of the route table; undefined = not such a source. Also used on recovery and replay.
   */
  fhirDeliveries?(sourceName: string, resource: { resourceType: string }): Promise<DeliveryInput[] | undefined>;
}

/**
 * The gateway's own messages whose deliveries their owner derives from its own state (roster
 * assignment notices) or routes its own way (late routing of resolved unmatched events): the
 * route table alone does not know how to finish them.
 */
export interface MessageOwner {
  /**
   * Finishes a stored message of this source still `received`: after a crash (re-derive, commit),
   * or an operator's replay of one (`originId`, the replayed message the chain started from, is
   * then not `messageId`).
   */
  complete(messageId: string, stored: MessageRaw, originId: string): Promise<void>;
  /** Work a crash left before any message was stored; run by the recovery sweep. Returns how much it resumed. */
  recover?(olderThan: Date): Promise<number>;
}

/** Replays of replays followed back this far at most (a chain is never a cycle: each link is older). */
const MAX_REPLAY_CHAIN = 64;

interface Completion {
  messageId: string;
  outcome: ProcessingOutcome;
}

/**
 * After the inbox's commit: convert → plan → commit → enqueue. The conversion is the inbox's when
 * it just accepted the message, else redone from the stored raw bytes (recovery, replay, late
 * routing); the plan is the routing stage's (src/routing); the commit records the outcome and its
 * deliveries (one transaction per batch of messages); then the pending deliveries are enqueued.
 * A crash anywhere here leaves the message `received` in the store; the recovery sweep runs it
 * again (conversion is deterministic, so are the plan and the ids).
 */
export class Pipeline {
  private readonly batcher: MicroBatcher<Completion, DeliveryRecord[] | undefined>;
  private readonly owners = new Map<string, MessageOwner>();
  private readonly extensions: PipelineExtension[] = [];

  constructor(private readonly deps: PipelineDeps) {
    this.batcher = new MicroBatcher(
      async (items) => {
        const results = await deps.store.completeProcessingBatch(items);
        return results.map((r) => (r.ok && r.result.applied ? r.result.deliveries : undefined));
      },
      500,
      3,
    );
  }

  /** Adds a later module's routing (see PipelineExtension); extensions are asked in registration order. */
  extend(extension: PipelineExtension): void {
    this.extensions.push(extension);
  }

  private async ownedDeliveries(sourceName: string, resource: { resourceType: string }): Promise<DeliveryInput[] | undefined> {
    for (const e of this.extensions) {
      const owned = await e.fhirDeliveries?.(sourceName, resource);
      if (owned) return owned;
    }
    return undefined;
  }

  /** What the routing stage reads its facts through: the roster, and the first extension planning transitions of care. */
  private reads(): RoutingReads {
    const planner = this.extensions.find((e) => e.transitionOfCare);
    return { roster: this.deps.roster, transitionOfCare: planner?.transitionOfCare?.bind(planner) };
  }

  /** Fire and forget: failures are logged and left to the recovery sweep. */
  submit(work: AcceptedWork): void {
    const { messageId } = work; // not `work` itself: the handler would keep the conversion alive until the end
    this.route(work).catch((e) => this.deps.log.warn({ messageId, err: (e as Error).message }, 'processing deferred to recovery'));
  }

  /**
   * A FHIR resource or Bundle received over HTTP: delivered as its owner decides (care plans), or
   * routed as is (src/routing/plan.ts planFhir).
   */
  async processFhir(messageId: string, sourceName: string, resource: { resourceType: string }, receivedAt: number): Promise<void> {
    const text = JSON.stringify(resource);
    const owned = await this.ownedDeliveries(sourceName, resource);
    const deliveries = owned ?? planFhir(sourceName, text, this.deps);
    await this.commit(messageId, { status: 'processed', fhir: text, deliveries }, receivedAt);
  }

  /**
   * Records a stored message's outcome and deliveries (group-committed with the others) and
   * enqueues the pending ones. For messages whose deliveries their owner decided (roster notices).
   */
  async commit(messageId: string, outcome: ProcessingOutcome, receivedAt = Date.now()): Promise<void> {
    await this.enqueue(messageId, receivedAt, await this.batcher.submit({ messageId, outcome }));
  }

  /**
   * Makes `owner` the one that finishes messages stored under this source kind and name. The kind
   * is part of the key so a configured source that happens to share the name is never taken for it.
   */
  own(source: { sourceKind: SourceKind; sourceName: string }, owner: MessageOwner): void {
    this.owners.set(ownerKey(source.sourceKind, source.sourceName), owner);
  }

  /** Every owner's recovery (the recovery sweep); one owner failing does not stop the others. */
  async recoverOwned(olderThan: Date): Promise<number> {
    let resumed = 0;
    for (const [key, owner] of this.owners) {
      if (!owner.recover) continue;
      try {
        resumed += await owner.recover(olderThan);
      } catch (e) {
        this.deps.log.warn({ owner: key, err: (e as Error).message }, 'owned work recovery failed; retried on the next sweep');
      }
    }
    return resumed;
  }

  /**
   * Re-runs conversion from the stored raw message (recovery after a crash, or a replay). A replay
   * is stored under source `replay`; it is finished as the message it replays would be: by that
   * message's owner, or routed under that message's source name (so rules naming sources match).
   */
  async reprocess(messageId: string): Promise<void> {
    const stored = await this.deps.store.getMessageRaw(messageId);
    if (!stored || stored.status !== 'received') return;
    const origin = stored.replayOf ? await this.originOf(stored.replayOf) : undefined;
    const source = origin?.stored ?? stored;
    const owner = this.owners.get(ownerKey(source.sourceKind, source.sourceName));
    if (owner) return owner.complete(messageId, stored, origin?.id ?? messageId);
    return this.convertAndRoute(messageId, stored, { routeAs: source.sourceName });
  }

  /** The first message of a replay chain (replays of replays lead back to it); undefined when pruned. */
  private async originOf(replayOf: string): Promise<{ id: string; stored: MessageRaw } | undefined> {
    let id = replayOf;
    for (let depth = 0; depth < MAX_REPLAY_CHAIN; depth++) {
      const stored = await this.deps.store.getMessageRaw(id);
      if (!stored) return undefined;
      if (!stored.replayOf) return { id, stored };
      id = stored.replayOf;
    }
    return undefined;
  }

  /**
   * Converts a stored message again and routes it (commit guarded like every other). Also for an
   * owner whose messages are events routed late (the patient just got onto the roster):
   * `attributedOnly` because fixed routes already had the original, `routeAs` the original's
   * source name so route rules match it as they would have then, `except` the destinations the
   * original's own processing already decided for (sent or withheld): never a second time.
   */
  async convertAndRoute(
    messageId: string,
    stored: MessageRaw,
    options: { attributedOnly?: boolean; routeAs?: string; except?: ReadonlySet<string> } = {},
  ): Promise<void> {
    const sourceName = options.routeAs ?? stored.sourceName;
    const receivedAt = stored.receivedAt.getTime();
    const resource = fhirResourceOf(stored.raw);
    if (resource) return this.processFhir(messageId, sourceName, resource, receivedAt);
    const converted = this.convert(stored);
    if ('failure' in converted) {
      // Mappings changed since it was accepted (or a replay of a bad message): keep it, marked failed.
      await this.batcher.submit({ messageId, outcome: { status: 'failed', statusReason: converted.failure ?? 'conversion failed' } });
      return;
    }
    return this.route({ ...converted, messageId, sourceName, receivedAt, attributedOnly: options.attributedOnly, except: options.except });
  }

  /** convert: the stored HL7 v2 message again, as the inbox did when it accepted it. */
  private convert(stored: MessageRaw): RoutableMessage | { failure: string | undefined } {
    try {
      const msg = Hl7Message.parse(stored.raw);
      const partnerId = stored.partnerId ?? undefined;
      const r = convertParsed(msg, this.deps.profileFor(partnerId));
      if (r.ok) return { facts: r.conversion, conversion: r.conversion, partnerId };
      // Accepted without a conversion (as when it arrived): passthrough routes may still take it.
      if (r.kind === 'unsupported') return { facts: routingFactsOf(msg), unconverted: r.reason, partnerId };
      return { failure: r.reason };
    } catch (e) {
      return { failure: (e as Error).message };
    }
  }

  /**
   * A converted message: plan → commit → enqueue. Only the plan (text and ids) is kept past
   * planning: the conversion's few hundred objects become garbage before the commit waits on the
   * disk, instead of living through it and the enqueue into the old generation.
   */
  private route(request: PlanRequest): Promise<void> {
    const { messageId, sourceName, receivedAt } = request;
    return this.plan(request).then(async (plan) => {
      const created = await this.commitPlan(messageId, sourceName, plan);
      await this.enqueue(messageId, receivedAt, created);
    });
  }

  /** plan: the routing stage, its facts fetched first (roster, consents, care plans), then the pure plan. */
  private async plan(request: PlanRequest): Promise<DeliveryPlan> {
    const draft = draftPlan(request, this.deps);
    const plan = planDelivery(draft, this.deps, await fetchPlanFacts(draft, this.deps, this.reads()));
    for (const p of plan.partnersWithoutAdt) {
      this.deps.log.warn(
        { messageId: request.messageId, partnerId: p.partnerId, route: p.routeId },
        'attributed partner declares no adt destination',
      );
    }
    return plan;
  }

  /**
   * commit: an unmatched event first (the roster, a store of its own: late-routing.ts relies on it
   * being written before the message leaves `received`), then the outcome and deliveries in the
   * batch's transaction. Undefined when another run finished the message first.
   */
  private async commitPlan(messageId: string, sourceName: string, plan: DeliveryPlan): Promise<DeliveryRecord[] | undefined> {
    if (plan.unmatchedEvent) await this.deps.roster?.recordUnmatched(plan.unmatchedEvent);
    const created = await this.batcher.submit({ messageId, outcome: outcomeOf(plan) });
    if (plan.filtered && created) {
      this.deps.onFiltered?.({ messageId, sourceName, kind: plan.filtered.kind });
      this.deps.log.info({ messageId, reason: plan.filtered.reason }, 'not routed');
    } else if (created) logRouted(this.deps.log, messageId, plan.deliveries, plan.unmatched);
    return created;
  }

  /** enqueue: the created deliveries that are pending go to their destination's queue. */
  private async enqueue(messageId: string, receivedAt: number, created: DeliveryRecord[] | undefined): Promise<void> {
    if (!created) return; // someone else finished it (recovery race) or it vanished
    this.deps.onProcessed?.({ messageId, receivedAt, deliveries: created.length });
    for (const d of created) {
      if (d.status !== 'pending') continue;
      await this.deps.enqueue({ deliveryId: d.id, messageId, destinationId: d.destination, patientKey: d.patientKey ?? '', seq: d.seq });
    }
  }
}

/** A stored FHIR resource (JSON with a resourceType), or undefined for anything else (HL7 v2). */
function fhirResourceOf(raw: Buffer): { resourceType: string } | undefined {
  if (raw[0] !== 0x7b /* '{' */) return undefined;
  try {
    const resource = JSON.parse(raw.toString('utf8')) as { resourceType?: string };
    return resource?.resourceType ? (resource as { resourceType: string }) : undefined;
  } catch {
    return undefined; // not JSON after all: converted as HL7 v2 (and fails there, with its reason)
  }
}

/**
 * The `routed` step of a message's life: one info line, ids only (no patient data). Withheld
 * destinations are named with their partner; the reasons are in the message detail.
 */
function logRouted(log: Logger, messageId: string, deliveries: readonly DeliveryInput[], unmatched: boolean): void {
  if (deliveries.length === 0) {
    log.info({ messageId, reason: unmatched ? MEMBER_UNMATCHED : NO_ROUTE_MATCHED }, 'not routed');
    return;
  }
  const routes = [...new Set(deliveries.map((d) => d.routeId).filter(Boolean))];
  const to = deliveries.filter((d) => d.status !== 'withheld').map((d) => d.destination);
  const withheld = deliveries.filter((d) => d.status === 'withheld').map((d) => d.destination);
  log.info(
    { messageId, routes, destinations: to, ...(withheld.length ? { withheld } : {}), ...(unmatched ? { unmatched } : {}) },
    'routed',
  );
}

function ownerKey(kind: SourceKind, name: string): string {
  return `${kind}|${name}`;
}
