/**
 * Every place the config gives a destination something to deliver must give it a payload kind its
 * module takes (src/delivery/deliverers/registry.ts): routes (FHIR or raw HL7 v2), partners'
 * destinations (ADT events of attributed routes, care plans, roster notices) and the weekly
 * status files. One problem per wiring, at the key that wires it.
 */
import { accepts, sendsRawOnly, typesAccepting } from '../delivery/deliverers/registry.js';
import { PAYLOAD_KIND_NAMES, type PayloadKind } from '../delivery/payloads.js';
import type { KeyPath } from './errors.js';
import type { GatewayConfig } from './types.js';

export interface WiringProblem {
  path: KeyPath;
  problem: string;
}

type Route = GatewayConfig['routes'][number];

/** What a route gives a destination of this type: raw-only destinations always get the raw message. */
function routeKind(route: Route, type: string): PayloadKind {
  return route.payload === 'raw' || sendsRawOnly(type) ? 'hl7v2' : 'fhir-bundle';
}

function article(types: readonly string[]): string {
  const list = types.length > 1 ? `${types.slice(0, -1).join(', ')} or ${types.at(-1)}` : (types[0] ?? 'no');
  return `${/^[aeiou]/.test(list) ? 'an' : 'a'} ${list}`;
}

/** Routes that list destinations: `routes[i].to[j]`. */
export function routeWiringProblems(config: GatewayConfig): WiringProblem[] {
  const typeOf = new Map(config.destinations.map((d) => [d.id, d.type]));
  const problems: WiringProblem[] = [];
  config.routes.forEach((route, i) => {
    route.to?.forEach((id, j) => {
      const type = typeOf.get(id);
      if (type === undefined) return; // unknown destination: cross-checks.ts says so
      const kind = routeKind(route, type);
      if (!accepts(type, kind)) {
        problems.push({
          path: ['routes', i, 'to', j],
          problem: `payload ${route.payload} cannot go to ${type} destination '${id}' (it does not take ${PAYLOAD_KIND_NAMES[kind]}: use ${article(typesAccepting(kind))} destination)`,
        });
      }
    });
  });
  return problems;
}

/**
 * Partners' destinations and the weekly status files: what each is given must be something it
 * takes. A partner's `adt` destination is given what the attributed routes to its kind send.
 */
export function partnerWiringProblems(config: GatewayConfig): WiringProblem[] {
  const typeOf = new Map(config.destinations.map((d) => [d.id, d.type]));
  const problems: WiringProblem[] = [];
  const seen = new Set<string>();
  const check = (path: KeyPath, id: string, kind: PayloadKind, why = '') => {
    const type = typeOf.get(id);
    if (type === undefined || accepts(type, kind)) return; // unknown destination: cross-checks.ts says so
    const once = `${path.join('.')}|${kind}`;
    if (seen.has(once)) return;
    seen.add(once);
    problems.push({
      path,
      problem: `destination '${id}' (${type}) cannot carry ${PAYLOAD_KIND_NAMES[kind]}${why}: use ${article(typesAccepting(kind))} destination`,
    });
  };
  for (const [partnerId, partner] of Object.entries(config.partners)) {
    const { adt, careplan, members } = partner.destinations;
    if (careplan !== undefined) check(['partners', partnerId, 'destinations', 'careplan'], careplan, 'careplan');
    if (members !== undefined) check(['partners', partnerId, 'destinations', 'members'], members, 'roster-notice');
    if (adt === undefined) continue;
    config.routes.forEach((route, i) => {
      if (route.toAttributed !== partner.kind) return;
      check(
        ['partners', partnerId, 'destinations', 'adt'],
        adt,
        routeKind(route, typeOf.get(adt) ?? ''),
        ` (routes[${i}] sends it to the attributed ${partner.kind})`,
      );
    });
  }
  config.careplans.weeklyStatus.files.forEach((f, i) =>
    check(['careplans', 'weeklyStatus', 'files', i, 'destination'], f.destination, 'status-file'),
  );
  return problems;
}
