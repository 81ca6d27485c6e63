/**
 * Route rules: which destinations get a message. A rule matches on the source, the sender
 * (MSH-3^MSH-4), the message type (MSH-9.1), the trigger event (MSH-9.2, of any type) and the
 * patient class (PV1-2); an empty list in a rule means "any", except message types: a rule
 * without `messageTypes` takes ADT only, so a route set up for ADT never starts receiving lab
 * results or notes because an adapter for them was added (`['*']` takes every type). Every
 * matching rule contributes its destinations (deduplicated, in rule order).
 */
import { senderMatches } from './sender-pattern.js';

export interface RouteRule {
  id: string;
  match: {
    sources?: string[];
    senders?: string[];
    /** MSH-9.1; absent: ADT only; `*`: any type. */
    messageTypes?: string[];
    events?: string[];
    patientClasses?: string[];
  };
  to?: string[];
  /** The member's attributed CP or ACO on the event date (resolved through the roster). */
  toAttributed?: 'cp' | 'aco';
  /** Send sensitive (behavioral-health / SUD) events even without consent on file. */
  includeSensitive?: boolean;
  /**
   * `fhir` (default): the conversion (a message no adapter converts is not sent); `raw`: the
   * HL7 v2 message as received (webhook as application/hl7-v2, SFTP .hl7 file). MLLP
   * destinations always get the raw message.
   */
  payload?: RoutePayload;
}

export type RoutePayload = 'fhir' | 'raw';

/** Message types a rule without `messageTypes` takes. */
export const DEFAULT_ROUTE_MESSAGE_TYPES: readonly string[] = ['ADT'];

/** What a route rule matches on (v2 values as sent). */
export interface RouteFacts {
  sourceName: string;
  sender: string;
  /** MSH-9.1; undefined for FHIR resources received over HTTP (no message type rule applies). */
  messageType?: string;
  event: string;
  patientClass: string;
}

export interface RouteDecision {
  destination: string;
  routeId: string;
  /** The partner this delivery is for, when known (attributed routes, destination owners). */
  partnerId?: string;
  /** Set for routes to "the member's attributed CP/ACO". */
  attributedRole?: 'cp' | 'aco';
  includeSensitive: boolean;
  /** What the rule sends (see RouteRule.payload). */
  payload: RoutePayload;
}

export class Router {
  constructor(private readonly rules: readonly RouteRule[]) {}

  /** Fixed-destination decisions of every matching rule (deduplicated, in rule order). */
  route(facts: RouteFacts): RouteDecision[] {
    const out: RouteDecision[] = [];
    const seen = new Set<string>();
    for (const rule of this.matching(facts)) {
      for (const destination of rule.to ?? []) {
        if (seen.has(destination)) continue;
        seen.add(destination);
        out.push({ destination, routeId: rule.id, includeSensitive: rule.includeSensitive ?? false, payload: rule.payload ?? 'fhir' });
      }
    }
    return out;
  }

  /** Matching rules that target "the member's attributed CP/ACO" (resolved by the caller). */
  attributedRules(facts: RouteFacts): RouteRule[] {
    return this.matching(facts).filter((r) => r.toAttributed);
  }

  private matching(facts: RouteFacts): RouteRule[] {
    return this.rules.filter(
      (rule) =>
        matches(rule.match.sources, facts.sourceName) &&
        (facts.messageType === undefined || typeMatches(rule.match.messageTypes, facts.messageType)) &&
        (!rule.match.senders?.length || rule.match.senders.some((p) => senderMatches(p, facts.sender))) &&
        matches(rule.match.events, facts.event) &&
        matches(rule.match.patientClasses, facts.patientClass),
    );
  }
}

function typeMatches(allowed: string[] | undefined, type: string): boolean {
  const types = allowed?.length ? allowed : DEFAULT_ROUTE_MESSAGE_TYPES;
  return types.includes('*') || types.includes(type);
}

function matches(allowed: string[] | undefined, value: string): boolean {
  return !allowed || allowed.length === 0 || allowed.includes(value);
}
