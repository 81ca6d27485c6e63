import type { Reference, Resource } from 'fhir/r4';
import { toFhirDate, toFhirDateTime, toFhirInstant } from '../../src/fhir/datetime.js';
import { idFromParts, resourceId } from '../../src/fhir/ids.js';
import type { Hl7Message, Segment } from '../../src/hl7v2/index.js';
import { compilePath, type Hl7Path } from '../../src/hl7v2/index.js';
import type { FieldName, MappingProfile } from '../../src/mapping/profile-schema.js';

const compiledFields = new WeakMap<MappingProfile, Partial<Record<FieldName, Hl7Path>>>();

/** The profile's field paths, compiled once per profile. */
function fieldPaths(profile: MappingProfile): Partial<Record<FieldName, Hl7Path>> {
  let c = compiledFields.get(profile);
  if (!c) {
    c = {};
    for (const [name, path] of Object.entries(profile.fields)) c[name as FieldName] = compilePath(path);
    compiledFields.set(profile, c);
  }
  return c;
}

/**
 * Everything one conversion needs: the message, the partner profile, warnings, and the
 * resources produced so far (deduplicated by id, so a practitioner named twice is one entry).
 */
export class ConversionContext {
  readonly warnings: string[] = [];
  private readonly resources = new Map<string, Resource>();
  private readonly memo = new Map<string, unknown>();
  readonly namespace: string;

  constructor(
    readonly msg: Hl7Message,
    readonly profile: MappingProfile,
  ) {
    this.namespace = profile.namespace ?? profile.id;
  }

  /** The segment and field number where a logical field lives per the profile. */
  locate(name: FieldName): { seg: Segment | undefined; field: number } {
    const p = fieldPaths(this.profile)[name];
    if (!p) return { seg: undefined, field: 0 };
    return { seg: this.msg.segment(p.segment, p.occurrence), field: p.field };
  }

  /** Decoded value of a logical field (first component, or the path's component). */
  value(name: FieldName): string {
    const p = fieldPaths(this.profile)[name];
    if (!p) return '';
    const seg = this.msg.segment(p.segment, p.occurrence);
    return seg ? seg.get(p.field, p.repetition, p.component, p.subcomponent) : '';
  }

  warn(text: string): void {
    this.warnings.push(text);
  }

  /** FHIR date from a v2 DTM, or undefined with a warning naming the field (never the value). */
  date(raw: string, where: string): string | undefined {
    if (!raw) return undefined;
    const r = toFhirDate(raw);
    if (r.ok) return r.value;
    this.warn(`${where}: invalid date dropped (${r.reason})`);
    return undefined;
  }

  dateTime(raw: string, where: string): string | undefined {
    if (!raw) return undefined;
    const r = toFhirDateTime(raw, { timeZone: this.profile.timeZone });
    if (r.ok) return r.value;
    this.warn(`${where}: invalid date/time dropped (${r.reason})`);
    return undefined;
  }

  instant(raw: string, where: string): string | undefined {
    if (!raw) return undefined;
    const r = toFhirInstant(raw, { timeZone: this.profile.timeZone });
    if (r.ok) return r.value;
    this.warn(`${where}: invalid instant dropped (${r.reason})`);
    return undefined;
  }

  /** Deterministic id from an identifier. */
  idFor(resourceType: string, system: string, value: string): string {
    return resourceId({ namespace: this.namespace, system, value, resourceType });
  }

  /** Deterministic id from arbitrary parts when there is no identifier to key on. */
  idFromParts(resourceType: string, ...parts: string[]): string {
    return idFromParts([this.namespace, resourceType, ...parts]);
  }

  /** A stable URN under the partner namespace for systems we cannot name. */
  localSystem(kind: string, name: string): string {
    const safe = encodeURIComponent(name || 'unknown').replace(/%20/g, '-');
    return `${this.namespaceSystem(kind)}:${safe}`;
  }

  /** `urn:carebridge:<namespace>:<kind>`: a system for values only this partner defines. */
  namespaceSystem(kind: string): string {
    return `urn:carebridge:${this.namespace}:${kind}`;
  }

  /** Builds a value once per conversion (the sending facility is named in four places, say). */
  once<T>(key: string, build: () => T): T {
    if (this.memo.has(key)) return this.memo.get(key) as T;
    const value = build();
    this.memo.set(key, value);
    return value;
  }

  add<T extends Resource>(resource: T): T {
    // Ids are unique across types (the type is part of every id's hash input), so the id alone is the key.
    const existing = this.resources.get(resource.id!);
    if (existing) return existing as T;
    this.resources.set(resource.id!, resource);
    return resource;
  }

  all(): Resource[] {
    return [...this.resources.values()];
  }
}

export function ref(resource: Resource, display?: string): Reference {
  const r: Reference = { reference: `urn:uuid:${resource.id}` };
  if (display) r.display = display;
  return r;
}

/**
 * Blanks out empty strings, empty arrays and empty objects (as undefined, which JSON omits) so
 * resources stay valid. Works in place on the freshly built objects to avoid copying them.
 */
export function compact<T>(value: T): T {
  prune(value);
  return value;
}

/** Returns true when the value ends up empty. Strings are trimmed by the parent (see below). */
function prune(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return true;
  if (typeof v !== 'object') return false;
  if (Array.isArray(v)) {
    let w = 0;
    for (let i = 0; i < v.length; i++) {
      const item = typeof v[i] === 'string' ? trimmed(v[i] as string) : v[i];
      if (!prune(item)) v[w++] = item;
    }
    v.length = w;
    return w === 0;
  }
  const o = v as Record<string, unknown>;
  let kept = 0;
  for (const k in o) {
    let x = o[k];
    // Set to undefined rather than delete: `delete` drops V8 objects into slow dictionary mode,
    // and JSON.stringify omits undefined members anyway.
    if (x === undefined) continue;
    if (typeof x === 'string') {
      // FHIR strings carry no leading/trailing whitespace; legacy feeds pad fields with spaces.
      const t = trimmed(x);
      if (t !== x) o[k] = x = t;
    }
    if (prune(x)) o[k] = undefined;
    else kept++;
  }
  return kept === 0;
}

function trimmed(s: string): string {
  const n = s.length;
  if (n === 0) return s;
  const a = s.charCodeAt(0);
  const b = s.charCodeAt(n - 1);
  return a <= 32 || b <= 32 ? s.trim() : s;
}
