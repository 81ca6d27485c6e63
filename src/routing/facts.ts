// The facts a delivery plan needs, fetched before it is made (routing/plan.ts stays pure). Only
// what the message needs is asked for, in as few reads as before: the member only when an
// attributed route applies or consent decides; attributions per role; consent per partner of a
// destination that would be sent the sensitive event; the transition-of-care CarePlan per CP that
// would be sent a discharge. No roster configured: no roster facts.
import type { Resource } from 'fhir/r4';
import type { Conversion } from '../conversion/types.js';
import type { RosterLookup } from '../roster/types.js';
import {
  consentKey,
  consentPartner,
  decide,
  identifiersOf,
  screen,
  transitionOfCareInput,
  type DraftPlan,
  type PlanFacts,
  type RosterFacts,
  type RoutingPolicy,
  type TransitionOfCareInput,
} from './plan.js';

/** The narrow read port routing fetches its facts through. */
export interface RoutingReads {
  /** Absent: attributed routes deliver nothing and consent cannot be checked. */
  roster?: Pick<RosterLookup, 'resolve' | 'attributedOn' | 'hasConsent'>;
  /**
   * Transition of care: for a discharge of a member attributed to a CP, the CarePlan (follow-up
   * due in N business days) that goes to that CP with the discharge notification. The care-plan
   * service creates or updates it (idempotent), so asking again for the same message is safe.
   */
  transitionOfCare?(input: TransitionOfCareInput): Promise<Resource | undefined>;
}

export async function fetchPlanFacts(draft: DraftPlan, policy: RoutingPolicy, reads: RoutingReads): Promise<PlanFacts> {
  const roster = reads.roster ? await rosterFacts(draft, reads.roster) : undefined;
  const screened = screen(draft, policy, decide(draft, policy, roster).decisions);
  const carePlans = new Map<string, Resource>();
  const consents = new Set<string>();
  for (const s of screened) {
    const cp = s.carePlanPartner;
    if (cp && reads.transitionOfCare && !carePlans.has(cp)) {
      const input = transitionOfCareInput(draft, cp, roster?.memberId);
      const plan = input ? await reads.transitionOfCare(input) : undefined;
      if (plan) carePlans.set(cp, plan);
    }
  }
  if (draft.category && roster?.memberId) {
    const asked = new Set<string>();
    for (const s of screened) {
      const partner = 'payload' in s.result ? consentPartner(policy, s.decision) : undefined;
      if (!partner || asked.has(partner)) continue;
      asked.add(partner);
      if (await reads.roster!.hasConsent(roster.memberId, partner, draft.category)) consents.add(consentKey(partner, draft.category));
    }
  }
  return { roster: roster && { ...roster, consents }, carePlans };
}

/** The member (when needed) and its attributions on the event date for the roles routes ask for. */
async function rosterFacts(draft: DraftPlan, roster: NonNullable<RoutingReads['roster']>): Promise<RosterFacts> {
  const memberId = draft.needsMember ? await memberOf(draft.conversion!, roster) : undefined;
  const attributed = new Map<'cp' | 'aco', string[]>();
  if (memberId) {
    for (const rule of draft.attributedRules) {
      const role = rule.toAttributed!;
      if (!attributed.has(role)) attributed.set(role, await roster.attributedOn(memberId, draft.eventDate, role));
    }
  }
  return { memberId, attributed, consents: new Set() };
}

/** Roster member id of the event's patient (undefined when unmatched). */
async function memberOf(conversion: Conversion, roster: Pick<RosterLookup, 'resolve'>): Promise<string | undefined> {
  const name = conversion.patient?.name?.[0];
  const r = await roster.resolve({
    identifiers: identifiersOf(conversion),
    family: name?.family,
    given: name?.given?.[0],
    birthDate: conversion.patient?.birthDate,
    sex: conversion.patient?.gender,
  });
  return r.kind === 'matched' ? r.member.memberId : undefined;
}
