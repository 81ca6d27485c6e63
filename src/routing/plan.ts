// The routing stage: a converted message becomes a delivery plan. Pure: the plan is a function of
// the message, the routing policy (rules, destinations, sensitivity) and facts fetched before it
// (roster attribution on the event date, consents, transition-of-care CarePlans: routing/facts.ts).
// Nothing here reads or writes a store; the pipeline commits the plan and enqueues its deliveries.
//
//   draftPlan      route rules, sensitivity, the labeled conversion        (what is known up front)
//   decide         fixed + attributed decisions, or "unmatched"           (needs the member's attributions)
//   screen         per destination: skipped and why, or what it is sent   (needs nothing more)
//   planDelivery   deliveries (withheld where consent is missing), the status and its reason
import type { Encounter, Patient, Resource } from 'fhir/r4';
import type { Conversion, RoutingFacts } from '../conversion/types.js';
import { accepts, destinationModule, renderFor, sendsRawOnly } from '../delivery/deliverers/registry.js';
import type { UnmatchedInput } from '../roster/types.js';
import type { DeliveryInput, PatientIdentifier, ProcessingOutcome } from '../store/types.js';
import { filterReason, routingReason, type Filtered } from './explain.js';
import type { RouteDecision, RouteFacts, RouteRule, Router } from './router.js';
import { applySecurityLabels, securityLabels, sensitivityOf, type SensitiveCategory, type SensitivityPolicy } from './sensitivity.js';

/** A message ready for routing: its facts, and its conversion when an adapter converted it. */
export interface RoutableMessage {
  /** The conversion's routing facts, or (without one) read from the message as sent. */
  facts: RoutingFacts;
  conversion?: Conversion;
  /** Why there is no conversion (`no converter for ORU^R01`): the filtered reason when nothing is sent. */
  unconverted?: string;
  /** The partner the message belongs to (scopes unmatched events). */
  partnerId?: string;
}

/** What the routing stage is asked to plan. */
export interface PlanRequest extends RoutableMessage {
  messageId: string;
  /** The source name route rules match (a replay or late routing: its original's). */
  sourceName: string;
  receivedAt: number;
  /** A late routing (the patient just got onto the roster): fixed routes already had it. */
  attributedOnly?: boolean;
  /** Destinations that already had this event (through its original message). */
  except?: ReadonlySet<string>;
}

/** The configuration routing decides with. */
export interface RoutingPolicy {
  router: Router;
  /** Destination id → type: its module (src/delivery/deliverers/registry.ts) says what it takes and renders it. */
  destinationTypes: ReadonlyMap<string, string>;
  /** Destination id → owning partner. */
  destinationPartners?: ReadonlyMap<string, string>;
  /** Partner id → its ADT destination (for routes to "the member's attributed CP/ACO"). */
  partnerAdtDestination?(partnerId: string): string | undefined;
  sensitivity?: SensitivityPolicy;
}

/** What the roster said about the event's patient (absent from PlanFacts: no roster configured). */
export interface RosterFacts {
  /** The roster member (undefined: not on the roster, or not looked up because nothing needed it). */
  memberId: string | undefined;
  /** Partners the member is attributed to on the event date, by role (the roles asked for). */
  attributed: ReadonlyMap<'cp' | 'aco', readonly string[]>;
  /** `partnerId|category` the member consented to (of those asked for). */
  consents: ReadonlySet<string>;
}

/** Facts fetched for the plan (routing/facts.ts), or built by hand in a test. */
export interface PlanFacts {
  /** Absent: no roster; attributed routes deliver nothing and consent cannot be checked. */
  roster?: RosterFacts;
  /** Transition-of-care CarePlan by CP partner id (discharges of a member attributed to that CP). */
  carePlans?: ReadonlyMap<string, Resource>;
}

/** Input of the transition-of-care addition: a discharge of a member attributed to a CP. */
export interface TransitionOfCareInput {
  messageId: string;
  memberId: string;
  cpPartnerId: string;
  patient: Patient;
  encounter: Encounter;
  /** FHIR dateTime of the discharge (Encounter.period.end). */
  dischargeAt: string;
}

/** What is known before any lookup. */
export interface DraftPlan {
  request: PlanRequest;
  routeFacts: RouteFacts;
  /** Decisions of matching rules with fixed destinations (none for a late routing). */
  fixed: RouteDecision[];
  /** Matching rules to "the member's attributed CP/ACO" (none without a conversion). */
  attributedRules: RouteRule[];
  category: SensitiveCategory | undefined;
  /** The conversion, carrying the security labels of a sensitive event (a labeled copy). */
  conversion: Conversion | undefined;
  /** The date attribution is looked up on: the event's, else the day it was received. */
  eventDate: string;
  /** True when the roster's member is needed: an attributed route applies, or consent decides. */
  needsMember: boolean;
  /** The conversion's Bundle as JSON, filled on first need (bundleText). */
  bundleJson?: string;
}

