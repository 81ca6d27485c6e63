import type { Location, Organization, Practitioner } from 'fhir/r4';
import type { Segment } from '../../src/hl7v2/index.js';
import { readHDComponent, readXCN } from '../../src/hl7v2/index.js';
import { OID } from './codes.js';
import type { ConversionContext } from './context.js';
import { identifierSystem } from './datatypes.js';
import { sealed, shared } from './shared-resources.js';

/** Delimiters decide how a raw field decodes, so values cached on raw text are kept per delimiter set. */
function rawKind(kind: string, seg: Segment): string {
  const d = seg.delimiters;
  return kind + d.component + d.repetition + d.escape + d.subcomponent;
}

/** XCN → Practitioner, keyed by its identifier (e.g. NPI) or, lacking one, by name. */
export function practitionerFromXCN(ctx: ConversionContext, seg: Segment, field: number, rep = 1): Practitioner | undefined {
  const raw = seg.rawRepetition(field, rep);
  if (!raw) return undefined;
  const practitioner = shared(ctx.profile, rawKind('Practitioner', seg), raw, () => buildPractitioner(ctx, seg, field, rep));
  return practitioner ? ctx.add(practitioner) : undefined;
}

function buildPractitioner(ctx: ConversionContext, seg: Segment, field: number, rep: number): Practitioner | undefined {
  const x = readXCN(seg, field, rep);
  if (!x.id && !x.family && !x.given) return undefined;
  const typeCode = x.identifierTypeCode || (x.assigningAuthority.namespaceId.toUpperCase() === 'NPI' ? 'NPI' : '');
  const system = x.id ? identifierSystem(ctx, x.assigningAuthority, typeCode) : undefined;
  const id = system ? ctx.idFor('Practitioner', system, x.id) : ctx.idFromParts('Practitioner', 'name', x.family, x.given, x.middle);
  const given = [x.given, ...x.middle.split(/\s+/)].filter(Boolean);
  return sealed<Practitioner>({
    resourceType: 'Practitioner',
    id,
    identifier: system ? [{ system, value: x.id }] : undefined,
    name: x.family || given.length ? [{ family: x.family || undefined, given, prefix: x.prefix ? [x.prefix] : undefined, suffix: [x.suffix, x.degree].filter(Boolean) }] : undefined,
  });
}

/** A facility code (HD namespace) → Organization, named by the profile's facility table. */
export function organizationForFacility(ctx: ConversionContext, code: string, universalId = ''): Organization | undefined {
  const org = facilityOrganization(ctx, code, universalId);
  return org ? ctx.add(org) : undefined;
}

/** The (shared) Organization for a facility, not yet added to the conversion. */
function facilityOrganization(ctx: ConversionContext, code: string, universalId: string): Organization | undefined {
  if (!code && !universalId) return undefined;
  // Two tables so the keys stay injective: by code alone, and by length-prefixed code + universal id.
  const kind = universalId ? 'Organization+uid' : 'Organization';
  const cacheKey = universalId ? `${code.length}:${code}${universalId}` : code;
  return shared(ctx.profile, kind, cacheKey, () => {
    const key = code || universalId;
    const known = ctx.profile.facilities[key];
    const system = ctx.namespaceSystem('facility');
    return sealed<Organization>({
      resourceType: 'Organization',
      id: known?.identifier ? ctx.idFor('Organization', known.identifier.system, known.identifier.value) : ctx.idFor('Organization', system, key),
      identifier: [
        known?.identifier,
        universalId && OID.test(universalId) ? { system: 'urn:ietf:rfc:3986', value: `urn:oid:${universalId}` } : undefined,
        { system, value: key },
      ].filter((i): i is { system: string; value: string } => i !== undefined),
      active: true,
      name: known?.name ?? key,
    });
  });
}

/**
 * PL (point of care^room^bed^facility^status^type^building^floor^description) → Location.
 * The most specific level present decides the physical type (bed, room or ward).
 */
export function locationFromPL(ctx: ConversionContext, seg: Segment, field: number): { location: Location; physicalType: string } | undefined {
  const raw = seg.rawRepetition(field, 1);
  if (!raw) return undefined;
  const built = shared(ctx.profile, rawKind('Location', seg), raw, () => buildLocation(ctx, seg, field));
  if (!built) return undefined;
  // Same order as building them fresh: the managing organization first, then the location.
  if (built.org) ctx.add(built.org);
  return { location: ctx.add(built.location), physicalType: built.physicalType };
}

function buildLocation(ctx: ConversionContext, seg: Segment, field: number): { location: Location; physicalType: string; org?: Organization } | undefined {
  const poc = seg.get(field, 1, 1);
  const room = seg.get(field, 1, 2);
  const bed = seg.get(field, 1, 3);
  const facility = readHDComponent(seg, field, 1, 4);
  const building = seg.get(field, 1, 7);
  const floor = seg.get(field, 1, 8);
  const description = seg.get(field, 1, 9);
  if (!poc && !room && !bed && !description) return undefined;
  const org = facilityOrganization(ctx, facility.namespaceId, facility.universalId);
  const physicalType = bed ? 'bd' : room ? 'ro' : 'wa';
  const parts = [facility.namespaceId, building, floor, poc, room, bed];
  const name = description || [poc, room, bed].filter(Boolean).join(' ');
  const location = sealed<Location>({
    resourceType: 'Location',
    id: ctx.idFromParts('Location', ...parts),
    identifier: [{ system: ctx.localSystem('location', facility.namespaceId || 'default'), value: parts.slice(1).join('^').replace(/\^+$/, '') }],
    status: 'active',
    name,
    mode: 'instance',
    physicalType: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/location-physical-type', code: physicalType }] },
    managingOrganization: org ? { reference: `urn:uuid:${org.id}` } : undefined,
  });
  return { location, physicalType, org };
}
