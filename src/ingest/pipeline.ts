import type { Encounter, Patient, Resource } from 'fhir/r4';
import { routingFactsOf } from '../conversion/message-facts.js';
import type { Conversion } from '../conversion/types.js';
import { davinciNotification, payloadKindFor } from '../delivery/payloads.js';
import type { DeliveryJob } from '../delivery/types.js';
import { Hl7Message } from '../hl7v2/index.js';
import type { MappingProfile } from '../mapping/profile-schema.js';
import type { Logger } from '../observability/log.js';
import type { RosterLookup } from '../roster/types.js';
import { MEMBER_UNMATCHED, NO_ROUTE_MATCHED, routingReason } from '../routing/explain.js';
import type { RouteDecision, RouteFacts, Router } from '../routing/router.js';
import { applySecurityLabels, securityLabels, sensitivityOf, type SensitivityPolicy } from '../routing/sensitivity.js';
import type { DeliveryInput, DeliveryRecord, MessageRaw, MessageStore, ProcessingOutcome, SourceKind } from '../store/types.js';
import { convertParsed } from './convert-message.js';
import type { AcceptedWork, RoutableMessage } from './inbox.js';
import { MicroBatcher } from './micro-batcher.js';

export interface PipelineDeps {
  store: MessageStore;
  router: Router;
  /** Destination id → type (webhook, fhir, fhir-messaging, mllp, sftp) and owning partner. */
  destinationTypes: ReadonlyMap<string, string>;
  destinationPartners?: ReadonlyMap<string, string>;
  /** Partner id → its ADT destination (for routes to "the member's attributed CP/ACO"). */
  partnerAdtDestination?(partnerId: string): string | undefined;
  /** Absent: attributed routes deliver nothing and consent cannot be checked. */
  roster?: RosterLookup;
  sensitivity?: SensitivityPolicy;
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
  transitionOfCare?(input: TransitionOfCareInput): Promise<Resource | undefined>;
  /**
   * FHIR messages of sources whose owner decides the deliveries (care plans: src/careplan/outbound.ts)
   * instead of the route table; undefined = not such a source. Also used on recovery and replay.
   */
  fhirDeliveries?(sourceName: string, resource: { resourceType: string }): Promise<DeliveryInput[] | undefined>;
}

/** Why nothing was sent: no adapter converted it, no route took it, the member is not on the roster, or no matched destination takes it. */
export type FilterKind = 'no-converter' | 'no-route' | 'unmatched' | 'no-destination';

/** Destination types that can take the raw HL7 v2 message (MLLP always does). */
const RAW_DESTINATION_TYPES = new Set(['mllp', 'webhook', 'sftp']);

export interface TransitionOfCareInput {
  messageId: string;
  memberId: string;
  cpPartnerId: string;
  patient: Patient;
  encounter: Encounter;
  /** FHIR dateTime of the discharge (Encounter.period.end). */
  dischargeAt: string;
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

/** The outcome of routing when nothing is sent: the filtered reason and its kind. */
interface Filtered {
  reason: string;
  kind: FilterKind;
}

/**
 * After the commit: route the converted message, record its deliveries (one transaction per
 * batch of messages) and enqueue them. A crash anywhere here leaves the message `received` in
 * the store; the recovery sweep runs it again (conversion is deterministic, so are the ids).
 */
export class Pipeline {
  private readonly batcher: MicroBatcher<Completion, DeliveryRecord[] | undefined>;
  private readonly owners = new Map<string, MessageOwner>();
  private readonly extensions: PipelineExtension[] = [];