/** Routing's decisions for the message, before destinations are screened. */
export interface Decisions {
  decisions: RouteDecision[];
  /** An attributed route applied and the patient is not on the roster. */
  unmatched: boolean;
  /** Attributed partners declaring no ADT destination (logged). */
  partnersWithoutAdt: { partnerId: string; routeId: string }[];
}

/**
 * One matched destination after screening: skipped with a reason, dropped, or sent a payload: the
 * raw message, or what the destination's module rendered from the converted Bundle.
 */
export interface Screened {
  decision: RouteDecision;
  /** The CP whose transition-of-care CarePlan is asked for (any FHIR-bound attributed CP destination). */
  carePlanPartner?: string;
  result: { skipped: string } | { dropped: true } | { payload: 'raw' } | { payload: 'rendered'; type: string; text: string };
}

/** The routing stage's output: what the pipeline commits. */
export interface DeliveryPlan {
  deliveries: DeliveryInput[];
  /** Set when nothing is sent: the reason and its kind (for the metric). */
  filtered: Filtered | undefined;
  /** The message's status reason: the filtered reason, or who it was routed to and withheld from. */
  statusReason: string;
  unmatched: boolean;
  /** The FHIR Bundle stored with the message (serialized, labeled when sensitive). */
  fhir: string | undefined;
  identifiers: PatientIdentifier[] | undefined;
  /** An unmatched event to record before the commit (late routing picks it up once it matches). */
  unmatchedEvent: UnmatchedInput | undefined;
  partnersWithoutAdt: { partnerId: string; routeId: string }[];
}

export function draftPlan(request: PlanRequest, policy: RoutingPolicy): DraftPlan {
  const { facts } = request;
  const routeFacts: RouteFacts = {
    sourceName: request.sourceName,
    sender: facts.sender,
    messageType: facts.messageType,
    event: facts.event,
    patientClass: facts.patientClass,
  };
  const category = policy.sensitivity
    ? sensitivityOf({ facilities: facts.facilityCodes, service: facts.hospitalService }, policy.sensitivity)
    : undefined;
  // A sensitive event carries its labels everywhere it goes (stored FHIR and every payload).
  const conversion = category && request.conversion ? labeledConversion(request.conversion, category) : request.conversion;
  const attributedRules = conversion ? policy.router.attributedRules(routeFacts) : [];
  return {
    request,
    routeFacts,
    fixed: request.attributedOnly ? [] : policy.router.route(routeFacts),
    attributedRules,
    category,
    conversion,
    eventDate: conversion?.eventDate ?? new Date(request.receivedAt).toISOString().slice(0, 10),
    needsMember: conversion !== undefined && (attributedRules.length > 0 || category !== undefined),
  };
}

/** Fixed decisions, then each attributed rule's partners on the event date (their ADT destinations). */
export function decide(draft: DraftPlan, policy: RoutingPolicy, roster: RosterFacts | undefined): Decisions {
  const out: Decisions = { decisions: [...draft.fixed], unmatched: false, partnersWithoutAdt: [] };
  // Roster matching needs the patient's identifiers, which only a conversion gives.
  if (!draft.conversion || !roster || draft.attributedRules.length === 0) return out;
  if (!roster.memberId) return { ...out, unmatched: true };
  for (const rule of draft.attributedRules) {
    for (const partnerId of roster.attributed.get(rule.toAttributed!) ?? []) {
      const destination = policy.partnerAdtDestination?.(partnerId);
      if (!destination) {
        out.partnersWithoutAdt.push({ partnerId, routeId: rule.id });
        continue;
      }
      out.decisions.push({
        destination,
        routeId: rule.id,
        partnerId,
        attributedRole: rule.toAttributed,
        includeSensitive: rule.includeSensitive ?? false,
        payload: rule.payload ?? 'fhir',
      });
    }
  }
  return out;
}

