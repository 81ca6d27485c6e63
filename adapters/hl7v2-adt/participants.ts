import type { Location, Organization, Practitioner } from 'fhir/r4';
import type { Segment } from '../../src/hl7v2/index.js';
import { readHDComponent, readXCN } from '../../src/hl7v2/index.js';
import { OID } from './codes.js';
import type { ConversionContext } from './context.js';
import { identifierSystem } from './datatypes.js';

/** XCN → Practitioner, keyed by its identifier (e.g. NPI) or, lacking one, by name. */
export function practitionerFromXCN(ctx: ConversionContext, seg: Segment, field: number, rep = 1): Practitioner | undefined {
  const x = readXCN(seg, field, rep);
  if (!x.id && !x.family && !x.given) return undefined;
  const typeCode = x.identifierTypeCode || (x.assigningAuthority.namespaceId.toUpperCase() === 'NPI' ? 'NPI' : '');
  const system = x.id ? identifierSystem(ctx, x.assigningAuthority, typeCode) : undefined;
  const id = system ? ctx.idFor('Practitioner', system, x.id) : ctx.idFromParts('Practitioner', 'name', x.family, x.given, x.middle);
  const given = [x.given, ...x.middle.split(/\s+/)].filter(Boolean);
  const practitioner: Practitioner = {
    resourceType: 'Practitioner',
    id,
    identifier: system ? [{ system, value: x.id }] : undefined,
    name:
      x.family || given.length
        ? [
            {
              family: x.family || undefined,
              given,
              prefix: x.prefix ? [x.prefix] : undefined,
              suffix: [x.suffix, x.degree].filter(Boolean),
            },
          ]
        : undefined,
  };
  return ctx.add(practitioner);
}

/** A facility code (HD namespace) → Organization, named by the profile's facility table. */
export function organizationForFacility(ctx: ConversionContext, code: string, universalId = ''): Organization | undefined {
  if (!code && !universalId) return undefined;
  // Length-prefixed so (code, universal id) pairs never run together into the same key.
  return ctx.once(`Organization ${code.length}:${code}${universalId}`, () => buildFacilityOrganization(ctx, code, universalId));
}

function buildFacilityOrganization(ctx: ConversionContext, code: string, universalId: string): Organization {
  const key = code || universalId;
  const known = ctx.profile.facilities[key];
  const system = ctx.namespaceSystem('facility');
  const org: Organization = {
    resourceType: 'Organization',
    id: known?.identifier
      ? ctx.idFor('Organization', known.identifier.system, known.identifier.value)
      : ctx.idFor('Organization', system, key),
    identifier: [
      known?.identifier,
      universalId && OID.test(universalId) ? { system: 'urn:ietf:rfc:3986', value: `urn:oid:${universalId}` } : undefined,
      { system, value: key },
    ].filter((i): i is { system: string; value: string } => i !== undefined),
    active: true,
    name: known?.name ?? key,
  };
  return ctx.add(org);
}

/**
 * PL (point of care^room^bed^facility^status^type^building^floor^description) → Location.
 * The most specific level present decides the physical type (bed, room or ward).
 */
export function locationFromPL(
  ctx: ConversionContext,
  seg: Segment,
  field: number,
): { location: Location; physicalType: string } | undefined {
  const poc = seg.get(field, 1, 1);
  const room = seg.get(field, 1, 2);
  const bed = seg.get(field, 1, 3);
  const facility = readHDComponent(seg, field, 1, 4);
  const building = seg.get(field, 1, 7);
  const floor = seg.get(field, 1, 8);
  const description = seg.get(field, 1, 9);
  if (!poc && !room && !bed && !description) return undefined;
  const org = organizationForFacility(ctx, facility.namespaceId, facility.universalId);
  const physicalType = bed ? 'bd' : room ? 'ro' : 'wa';
  const parts = [facility.namespaceId, building, floor, poc, room, bed];
  const name = description || [poc, room, bed].filter(Boolean).join(' ');
  const location: Location = {
    resourceType: 'Location',
    id: ctx.idFromParts('Location', ...parts),
    identifier: [
      { system: ctx.localSystem('location', facility.namespaceId || 'default'), value: parts.slice(1).join('^').replace(/\^+$/, '') },
    ],
    status: 'active',
    name,
    mode: 'instance',
    physicalType: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/location-physical-type', code: physicalType }] },
    managingOrganization: org ? { reference: `urn:uuid:${org.id}` } : undefined,
  };
  return { location: ctx.add(location), physicalType };
}
