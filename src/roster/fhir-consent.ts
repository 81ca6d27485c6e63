import type { ConsentCategory } from './store-types.js';

/**
 * Reads a FHIR R4 Consent (privacy consent) into roster consent decisions. A Consent counts when:
 *  - the member is named by `patient.identifier` (or a contained Patient's identifiers);
 *  - the recipient partner is a `provision.actor` (role IRCP, information recipient) whose
 *    `reference.identifier.value` is a partner id (any system), or `organization[0].identifier`;
 *  - the category comes from `provision.securityLabel` (or `provision.class`/`category` codes):
 *    PSY → behavioral-health; ETH or 42CFRPart2 → substance-use;
 *  - granted = status `active` and `provision.type` `permit` (a `deny`, or status
 *    inactive/rejected/entered-in-error, records a refusal or revocation).
 * Anything it cannot read is an issue (never a field value) and nothing is recorded.
 */
export interface ConsentDecision {
  identifiers: { system?: string; value: string }[];
  partnerId: string;
  category: ConsentCategory;
  granted: boolean;
  recordedAt?: Date;
}

type Json = Record<string, unknown>;
const arr = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);
const obj = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);

const CATEGORY_BY_CODE: Record<string, ConsentCategory> = { PSY: 'behavioral-health', ETH: 'substance-use', '42CFRPart2': 'substance-use' };

export function consentDecisions(resource: unknown): { decisions: ConsentDecision[]; issues: string[] } {
  const c = obj(resource);
  if (!c || c.resourceType !== 'Consent') return { decisions: [], issues: ['not a Consent'] };
  const issues: string[] = [];
  const patient = obj(c.patient);
  const identifiers: { system?: string; value: string }[] = [];
  const take = (i: Json | undefined) => {
    if (i && typeof i.value === 'string') identifiers.push({ system: typeof i.system === 'string' ? i.system : undefined, value: i.value });
  };
  take(obj(patient?.identifier));
  const ref = typeof patient?.reference === 'string' ? patient.reference : '';
  if (ref.startsWith('#')) {
    const contained = arr(c.contained).find((r) => r.resourceType === 'Patient' && r.id === ref.slice(1));
    for (const i of arr(contained?.identifier)) take(i);
  }
  if (identifiers.length === 0) issues.push('Consent.patient must carry an identifier (or reference a contained Patient with one)');

  const provision = obj(c.provision);
  const partners = new Set<string>();
  for (const a of arr(provision?.actor)) {
    const v = obj(obj(a.reference)?.identifier)?.value;
    if (typeof v === 'string' && v) partners.add(v);
  }
  if (partners.size === 0) {
    const v = obj(arr(c.organization)[0]?.identifier)?.value;
    if (typeof v === 'string' && v) partners.add(v);
  }
  if (partners.size === 0) issues.push('Consent.provision.actor must name the recipient partner (reference.identifier.value)');

  const categories = new Set<ConsentCategory>();
  const codes = [...arr(provision?.securityLabel), ...arr(provision?.class), ...arr(c.category).flatMap((cc) => arr(cc.coding))];
  for (const code of codes) {
    const cat = typeof code.code === 'string' ? CATEGORY_BY_CODE[code.code] : undefined;
    if (cat) categories.add(cat);
  }
  if (categories.size === 0)
    issues.push('Consent.provision.securityLabel must say PSY (behavioral health) or ETH/42CFRPart2 (substance use)');
  if (issues.length) return { decisions: [], issues };

  const granted = c.status === 'active' && provision?.type !== 'deny';
  const when = typeof c.dateTime === 'string' ? new Date(c.dateTime) : undefined;
  const recordedAt = when && !Number.isNaN(when.getTime()) ? when : undefined;
  const decisions: ConsentDecision[] = [];
  for (const partnerId of partners)
    for (const category of categories) decisions.push({ identifiers, partnerId, category, granted, recordedAt });
  return { decisions, issues };
}
