import type { DestinationConfig } from '../config/types.js';
import type { Principal } from './types.js';

// Partner scoping of API keys. Rule: what a key may not see does not exist for it (404, or an empty
// page), so a partner cannot probe for another partner's message ids.

/** Messages without a partner are visible to admin keys only. */
export function canSeePartner(p: Principal, partnerId: string | null | undefined): boolean {
  return p.admin || (partnerId != null && p.partners.includes(partnerId));
}

/** The `partners` filter for store.searchMessages: undefined (all) for admin keys. */
export function partnerFilter(p: Principal): readonly string[] | undefined {
  return p.admin ? undefined : p.partners;
}

/** Requeueing a destination's dead letters: admin keys, or keys of the partner owning the destination. */
export function ownsDestination(p: Principal, destination: DestinationConfig | undefined): boolean {
  if (p.admin) return true;
  return destination?.partner !== undefined && p.partners.includes(destination.partner);
}
