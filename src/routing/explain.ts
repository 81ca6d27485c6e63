import type { DeliveryInput } from '../store/types.js';

/**
 * The status reason of a routed message: why it went where it did, in words an operator reads in
 * the message list. No patient data: route ids, destination ids, partner ids and policy reasons only.
 */
export const NO_ROUTE_MATCHED = 'no route matched';
export const MEMBER_UNMATCHED = 'member not on the roster (unmatched)';

/** What routing decided for one message, for the reason and the log line. */
export interface RoutingOutcome {
  deliveries: readonly DeliveryInput[];
  /** An attributed route applied but the patient is not on the roster (kept for late routing). */
  unmatched: boolean;
}

/** `routed by R to D (P), …; withheld from D (P): why`; or why nothing was decided. */
export function routingReason({ deliveries, unmatched }: RoutingOutcome): string {
  if (deliveries.length === 0) return unmatched ? MEMBER_UNMATCHED : NO_ROUTE_MATCHED;
  const sent = deliveries.filter((d) => d.status !== 'withheld');
  const parts: string[] = [];
  if (sent.length > 0) parts.push(`routed ${sent.map(describe).join(', ')}`);
  for (const d of deliveries) {
    if (d.status === 'withheld') parts.push(`withheld from ${d.destination}${partnerOf(d)}: ${d.withheldReason ?? 'no reason recorded'}`);
  }
  // Fixed routes took it but the attributed route could not: say so, or the CP's silence is unexplained.
  if (unmatched) parts.push(MEMBER_UNMATCHED);
  return parts.join('; ');
}

function describe(d: DeliveryInput): string {
  return `${d.routeId ? `by ${d.routeId} ` : ''}to ${d.destination}${partnerOf(d)}`;
}

function partnerOf(d: DeliveryInput): string {
  return d.partnerId ? ` (${d.partnerId})` : '';
}

/** Why nothing was sent: no adapter converted it, no route took it, the member is not on the roster, or no matched destination takes it. */
export type FilterKind = 'no-converter' | 'no-route' | 'unmatched' | 'no-destination';

/** The outcome of routing when nothing is sent: the filtered reason and its kind. */
export interface Filtered {
  reason: string;
  kind: FilterKind;
}

/**
 * Why a message that produced no delivery is filtered. A message without a conversion says so
 * first (its routes may have wanted FHIR); then an attributed route whose member is unknown
 * (the unmatched event is kept for late routing); then no route at all; then why each matched
 * destination got nothing.
 */
export function filterReason(
  message: { unconverted?: string },
  decisions: number,
  unmatched: boolean,
  skipped: readonly string[],
): Filtered {
  if (message.unconverted) return { reason: message.unconverted, kind: 'no-converter' };
  if (unmatched) return { reason: MEMBER_UNMATCHED, kind: 'unmatched' };
  if (decisions === 0 || skipped.length === 0) return { reason: NO_ROUTE_MATCHED, kind: 'no-route' };
  return { reason: skipped[0]!, kind: 'no-destination' };
}