/** Each decided destination once, in decision order: what it can be sent, or why nothing. */
export function screen(draft: DraftPlan, policy: RoutingPolicy, decisions: readonly RouteDecision[]): Screened[] {
  const { conversion, request } = draft;
  const out: Screened[] = [];
  const seen = new Set<string>();
  for (const decision of decisions) {
    const d = decision.destination;
    if (seen.has(d)) continue;
    seen.add(d);
    if (request.except?.has(d)) {
      out.push({ decision, result: { skipped: `destination ${d} already had it` } });
      continue;
    }
    const type = policy.destinationTypes.get(d) ?? '';
    if (decision.payload === 'raw' || sendsRawOnly(type)) {
      // The deliverer sends the stored raw message (no payload stored twice).
      const result = accepts(type, 'hl7v2') ? { payload: 'raw' as const } : { skipped: `destination ${d} (${type}) takes FHIR only` };
      out.push({ decision, result });
      continue;
    }
    if (!conversion) {
      out.push({ decision, result: { skipped: request.unconverted ?? 'no conversion' } });
      continue;
    }
    const carePlanPartner = decision.attributedRole === 'cp' ? decision.partnerId : undefined;
    let result: Screened['result'] = { dropped: true };
    if (destinationModule(type)) {
      // Its module renders the Bundle (as is, or e.g. as a Da Vinci notification) or says why it gets nothing.
      const rendered = renderFor(type, { kind: 'fhir-bundle', conversion, json: () => bundleText(draft) });
      result = typeof rendered === 'string' ? { payload: 'rendered', type, text: rendered } : { skipped: rendered.skip };
    }
    out.push({ decision, carePlanPartner, result });
  }
  return out;
}

/** The CP's transition-of-care input, for inpatient and ED discharges only (undefined: none is due). */
export function transitionOfCareInput(
  draft: DraftPlan,
  cpPartnerId: string,
  memberId: string | undefined,
): TransitionOfCareInput | undefined {
  const conversion = draft.conversion;
  const enc = conversion?.encounter;
  const patient = conversion?.patient;
  const dischargeAt = enc?.period?.end;
  if (!conversion || !enc || !patient || !dischargeAt) return undefined;
  const isDischarge = conversion.event === 'A03' || (enc.class?.code === 'EMER' && enc.status === 'finished');
  if (!isDischarge || !memberId) return undefined;
  return { messageId: draft.request.messageId, memberId, cpPartnerId, patient, encounter: enc, dischargeAt };
}

/** The partner whose consent a sensitive event needs for this destination (undefined: none needed or none known). */
export function consentPartner(policy: RoutingPolicy, d: RouteDecision): string | undefined {
  if (d.includeSensitive) return undefined;
  return d.partnerId ?? policy.destinationPartners?.get(d.destination);
}

/** The plan: one delivery per screened destination that is sent something, withheld where consent is missing. */
export function planDelivery(draft: DraftPlan, policy: RoutingPolicy, facts: PlanFacts): DeliveryPlan {
  const { conversion, category, request } = draft;
  const decided = decide(draft, policy, facts.roster);
  const fhirText = conversion ? bundleText(draft) : undefined;
  const patientKey = conversion?.patient?.id ?? null;
  const memberId = category ? facts.roster?.memberId : undefined;
  const deliveries: DeliveryInput[] = [];
  // Why a matched destination got nothing, in decision order (the first explains a filtered message).
  const skipped: string[] = [];
  for (const s of screen(draft, policy, decided.decisions)) {
    const d = s.decision;
    if ('skipped' in s.result) skipped.push(s.result.skipped);
    if (!('payload' in s.result)) continue;
    let payload: string | undefined;
    if (s.result.payload === 'rendered') {
      const carePlan = s.carePlanPartner ? facts.carePlans?.get(s.carePlanPartner) : undefined;
      const withCarePlan = carePlan ? withEntry(conversion!, category ? labeledResource(carePlan, category) : carePlan) : undefined;
      // The CP's care plan goes in the Bundle: rendered again with it (the module took this event above).
      payload = withCarePlan
        ? (renderFor(s.result.type, { kind: 'fhir-bundle', conversion, json: () => withCarePlan }) as string)
        : s.result.text;
    }
    const withheld = category ? withholdReason(policy, d, category, memberId, facts.roster?.consents) : undefined;
    // Recorded on the delivery so the message detail can say which rule sent it, and to whom.
    const why = { routeId: d.routeId, partnerId: d.partnerId ?? policy.destinationPartners?.get(d.destination) ?? null };
    deliveries.push(
      withheld
        ? { destination: d.destination, patientKey, status: 'withheld', withheldReason: withheld, ...why }
        : { destination: d.destination, patientKey, payload, ...why },
    );
  }
  const filtered = deliveries.length === 0 ? filterReason(request, decided.decisions.length, decided.unmatched, skipped) : undefined;
  return {
    deliveries,
    filtered,
    statusReason: filtered?.reason ?? routingReason({ deliveries, unmatched: decided.unmatched }),
    unmatched: decided.unmatched,
    fhir: fhirText,
    identifiers: conversion ? identifiersOf(conversion) : undefined,
    unmatchedEvent: decided.unmatched ? unmatchedEvent(draft) : undefined,
    partnersWithoutAdt: decided.partnersWithoutAdt,
  };
}

