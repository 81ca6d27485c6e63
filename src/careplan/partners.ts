// Partners (ACOs, CPs) appear in care plans as Organizations. carebridge holds no Organization
// resources for them, so it references them logically: by an identifier in a carebridge system
// whose value is the configured partner id. Every receiver can tell who is meant without a lookup.
import type { Provenance, Reference } from 'fhir/r4.js';
import { CAREBRIDGE_CANONICAL_BASE } from './signoff.js';

export const PARTNER_ID_SYSTEM = `${CAREBRIDGE_CANONICAL_BASE}/partner-id`;

export function partnerOrganization(partnerId: string, name?: string): Reference {
  return { type: 'Organization', identifier: { system: PARTNER_ID_SYSTEM, value: partnerId }, ...(name ? { display: name } : {}) };
}

/** The partner id a logical Organization reference names, if it is one of ours. */
export function partnerOf(ref: Reference | undefined): string | undefined {
  return ref?.identifier?.system === PARTNER_ID_SYSTEM ? ref.identifier.value : undefined;
}

/**
 * The partner a sign-off Provenance was recorded for: the organization its agent acted on behalf of,
 * else the agent itself when that is a partner organization.
 */
export function signingPartnerOf(provenance: Provenance): string | undefined {
  const agent = provenance.agent[0];
  return partnerOf(agent?.onBehalfOf) ?? partnerOf(agent?.who);
}
