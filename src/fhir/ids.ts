// Deterministic FHIR resource ids.
//
// The id of a resource is a UUID (RFC 9562 version 5: SHA-1 of a namespace and a name) computed from
// who says it (partner namespace), which identifier system and value, and the resource type. So:
//   - a resend of the same message yields the same ids (an update, not a duplicate);
//   - the same MRN at two hospitals (different partner namespace or system) never collides;
//   - a Patient and an Account keyed on the same identifier get different ids, which matters
//     because `urn:uuid:<id>` fullUrls must be unique within a Bundle.
// A UUID is a valid FHIR id ([A-Za-z0-9\-\.]{1,64}) and a valid urn:uuid, so one value serves both.
import { hash as oneShotHash } from 'node:crypto';

/** Root namespace of every carebridge id (a fixed random UUID; changing it changes every id). */
export const CAREBRIDGE_ID_NAMESPACE = '3b6f0c1e-8d3a-4f5e-9a71-2c4d8e6b5f10';

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface IdentityKey {
  /** Partner (sender) namespace, e.g. the partner id from the mapping profile. */
  namespace: string;
  /** Identifier system URI (never empty: an identifier without a system is not an identity). */
  system: string;
  /** Identifier value exactly as it will be emitted in Identifier.value. */
  value: string;
  /** FHIR resource type; strongly recommended so fullUrls stay unique across types in a Bundle. */
  resourceType?: string;
}

const namespaceBytesCache = new Map<string, Buffer>();

function uuidBytes(uuid: string): Buffer {
  let bytes = namespaceBytesCache.get(uuid);
  if (!bytes) {
    if (!UUID.test(uuid)) throw new TypeError(`not a UUID: ${uuid}`);
    bytes = Buffer.from(uuid.replace(/-/g, ''), 'hex');
    namespaceBytesCache.set(uuid, bytes);
  }
  return bytes;
}

/** Reused input buffer for SHA-1: namespace bytes, then the name (ids are computed ~15 times per message). */
const SCRATCH_BYTES = 4096;
const scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
let scratchNamespace = '';

/** RFC 9562 UUID version 5 of `name` in `namespace` (lower-case, hyphenated). */
export function uuidV5(name: string, namespace: string = CAREBRIDGE_ID_NAMESPACE): string {
  let input: Buffer;
  if (name.length * 3 <= SCRATCH_BYTES - 16) {
    if (scratchNamespace !== namespace) {
      uuidBytes(namespace).copy(scratch, 0);
      scratchNamespace = namespace;
    }
    input = scratch.subarray(0, 16 + scratch.write(name, 16, 'utf8'));
  } else {
    input = Buffer.concat([uuidBytes(namespace), Buffer.from(name, 'utf8')]);
  }
  // One-shot crypto.hash straight to hex: no Hash object, no intermediate digest Buffer.
  const h = oneShotHash('sha1', input, 'hex');
  // Version nibble (13th hex digit) is 5; the variant's top bits (17th digit) are 10.
  const variant = VARIANT_DIGIT[h.charCodeAt(16)];
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Hex digit -> the RFC variant digit (8, 9, a or b) that keeps its two low bits. */
const VARIANT_DIGIT: string[] = [];
for (const d of '0123456789abcdef') VARIANT_DIGIT[d.charCodeAt(0)] = ((parseInt(d, 16) & 0x3) | 0x8).toString(16);

/**
 * Deterministic resource id for an identity. The parts are JSON-encoded as an array, which is
 * injective: ("a|b","c") and ("a","b|c") can never produce the same name.
 */
export function resourceId(key: IdentityKey): string {
  if (!key.namespace) throw new TypeError('resourceId: namespace is required');
  if (!key.system) throw new TypeError('resourceId: identifier system is required');
  if (!key.value) throw new TypeError('resourceId: identifier value is required');
  const parts = key.resourceType ? [key.namespace, key.system, key.value, key.resourceType] : [key.namespace, key.system, key.value];
  return idFromParts(parts);
}

/** Deterministic id from a list of strings (JSON-encoded, so ("a|b","c") and ("a","b|c") differ). */
export function idFromParts(parts: readonly string[]): string {
  return uuidV5(jsonStringArray(parts));
}

const NEEDS_JSON_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * JSON.stringify of an array of strings, exactly, without its generic machinery when no value
 * needs escaping (the usual case; ids are computed for every resource of every message).
 */
export function jsonStringArray(parts: readonly string[]): string {
  if (parts.length === 0) return '[]';
  let s = '["';
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (NEEDS_JSON_ESCAPE.test(p)) return JSON.stringify(parts);
    s += i === 0 ? p : '","' + p;
  }
  return s + '"]';
}

/** `urn:uuid:` form for Bundle.entry.fullUrl, from an identity or an existing UUID id. */
export function urnUuid(keyOrUuid: IdentityKey | string): string {
  const id = typeof keyOrUuid === 'string' ? keyOrUuid : resourceId(keyOrUuid);
  if (!UUID.test(id)) throw new TypeError(`urnUuid: not a UUID: ${id}`);
  return `urn:uuid:${id.toLowerCase()}`;
}

/** True when `id` is a valid FHIR R4 id. */
export function isFhirId(id: string): boolean {
  return FHIR_ID.test(id);
}

/** True when `id` is a UUID (so it can be used in a urn:uuid fullUrl). */
export function isUuid(id: string): boolean {
  return UUID.test(id);
}
