import type { Reference, Resource } from 'fhir/r4';
import { toFhirDate, toFhirDateTime, toFhirInstant } from '../../src/fhir/datetime.js';
import { resourceId, uuidV5 } from '../../src/fhir/ids.js';
import type { Hl7Message, Segment } from '../../src/hl7v2/index.js';
import { compilePath } from '../../src/hl7v2/index.js';
import type { FieldName, MappingProfile } from '../../src/mapping/profile-schema.js';

/**
 * Everything one conversion needs: the message, the partner profile, warnings, and the
 * resources produced so far (deduplicated by id, so a practitioner named twice is one entry).
 */
export class ConversionContext {
  readonly warnings: string[] = [];
  private readonly resources = new Map<string, Resource>();
  readonly namespace: string;

  constructor(
    readonly msg: Hl7Message,
    readonly profile: MappingProfile,
  ) {
    this.namespace = profile.namespace ?? profile.id;
  }

  /** The segment and field number where a logical field lives per the profile. */
  locate(name: FieldName): { seg: Segment | undefined; field: number; path: string } {
    const path = this.profile.fields[name];
    if (!path) return { seg: undefined, field: 0, path: '' };
    const p = compilePath(path);
    return { seg: this.msg.segment(p.segment, p.occurrence), field: p.field, path };
  }

  /** Decoded value of a logical field's first component. */
  value(name: FieldName): string {
    const { seg, field } = this.locate(name);
    return seg ? seg.get(field) : '';
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
    return uuidV5(JSON.stringify([this.namespace, resourceType, ...parts]));
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

  add<T extends Resource>(resource: T): T {
    const key = `${resource.resourceType}/${resource.id}`;
    const existing = this.resources.get(key);
    if (existing) return existing as T;
    this.resources.set(key, resource);
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

/** Drops undefined, empty strings, empty arrays and empty objects so resources stay valid. */
export function compact<T>(value: T): T {
  if (Array.isArray(value)) {
    const arr = value.map(compact).filter((v) => !isEmpty(v));
    return arr as T;
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const c = compact(v);
      if (!isEmpty(c)) out[k] = c;
    }
    return out as T;
  }
  return value;
}

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v as object).length === 0;
  return false;
}
