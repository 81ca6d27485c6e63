import type { Reference, Resource } from 'fhir/r4';
import { toFhirDate, toFhirDateTime, toFhirInstant } from '../../src/fhir/datetime.js';
import { idFromParts, resourceId } from '../../src/fhir/ids.js';
import type { Hl7Message, Segment } from '../../src/hl7v2/index.js';
import { compilePath, type Hl7Path } from '../../src/hl7v2/index.js';
import type { FieldName, MappingProfile, SegmentKey } from '../../src/mapping/profile-schema.js';

const NONE: readonly Segment[] = [];
const compiledPaths = new Map<string, Hl7Path>();

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
  readonly warnings: string[];
  private readonly resources: Map<string, Resource>;
  private readonly memo: Map<string, unknown>;
  readonly namespace: string;
  /** Segments by name, built on first use (one pass; lookups after that are map reads). */
  private index: Map<string, Segment[]> | undefined;

  /**
   * `scope` narrows segment lookups to one patient group of a multi-patient message (A17, A24,
   * A39 …): the segments before the first PID plus that group's. Undefined = the whole message.
   */
  constructor(
    readonly msg: Hl7Message,
    readonly profile: MappingProfile,
    private readonly scope?: readonly Segment[],
    shared?: ConversionContext,
  ) {
    this.namespace = profile.namespace ?? profile.id;
    this.warnings = shared ? shared.warnings : [];
    this.resources = shared ? shared.resources : new Map();
    this.memo = shared ? shared.memo : new Map();
  }

  /** The same conversion (warnings, resources) with lookups limited to one patient group. */
  forGroup(segments: readonly Segment[]): ConversionContext {
    return new ConversionContext(this.msg, this.profile, segments, this);
  }

  /** Every segment in scope, in message order (the whole message, or one patient group's). */
  inScope(): readonly Segment[] {
    return this.scope ?? this.msg.segments;
  }

  /** Every segment with this name in scope, in message order (a shared empty array when none). */
  segments(name: string): readonly Segment[] {
    if (!this.index) {
      this.index = new Map();
      for (const s of this.scope ?? this.msg.segments) {
        const list = this.index.get(s.name);
        if (list) list.push(s);
        else this.index.set(s.name, [s]);
      }
    }
    return this.index.get(name) ?? NONE;
  }

  /** The n-th (1-based) segment with this name in scope. */
  segment(name: string, occurrence = 1): Segment | undefined {
    return this.segments(name)[occurrence - 1];
  }

  /** The first `name` segment right after `seg` among the `within` companions (IN2 after its IN1, say). */
  companion(seg: Segment, name: string, within: readonly string[]): Segment | undefined {
    const all = this.scope ?? this.msg.segments;
    for (let i = all.indexOf(seg) + 1; i < all.length; i++) {
      const s = all[i]!;
      if (s.name === name) return s;
      if (!within.includes(s.name)) return undefined;
    }
    return undefined;
  }

  /** A terser path (e.g. `PID-19`, `IN1-36`) read in scope; compiled once per path string. */
  get(path: string): string {
    let p = compiledPaths.get(path);
    if (!p) compiledPaths.set(path, (p = compilePath(path)));
    const seg = this.segment(p.segment, p.occurrence);
    return seg ? seg.get(p.field, p.repetition, p.component, p.subcomponent) : '';
  }

  /** Whether the partner profile maps this segment (`segments: { DG1: false }` switches it off). */
  maps(segment: SegmentKey): boolean {
    return this.profile.segments?.[segment] !== false;
  }

  /** The segment and field number where a logical field lives per the profile. */
  locate(name: FieldName): { seg: Segment | undefined; field: number } {
    const p = fieldPaths(this.profile)[name];
    if (!p) return { seg: undefined, field: 0 };
    return { seg: this.segment(p.segment, p.occurrence), field: p.field };
  }

  /** Decoded value of a logical field (first component, or the path's component). */
  value(name: FieldName): string {
    const p = fieldPaths(this.profile)[name];
    if (!p) return '';
    const seg = this.segment(p.segment, p.occurrence);
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
  if (typeof value === 'object' && value !== null) {
    if (Array.isArray(value)) emptyArray(value);
    else emptyObject(value as Record<string, unknown>);
  }
  return value;
}

// The pass visits every member of every resource (~400 per ADT Bundle), so strings and the
// common cases are handled inline rather than by a recursive call per member.

/** Prunes an object's members in place; true when none is left. */
function emptyObject(o: Record<string, unknown>): boolean {
  let kept = 0;
  for (const k in o) {
    const x = o[k];
    // Set to undefined rather than delete: `delete` drops V8 objects into slow dictionary mode,
    // and JSON.stringify omits undefined members anyway.
    if (x === undefined) continue;
    if (typeof x === 'string') {
      const t = trimmed(x);
      if (t === '') o[k] = undefined;
      else {
        if (t !== x) o[k] = t;
        kept++;
      }
    } else if (typeof x === 'object') {
      if (x === null || (Array.isArray(x) ? emptyArray(x) : emptyObject(x as Record<string, unknown>))) o[k] = undefined;
      else kept++;
    } else kept++;
  }
  return kept === 0;
}

/** Drops empty items from an array in place; true when none is left. */
function emptyArray(v: unknown[]): boolean {
  let w = 0;
  for (let i = 0; i < v.length; i++) {
    let x = v[i];
    if (x === undefined || x === null) continue;
    if (typeof x === 'string') {
      x = trimmed(x);
      if (x === '') continue;
    } else if (typeof x === 'object' && (Array.isArray(x) ? emptyArray(x) : emptyObject(x as Record<string, unknown>))) continue;
    v[w++] = x;
  }
  if (w !== v.length) v.length = w;
  return w === 0;
}

/** FHIR strings carry no leading/trailing whitespace; legacy feeds pad fields with spaces. */
function trimmed(s: string): string {
  const n = s.length;
  if (n === 0) return s;
  return s.charCodeAt(0) <= 32 || s.charCodeAt(n - 1) <= 32 ? s.trim() : s;
}
