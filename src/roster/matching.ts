import type { IdentifierOwner, MemberIdentifier } from './store-types.js';

// How a patient from an ADT event is matched to a roster member. Pure functions: the store does
// the lookups, these decide.

const norm = (s: string | undefined): string => (s ?? '').trim().replace(/\s+/g, ' ').toUpperCase();

/**
 * The exact-demographics key: family | first given | birth date | sex, trimmed and upper-cased
 * (case and spacing are how the same name differs between systems; anything else is a different
 * name). Undefined when any part is missing: a partial match is not an exact match.
 */
export function matchKey(p: { family?: string; given?: string; birthDate?: string; sex?: string }): string | undefined {
  const parts = [norm(p.family), norm(p.given), (p.birthDate ?? '').trim(), norm(p.sex)];
  return parts.every((x) => x !== '') ? parts.join('|') : undefined;
}

export const identifierKey = (system: string, value: string): string => `${system}\u0000${value}`;

/**
 * The member the patient's identifiers point to, trying systems in precedence order (empty
 * precedence: the patient's own order, any system). Identifiers of systems not in a non-empty
 * precedence are ignored: an untrusted MRN must not attach an event to someone.
 */
export function pickByPrecedence(
  patientIdentifiers: readonly MemberIdentifier[],
  owners: readonly IdentifierOwner[],
  precedence: readonly string[],
): string | undefined {
  const owner = new Map(owners.map((o) => [identifierKey(o.system, o.value), o.memberId]));
  const ordered =
    precedence.length === 0 ? patientIdentifiers : precedence.flatMap((system) => patientIdentifiers.filter((i) => i.system === system));
  for (const i of ordered) {
    const m = owner.get(identifierKey(i.system, i.value));
    if (m !== undefined) return m;
  }
  return undefined;
}

/** Only the identifiers worth asking the store about. */
export function candidateIdentifiers(patientIdentifiers: readonly MemberIdentifier[], precedence: readonly string[]): MemberIdentifier[] {
  const usable = patientIdentifiers.filter((i) => i.system && i.value);
  return precedence.length === 0 ? usable : usable.filter((i) => precedence.includes(i.system));
}
