/**
 * Checks that span several keys: unique ids, references between sections, listening ports.
 * Each problem points at the key that has to change.
 */
import { formatKeyPath, type ConfigIssue, type KeyPath } from './errors.js';
import type { GatewayConfig } from './types.js';
import { routeWiringProblems } from './wiring-checks.js';

type Issues = ConfigIssue[];

const add = (issues: Issues, path: KeyPath, problem: string) => issues.push({ key: formatKeyPath(path), problem });

function checkUniqueIds(issues: Issues, section: string, items: ReadonlyArray<{ id: string }>): void {
  const first = new Map<string, number>();
  items.forEach((item, i) => {
    const seen = first.get(item.id);
    if (seen === undefined) first.set(item.id, i);
    else add(issues, [section, i, 'id'], `duplicate id '${item.id}' (also ${section}[${seen}])`);
  });
}

function checkPartnerRefs(issues: Issues, config: GatewayConfig): void {
  const partners = new Set(Object.keys(config.partners));
  const known = (id: string | undefined, path: KeyPath) => {
    if (id !== undefined && !partners.has(id)) add(issues, path, `unknown partner '${id}'`);
  };
  config.sources.forEach((s, i) => known(s.partner, ['sources', i, 'partner']));
  config.destinations.forEach((d, i) => known(d.partner, ['destinations', i, 'partner']));
  config.apiKeys.forEach((k, i) =>
    k.partners.forEach((p, j) => {
      if (p !== '*') known(p, ['apiKeys', i, 'partners', j]);
    }),
  );
  config.apiKeys.forEach((k, i) => {
    if (k.partners.includes('*') && k.partners.length > 1)
      add(issues, ['apiKeys', i, 'partners'], '"*" (admin) cannot be combined with partner ids');
    const all = k.partners.includes('*');
    if (k.role === 'partner' && all) add(issues, ['apiKeys', i, 'role'], 'a partner key lists partner ids, not "*"');
    if ((k.role === 'admin' || k.role === 'operator') && !all) add(issues, ['apiKeys', i, 'role'], `an ${k.role} key has partners ["*"]`);
  });
}

function checkPartnerDestinations(issues: Issues, config: GatewayConfig): void {
  const destinations = new Set(config.destinations.map((d) => d.id));
  for (const [partnerId, partner] of Object.entries(config.partners)) {
    for (const [purpose, destinationId] of Object.entries(partner.destinations)) {
      if (destinationId !== undefined && !destinations.has(destinationId)) {
        add(issues, ['partners', partnerId, 'destinations', purpose], `unknown destination '${destinationId}'`);
      }
    }
  }
}

/** A sender identifies one partner; the same MSH-3^MSH-4 under two partners is ambiguous. */
function checkSenders(issues: Issues, config: GatewayConfig): void {
  const owner = new Map<string, string>();
  for (const [partnerId, partner] of Object.entries(config.partners)) {
    partner.senders.forEach((sender, j) => {
      const other = owner.get(sender);
      if (other !== undefined && other !== partnerId)
        add(issues, ['partners', partnerId, 'senders', j], `'${sender}' already identifies partner '${other}'`);
      else owner.set(sender, partnerId);
    });
  }
}

/** A partner's MLLP source accepts only that partner's senders (issue 11.1); with none declared it would refuse everything. */
function checkOwnedSourceSenders(issues: Issues, config: GatewayConfig): void {
  config.sources.forEach((s, i) => {
    if (s.type !== 'mllp' || s.partner === undefined) return;
    const partner = config.partners[s.partner];
    if (partner && partner.senders.length === 0) {
      add(
        issues,
        ['sources', i, 'partner'],
        `partner '${s.partner}' declares no senders: every message on this source would be rejected (list its MSH-3^MSH-4 in partners.${s.partner}.senders)`,
      );
    }
  });
}

function checkRoutes(issues: Issues, config: GatewayConfig): void {
  const sources = new Set(config.sources.map((s) => s.id));
  const destinations = new Set(config.destinations.map((d) => d.id));
  const kinds = new Set(Object.values(config.partners).map((p) => p.kind));
  config.routes.forEach((route, i) => {
    route.match.sources?.forEach((id, j) => {
      if (!sources.has(id)) add(issues, ['routes', i, 'match', 'sources', j], `unknown source '${id}'`);
    });
    route.to?.forEach((id, j) => {
      if (!destinations.has(id)) add(issues, ['routes', i, 'to', j], `unknown destination '${id}'`);
    });
    if (route.toAttributed !== undefined && !kinds.has(route.toAttributed)) {
      add(issues, ['routes', i, 'toAttributed'], `no partner of kind '${route.toAttributed}' is configured`);
    }
  });
}

/** Two listeners on one port fail at start with EADDRINUSE; say which keys collide instead. Port 0 picks a free port. */
function checkPorts(issues: Issues, config: GatewayConfig): void {
  const used = new Map<number, string>();
  if (config.server.http.port !== 0) used.set(config.server.http.port, 'server.http.port');
  config.sources.forEach((s, i) => {
    if (s.type !== 'mllp' || s.port === 0) return;
    const other = used.get(s.port);
    if (other !== undefined) add(issues, ['sources', i, 'port'], `port ${s.port} is already used by ${other}`);
    else used.set(s.port, `sources[${i}]`);
  });
}

function checkSingleHttpSource(issues: Issues, config: GatewayConfig): void {
  let first: number | undefined;
  config.sources.forEach((s, i) => {
    if (s.type !== 'http') return;
    if (first === undefined) first = i;
    else add(issues, ['sources', i, 'type'], `only one http source is allowed (POST /hl7/v2 and /fhir are already sources[${first}])`);
  });
}

export function crossCheck(config: GatewayConfig): ConfigIssue[] {
  const issues: Issues = [];
  checkUniqueIds(issues, 'sources', config.sources);
  checkUniqueIds(issues, 'destinations', config.destinations);
  checkUniqueIds(issues, 'routes', config.routes);
  checkUniqueIds(issues, 'apiKeys', config.apiKeys);
  checkSingleHttpSource(issues, config);
  checkPartnerRefs(issues, config);
  checkPartnerDestinations(issues, config);
  checkSenders(issues, config);
  checkOwnedSourceSenders(issues, config);
  checkRoutes(issues, config);
  // What a route sends, each destination it lists must take (raw HL7 v2 has nowhere to go at a FHIR server).
  for (const w of routeWiringProblems(config)) add(issues, w.path, w.problem);
  checkPorts(issues, config);
  return issues;
}