  constructor(private readonly deps: PipelineDeps) {
    this.batcher = new MicroBatcher(async (items) => {
      const results = await deps.store.completeProcessingBatch(items);
      return results.map((r) => (r.ok && r.result.applied ? r.result.deliveries : undefined));
    }, 500, 3);
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

  /** Fire and forget: failures are logged and left to the recovery sweep. */
  submit(work: AcceptedWork): void {
    this.process(work.messageId, work.sourceName, work, work.receivedAt).catch((e) =>
      this.deps.log.warn({ messageId: work.messageId, err: (e as Error).message }, 'processing deferred to recovery'),
    );
  }

  /**
   * A FHIR resource or Bundle received over HTTP: routed as is (routes matching this source and
   * no event/patient-class filter), delivered to FHIR and webhook destinations.
   */
  async processFhir(messageId: string, sourceName: string, resource: { resourceType: string }, receivedAt: number): Promise<void> {
    const text = JSON.stringify(resource);
    const owned = await this.ownedDeliveries(sourceName, resource);
    const deliveries: DeliveryInput[] = owned ?? [];
    for (const d of owned ? [] : this.deps.router.route({ sourceName, sender: '', event: '', patientClass: '' })) {
      if (d.payload === 'raw') continue; // no HL7 v2 message to pass through
      if (payloadKindFor(this.deps.destinationTypes.get(d.destination) ?? '') !== 'fhir-bundle') continue;
      deliveries.push({ destination: d.destination, patientKey: null, payload: text, routeId: d.routeId, partnerId: this.deps.destinationPartners?.get(d.destination) ?? null });
    }
    await this.commit(messageId, { status: 'processed', fhir: text, deliveries }, receivedAt);
  }

  /**
   * Records a stored message's outcome and deliveries (group-committed with the others) and
   * enqueues the pending ones. For messages whose deliveries their owner decided (roster notices).
   */
  async commit(messageId: string, outcome: ProcessingOutcome, receivedAt = Date.now()): Promise<void> {
    await this.afterCommit(messageId, receivedAt, await this.batcher.submit({ messageId, outcome }));
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
    if (stored.raw[0] === 0x7b /* '{' */) {
      let resource: { resourceType: string } | undefined;
      try {
        resource = JSON.parse(stored.raw.toString('utf8')) as { resourceType: string };
      } catch {
        resource = undefined;
      }
      if (resource?.resourceType) return this.processFhir(messageId, sourceName, resource, stored.receivedAt.getTime());
    }
    let routable: RoutableMessage | undefined;
    let failure: string | undefined;
    try {
      const msg = Hl7Message.parse(stored.raw);
      const partnerId = stored.partnerId ?? undefined;
      const r = convertParsed(msg, this.deps.profileFor(partnerId));
      if (r.ok) routable = { facts: r.conversion, conversion: r.conversion, partnerId };
      // Accepted without a conversion (as when it arrived): passthrough routes may still take it.
      else if (r.kind === 'unsupported') routable = { facts: routingFactsOf(msg), unconverted: r.reason, partnerId };
      else failure = r.reason;
    } catch (e) {
      failure = (e as Error).message;
    }
    if (!routable) {
      // Mappings changed since it was accepted (or a replay of a bad message): keep it, marked failed.
      await this.batcher.submit({ messageId, outcome: { status: 'failed', statusReason: failure ?? 'conversion failed' } });
      return;
    }
    await this.process(messageId, sourceName, routable, stored.receivedAt.getTime(), options.attributedOnly, options.except);
  }

  /**
   * `attributedOnly`: a late routing (the patient just got onto the roster): fixed routes already had it.
   * `except`: destinations that already had this event (through its original message).
   */
  private async process(
    messageId: string,
    sourceName: string,
    message: RoutableMessage,
    receivedAt: number,
    attributedOnly = false,
    except?: ReadonlySet<string>,
  ): Promise<void> {
    const { facts, conversion } = message;
    const routeFacts: RouteFacts = { sourceName, sender: facts.sender, messageType: facts.messageType, event: facts.event, patientClass: facts.patientClass };
    let memberLookup: Promise<string | undefined> | undefined;
    const member = () => (memberLookup ??= conversion ? this.memberOf(conversion) : Promise.resolve(undefined));
    const fixed = attributedOnly ? [] : this.deps.router.route(routeFacts);
    const attributed = await this.attributedDecisions(messageId, receivedAt, message, routeFacts, member);
    const decisions = [...fixed, ...attributed.decisions];
    const category = this.deps.sensitivity
      ? sensitivityOf({ facilities: facts.facilityCodes, service: facts.hospitalService }, this.deps.sensitivity)
      : undefined;
    // A sensitive event carries its labels everywhere it goes (stored FHIR and every payload).
    if (category && conversion) applySecurityLabels(conversion.bundle, securityLabels(category));
    const fhirText = conversion ? JSON.stringify(conversion.bundle) : undefined;
    const memberId = category ? await member() : undefined;
    const patientKey = conversion?.patient?.id ?? null;
    const deliveries: DeliveryInput[] = [];
    // Why a matched destination got nothing, in decision order (the first explains a filtered message).
    const skipped: string[] = [];
    let davinci: string | undefined;
    const seen = new Set<string>();
    for (const d of decisions) {
      if (seen.has(d.destination)) continue;
      seen.add(d.destination);
      if (except?.has(d.destination)) {
        skipped.push(`destination ${d.destination} already had it`);
        continue;
      }
      const type = this.deps.destinationTypes.get(d.destination) ?? '';
      let payload: string | undefined;
      if (type === 'mllp' || d.payload === 'raw') {
        // The deliverer sends the stored raw message (no payload stored twice).
        if (!RAW_DESTINATION_TYPES.has(type)) {
          skipped.push(`destination ${d.destination} (${type}) takes FHIR only`);
          continue;
        }
      } else {
        if (!conversion) {
          skipped.push(message.unconverted ?? 'no conversion');
          continue;
        }
        const kind = payloadKindFor(type);
        const carePlan = d.attributedRole === 'cp' ? await this.carePlanFor(messageId, conversion, d.partnerId!, member) : undefined;
        if (carePlan && category) applySecurityLabels(carePlan, securityLabels(category));
        if (kind === 'fhir-bundle') payload = carePlan ? withEntry(conversion, carePlan) : fhirText;
        else if (kind === 'davinci-notification') {
          davinci ??= JSON.stringify(davinciNotification(conversion) ?? null);
          if (davinci === 'null') {
            // Not an admit/transfer/discharge: nothing to notify.
            skipped.push(`no Da Vinci notification for ${facts.messageType}^${facts.event}`);
            continue;
          }
          payload = davinci;
        } else continue;
      }
      const withheld = category ? await this.withholdReason(d, category, memberId) : undefined;
      // Recorded on the delivery so the message detail can say which rule sent it, and to whom.
      const why = { routeId: d.routeId, partnerId: d.partnerId ?? this.deps.destinationPartners?.get(d.destination) ?? null };
      deliveries.push(
        withheld
          ? { destination: d.destination, patientKey, status: 'withheld', withheldReason: withheld, ...why }
          : { destination: d.destination, patientKey, payload, ...why },
      );
    }
    const filtered = deliveries.length === 0 ? filterReason(message, decisions.length, attributed.unmatched, skipped) : undefined;
    const created = await this.batcher.submit({
      messageId,
      outcome: {
        status: filtered ? 'filtered' : 'processed',
        statusReason: filtered?.reason ?? routingReason({ deliveries, unmatched: attributed.unmatched }),
        fhir: fhirText,
        identifiers: conversion ? identifiersOf(conversion) : undefined,
        deliveries,
      },
    });
    if (filtered && created) {
      this.deps.onFiltered?.({ messageId, sourceName, kind: filtered.kind });
      this.deps.log.info({ messageId, reason: filtered.reason }, 'not routed');
    } else if (created) logRouted(this.deps.log, messageId, deliveries, attributed.unmatched);
    await this.afterCommit(messageId, receivedAt, created);
  }

  /** Deliveries for routes to "the member's attributed CP/ACO on the event date". */
  private async attributedDecisions(
    messageId: string,
    receivedAt: number,
    message: RoutableMessage,
    facts: RouteFacts,
    memberOf: () => Promise<string | undefined>,
  ): Promise<{ decisions: RouteDecision[]; unmatched: boolean }> {
    const none = { decisions: [], unmatched: false };
    const { conversion } = message;
    // Roster matching needs the patient's identifiers, which only a conversion gives.
    if (!conversion || !this.deps.roster) return none;
    const rules = this.deps.router.attributedRules(facts);
    if (rules.length === 0) return none;
    const member = await memberOf();
    if (!member) {
      const name = conversion.patient?.name?.[0];
      // Demographics let a later import re-match it when the roster is configured for that.
      await this.deps.roster.recordUnmatched({
        messageId,
        receivedAt: new Date(receivedAt),
        // The sending partner scopes the event in the API (its key sees its own unmatched events).
        partnerId: message.partnerId,
        identifiers: identifiersOf(conversion),
        family: name?.family,
        given: name?.given?.[0],
        birthDate: conversion.patient?.birthDate,
        sex: conversion.patient?.gender,
      });
      return { decisions: [], unmatched: true };
    }
    const date = conversion.eventDate ?? new Date(receivedAt).toISOString().slice(0, 10);
    const out: RouteDecision[] = [];
    for (const rule of rules) {
      for (const partnerId of await this.deps.roster.attributedOn(member, date, rule.toAttributed!)) {
        const destination = this.deps.partnerAdtDestination?.(partnerId);
        if (!destination) {
          this.deps.log.warn({ messageId, partnerId, route: rule.id }, 'attributed partner declares no adt destination');
          continue;
        }
        out.push({ destination, routeId: rule.id, partnerId, attributedRole: rule.toAttributed, includeSensitive: rule.includeSensitive ?? false, payload: rule.payload ?? 'fhir' });
      }
    }
    return { decisions: out, unmatched: false };
  }

  /** The transition-of-care CarePlan for a CP, for inpatient and ED discharges only. */
  private async carePlanFor(messageId: string, conversion: Conversion, cpPartnerId: string, member: () => Promise<string | undefined>): Promise<Resource | undefined> {
    const { encounter: enc, patient } = conversion;
    const dischargeAt = enc?.period?.end;
    const planner = this.extensions.find((e) => e.transitionOfCare);
    if (!planner?.transitionOfCare || !enc || !patient || !dischargeAt) return undefined;
    const isDischarge = conversion.event === 'A03' || (enc.class?.code === 'EMER' && enc.status === 'finished');
    if (!isDischarge) return undefined;
    const memberId = await member();
    if (!memberId) return undefined;
    return planner.transitionOfCare({ messageId, memberId, cpPartnerId, patient, encounter: enc, dischargeAt });
  }

  /** Roster member id of the event's patient (undefined when unmatched or without a roster). */
  private async memberOf(conversion: Conversion): Promise<string | undefined> {
    if (!this.deps.roster) return undefined;
    const name = conversion.patient?.name?.[0];
    const r = await this.deps.roster.resolve({
      identifiers: identifiersOf(conversion),
      family: name?.family,
      given: name?.given?.[0],
      birthDate: conversion.patient?.birthDate,
      sex: conversion.patient?.gender,
    });
    return r.kind === 'matched' ? r.member.memberId : undefined;
  }

  /**
   * Why a sensitive event may not go to this destination (undefined: it may). Consent is
   * per member and partner; a destination whose partner is unknown never gets it implicitly.
   */
  private async withholdReason(d: RouteDecision, category: 'behavioral-health' | 'substance-use', member: string | undefined): Promise<string | undefined> {
    if (d.includeSensitive) return undefined;
    const partner = d.partnerId ?? this.deps.destinationPartners?.get(d.destination);
    if (!partner) return `${category} event: destination ${d.destination} has no partner to hold consent (route ${d.routeId})`;
    if (!member || !this.deps.roster) return `${category} event: member not on the roster, consent for ${partner} unknown (route ${d.routeId})`;
    if (await this.deps.roster.hasConsent(member, partner, category)) return undefined;
    return `${category} event: no ${category} consent on file for ${partner} (route ${d.routeId})`;
  }

  private async afterCommit(messageId: string, receivedAt: number, created: DeliveryRecord[] | undefined): Promise<void> {
    if (!created) return; // someone else finished it (recovery race) or it vanished
    this.deps.onProcessed?.({ messageId, receivedAt, deliveries: created.length });
    for (const d of created) {
      if (d.status !== 'pending') continue;
      await this.deps.enqueue({ deliveryId: d.id, messageId, destinationId: d.destination, patientKey: d.patientKey ?? '', seq: d.seq });
    }
  }
}

/**
 * Why a message that produced no delivery is filtered. A message without a conversion says so
 * first (its routes may have wanted FHIR); then an attributed route whose member is unknown
 * (the unmatched event is kept for late routing); then no route at all; then why each matched
 * destination got nothing.
 */
function filterReason(message: RoutableMessage, decisions: number, unmatched: boolean, skipped: readonly string[]): Filtered {
  if (message.unconverted) return { reason: message.unconverted, kind: 'no-converter' };
  if (unmatched) return { reason: MEMBER_UNMATCHED, kind: 'unmatched' };
  if (decisions === 0 || skipped.length === 0) return { reason: NO_ROUTE_MATCHED, kind: 'no-route' };
  return { reason: skipped[0]!, kind: 'no-destination' };
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
  log.info({ messageId, routes, destinations: to, ...(withheld.length ? { withheld } : {}), ...(unmatched ? { unmatched } : {}) }, 'routed');
}

function ownerKey(kind: SourceKind, name: string): string {
  return `${kind}|${name}`;
}

/** The message Bundle with one more entry (a CarePlan for one CP), serialized. */
function withEntry(conversion: Conversion, resource: Resource): string {
  const entry = [...(conversion.bundle.entry ?? []), { fullUrl: `urn:uuid:${resource.id}`, resource }];
  return JSON.stringify({ ...conversion.bundle, entry });
}

function identifiersOf(conversion: Conversion): { system: string; value: string }[] {
  return conversion.patientIdentifiers.map((i) => ({ system: i.system!, value: i.value! }));
}