/** The message's outcome to commit. */
export function outcomeOf(plan: DeliveryPlan): ProcessingOutcome {
  return {
    status: plan.filtered ? 'filtered' : 'processed',
    statusReason: plan.statusReason,
    fhir: plan.fhir,
    identifiers: plan.identifiers,
    deliveries: plan.deliveries,
  };
}

/**
 * A FHIR resource or Bundle received over HTTP: routed as is (routes matching this source and no
 * event/patient-class filter), to destinations that take it as received.
 */
export function planFhir(sourceName: string, text: string, policy: RoutingPolicy): DeliveryInput[] {
  const deliveries: DeliveryInput[] = [];
  for (const d of policy.router.route({ sourceName, sender: '', event: '', patientClass: '' })) {
    if (d.payload === 'raw') continue; // no HL7 v2 message to pass through
    const payload = renderFor(policy.destinationTypes.get(d.destination), { kind: 'fhir-bundle', json: () => text });
    if (typeof payload !== 'string') continue;
    deliveries.push({
      destination: d.destination,
      patientKey: null,
      payload,
      routeId: d.routeId,
      partnerId: policy.destinationPartners?.get(d.destination) ?? null,
    });
  }
  return deliveries;
}

/**
 * Why a sensitive event may not go to this destination (undefined: it may). Consent is per member
 * and partner; a destination whose partner is unknown never gets it implicitly.
 */
function withholdReason(
  policy: RoutingPolicy,
  d: RouteDecision,
  category: SensitiveCategory,
  member: string | undefined,
  consents: ReadonlySet<string> | undefined,
): string | undefined {
  if (d.includeSensitive) return undefined;
  const partner = consentPartner(policy, d);
  if (!partner) return `${category} event: destination ${d.destination} has no partner to hold consent (route ${d.routeId})`;
  if (!member || !consents) return `${category} event: member not on the roster, consent for ${partner} unknown (route ${d.routeId})`;
  if (consents.has(consentKey(partner, category))) return undefined;
  return `${category} event: no ${category} consent on file for ${partner} (route ${d.routeId})`;
}

export function consentKey(partnerId: string, category: SensitiveCategory): string {
  return `${partnerId}|${category}`;
}

/** The unmatched event: demographics let a later import re-match it when the roster is configured for that. */
function unmatchedEvent(draft: DraftPlan): UnmatchedInput {
  const conversion = draft.conversion!;
  const name = conversion.patient?.name?.[0];
  return {
    messageId: draft.request.messageId,
    receivedAt: new Date(draft.request.receivedAt),
    // The sending partner scopes the event in the API (its key sees its own unmatched events).
    partnerId: draft.request.partnerId,
    identifiers: identifiersOf(conversion),
    family: name?.family,
    given: name?.given?.[0],
    birthDate: conversion.patient?.birthDate,
    sex: conversion.patient?.gender,
  };
}

/**
 * The (labeled) converted Bundle, serialized once per draft: stored with the message and sent as is.
 * Kept on the draft itself rather than in a module-level WeakMap, whose entry per message the
 * garbage collector had to process as an ephemeron (bench/README.md, "Session 6").
 */
function bundleText(draft: DraftPlan): string {
  return (draft.bundleJson ??= JSON.stringify(draft.conversion!.bundle));
}

/**
 * A copy of the conversion whose Bundle (and every entry) carries the category's security labels;
 * the input is left as it is. One clone keeps shared objects shared: the conversion's patient and
 * encounter are its Bundle's entries, and are labeled with them.
 */
function labeledConversion(conversion: Conversion, category: SensitiveCategory): Conversion {
  const copy = structuredClone(conversion);
  applySecurityLabels(copy.bundle, securityLabels(category));
  return copy;
}

/** A copy of the resource carrying the category's security labels. */
function labeledResource(resource: Resource, category: SensitiveCategory): Resource {
  const copy = structuredClone(resource);
  applySecurityLabels(copy, securityLabels(category));
  return copy;
}

/** The message Bundle with one more entry (a CarePlan for one CP), serialized. */
function withEntry(conversion: Conversion, resource: Resource): string {
  const entry = [...(conversion.bundle.entry ?? []), { fullUrl: `urn:uuid:${resource.id}`, resource }];
  return JSON.stringify({ ...conversion.bundle, entry });
}

export function identifiersOf(conversion: Conversion): PatientIdentifier[] {
  return conversion.patientIdentifiers.map((i) => ({ system: i.system!, value: i.value! }));
}
