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

/** RFC 9562 UUID version 5 of `name` in `namespace` (lower-case, hyphenated). */
export function uuidV5(name: string, namespace: string = CAREBRIDGE_ID_NAMESPACE): string {
  // One-shot crypto.hash avoids the Hash object's per-call setup, which dominated id generation.
  const hash = oneShotHash('sha1', Buffer.concat([uuidBytes(namespace), Buffer.from(name, 'utf8')]), 'buffer') as Buffer;
  hash[6] = (hash[6] & 0x0f) | 0x50; // version 5
  hash[8] = (hash[8] & 0x3f) | 0x80; // RFC variant
  const hex = hash.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Deterministic resource id for an identity. The parts are JSON-encoded as an array, which is
 * injective: ("a|b","c") and ("a","b|c") can never produce the same name.
 */
export function resourceId(key: IdentityKey): string {
  if (!key.namespace) throw new TypeError('resourceId: namespace is required');
  if (!key.system) throw new TypeError('resourceId: identifier system is required');
  if (!key.value) throw new TypeError('resourceId: identifier value is required');
  const parts = key.resourceType
    ? [key.namespace, key.system, key.value, key.resourceType]
    : [key.namespace, key.system, key.value];
  return uuidV5(JSON.stringify(parts));
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
