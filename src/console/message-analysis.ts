// What the message page shows beside the stored lineage: the conversion's warnings (not stored:
// converting the raw message again with the current mappings gives them) and which route rules
// the message matches under the current configuration.
import type { GatewayConfig } from '../config/types.js';
import { Hl7Message } from '../hl7v2/index.js';
import { convertHl7Message } from '../ingest/convert-message.js';
import { loadProfile } from '../mapping/profile-loader.js';
import { Router } from '../routing/router.js';
import type { MessageRecord } from '../store/types.js';

export interface MessageAnalysis {
  /** Conversion warnings (no field values). */
  warnings: string[];
  /** Why it does not convert now, when it does not. */
  conversionError: string | null;
  /** Rules matching the message now: fixed destinations, or "the member's attributed CP/ACO". */
  routes: { routeId: string; destinations: string[]; toAttributed: 'cp' | 'aco' | null }[];
}

export function analyzeMessage(config: GatewayConfig, message: MessageRecord): MessageAnalysis {
  const out: MessageAnalysis = { warnings: [], conversionError: null, routes: [] };
  if (message.raw[0] === 0x7b /* '{': FHIR JSON */) return out;
  const overlay = message.partnerId ? config.partners[message.partnerId]?.profile : undefined;
  let profile;
  try {
    profile = loadProfile({ partner: overlay, mappingsDir: config.mappings.dir });
  } catch {
    out.conversionError = 'the mapping profile does not load';
    return out;
  }
  const converted = convertHl7Message(message.raw, profile);
  if (converted.ok) out.warnings = converted.warnings;
  else out.conversionError = converted.reason;

  let patientClass = '';
  try {
    patientClass = Hl7Message.parse(message.raw).get('PV1-2');
  } catch {
    // unparseable: no patient class, the conversion error says why
  }
  // A replay is routed under the source of the message it replays; this shows the rules for its own source name.
  const facts = { sourceName: message.sourceName, sender: message.sender ?? '', event: message.triggerEvent ?? '', patientClass };
  const router = new Router(config.routes);
  const fixed = router.route(facts);
  const byRule = new Map<string, string[]>();
  for (const d of fixed) byRule.set(d.routeId, [...(byRule.get(d.routeId) ?? []), d.destination]);
  for (const rule of config.routes) {
    if (byRule.has(rule.id)) out.routes.push({ routeId: rule.id, destinations: byRule.get(rule.id)!, toAttributed: null });
  }
  for (const rule of router.attributedRules(facts))
    out.routes.push({ routeId: rule.id, destinations: [], toAttributed: rule.toAttributed ?? null });
  return out;
}
