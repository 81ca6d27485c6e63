// References handed to the care-plan builders: accepted as Reference objects or "Type/id" strings,
// checked for the resource types R4 allows in each element, and keyed for deterministic ids.
import type { Reference } from 'fhir/r4.js';

export type ReferenceInput = Reference | string;

// "Patient/123", "Patient/123/_history/2", or an absolute URL ending in one of those.
const LITERAL = /(?:^|\/)([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

export function toReference(value: ReferenceInput): Reference {
  return typeof value === 'string' ? { reference: value } : value;
}

/** Resource type named by the reference (its `type`, else its literal form), if it names one. */
export function referencedType(ref: Reference): string | undefined {
  if (ref.type) return ref.type;
  if (!ref.reference || ref.reference.startsWith('urn:')) return undefined;
  return LITERAL.exec(ref.reference)?.[1];
}

/**
 * The reference, normalized, after checking it points at one of `allowed` types. A reference whose type
 * cannot be told (urn:uuid inside a Bundle, a logical identifier without `type`) is accepted as is.
 */
export function checkedReference(value: ReferenceInput, allowed: readonly string[], what: string): Reference {
  const ref = toReference(value);
  if (!ref.reference && !ref.identifier?.value) {
    throw new TypeError(`${what}: a reference needs .reference or .identifier`);
  }
  const type = referencedType(ref);
  if (type !== undefined && !allowed.includes(type)) {
    throw new TypeError(`${what}: must reference ${allowed.join(' | ')}, got ${type}`);
  }
  return ref;
}

/** A stable text key for a reference, for deterministic ids (literal reference, else system|value). */
export function referenceKey(ref: Reference): string {
  if (ref.reference) return ref.reference;
  if (ref.identifier?.system && ref.identifier.value) return `${ref.type ?? ''}|${ref.identifier.system}|${ref.identifier.value}`;
  throw new TypeError('a reference used in an id needs .reference or an identifier with system and value');
}
