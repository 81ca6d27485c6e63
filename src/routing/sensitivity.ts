import type { Coding, Resource } from 'fhir/r4';

export type SensitiveCategory = 'behavioral-health' | 'substance-use';

export interface SensitivityPolicy {
  /** Facility code (MSH-4 / PV1-3.4 namespace) → category. */
  facilities: ReadonlyMap<string, SensitiveCategory>;
  /** Hospital service (PV1-10) → category. */
  services: ReadonlyMap<string, SensitiveCategory>;
}

export function sensitivityPolicy(config: {
  sensitiveFacilities: { code: string; category: SensitiveCategory }[];
  sensitiveServices: { code: string; category: SensitiveCategory }[];
}): SensitivityPolicy {
  return {
    facilities: new Map(config.sensitiveFacilities.map((e) => [e.code, e.category])),
    services: new Map(config.sensitiveServices.map((e) => [e.code, e.category])),
  };
}

/**
 * The most restrictive category an event falls under: substance-use treatment (42 CFR Part 2)
 * outranks behavioral health, which outranks none.
 */
export function sensitivityOf(facts: { facilities: string[]; service: string }, policy: SensitivityPolicy): SensitiveCategory | undefined {
  const found = new Set<SensitiveCategory>();
  for (const f of facts.facilities) {
    const c = policy.facilities.get(f);
    if (c) found.add(c);
  }
  const s = facts.service ? policy.services.get(facts.service) : undefined;
  if (s) found.add(s);
  if (found.has('substance-use')) return 'substance-use';
  if (found.has('behavioral-health')) return 'behavioral-health';
  return undefined;
}

const CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

/**
 * HL7 security labels (FHIR Security Labels): restricted confidentiality plus the sensitivity
 * type — PSY (psychiatry) for behavioral health, ETH (substance abuse) and the 42CFRPart2 policy
 * with NORDSCLCD (no redisclosure without consent) for substance-use treatment.
 */
export function securityLabels(category: SensitiveCategory): Coding[] {
  const labels: Coding[] = [{ system: CONFIDENTIALITY, code: 'R', display: 'restricted' }];
  if (category === 'behavioral-health')
    labels.push({ system: ACT_CODE, code: 'PSY', display: 'psychiatry disorder information sensitivity' });
  else {
    labels.push({ system: ACT_CODE, code: 'ETH', display: 'substance abuse information sensitivity' });
    labels.push({ system: ACT_CODE, code: '42CFRPart2', display: '42 CFR Part2' });
    labels.push({ system: ACT_CODE, code: 'NORDSCLCD', display: 'no redisclosure without consent directive' });
  }
  return labels;
}

/** Adds the labels to a resource's meta.security (and to every entry of a Bundle). */
export function applySecurityLabels(resource: Resource, labels: Coding[]): void {
  const add = (r: Resource) => {
    r.meta ??= {};
    const have = new Set((r.meta.security ?? []).map((c) => `${c.system}|${c.code}`));
    r.meta.security = [...(r.meta.security ?? []), ...labels.filter((l) => !have.has(`${l.system}|${l.code}`))];
  };
  add(resource);
  const entries = (resource as { entry?: { resource?: Resource }[] }).entry;
  for (const e of entries ?? []) if (e.resource) add(e.resource);
}
