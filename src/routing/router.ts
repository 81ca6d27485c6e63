/**
 * Route rules: which destinations get a converted message. A rule matches on the source, the
 * sender (MSH-3^MSH-4), the trigger event and the patient class (PV1-2); an empty list in a rule
 * means "any". Every matching rule contributes its destinations (deduplicated, in rule order).
 * Roster-based rules ("the member's attributed CP") extend this in the roster issue.
 */
import { senderMatches } from './sender-pattern.js';

export interface RouteRule {
  id: string;
  match: {
    sources?: string[];
    senders?: string[];
    events?: string[];
    patientClasses?: string[];
  };
  to?: string[];
  /** The member's attributed CP or ACO on the event date (resolved through the roster). */
  toAttributed?: 'cp' | 'aco';
  /** Send sensitive (behavioral-health / SUD) events even without consent on file. */
  includeSensitive?: boolean;
}

export interface RoutingFacts {
  sourceName: string;
  sender: string;
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
}

export class Router {
  constructor(private readonly rules: readonly RouteRule[]) {}

  /** Fixed-destination decisions of every matching rule (deduplicated, in rule order). */
  route(facts: RoutingFacts): RouteDecision[] {
    const out: RouteDecision[] = [];
    const seen = new Set<string>();
    for (const rule of this.matching(facts)) {
      for (const destination of rule.to ?? []) {
        if (seen.has(destination)) continue;
        seen.add(destination);
        out.push({ destination, routeId: rule.id, includeSensitive: rule.includeSensitive ?? false });
      }
    }
    return out;
  }

  /** Matching rules that target "the member's attributed CP/ACO" (resolved by the caller). */
  attributedRules(facts: RoutingFacts): RouteRule[] {
    return this.matching(facts).filter((r) => r.toAttributed);
  }

  private matching(facts: RoutingFacts): RouteRule[] {
    return this.rules.filter(
      (rule) =>
        matches(rule.match.sources, facts.sourceName) &&
        (!rule.match.senders?.length || rule.match.senders.some((p) => senderMatches(p, facts.sender))) &&
        matches(rule.match.events, facts.event) &&
        matches(rule.match.patientClasses, facts.patientClass),
    );
  }
}

function matches(allowed: string[] | undefined, value: string): boolean {
  return !allowed || allowed.length === 0 || allowed.includes(value);
}
