import { z } from 'zod';
import { isValidTimeZone } from '../fhir/datetime.js';

/** A terser path naming where a logical field lives, e.g. `PID-19` or `PV1-3`. */
const path = z.string().regex(/^[A-Z][A-Z0-9]{2}(\[\d+\])?-\d+(\[\d+\])?(\.\d+){0,2}$/, 'must be a path like PID-3 or PV1-44');
const uri = z
  .string()
  .regex(/^(https?:\/\/\S+|urn:(oid|uuid|[a-z0-9-]+):\S+)$/i, 'must be an absolute URI (http(s)://, urn:oid:, urn:...)');

const conceptTarget = z.object({
  code: z.string().min(1),
  system: uri.optional(),
  display: z.string().optional(),
});

/** Where an identifier outside PID-3 comes from (e.g. a Medicaid id in PID-19). */
const extraIdentifier = z.object({
  path,
  system: uri,
  /** v2-0203 identifier type code, e.g. MA (Medicaid), MR, SS. */
  type: z.string().optional(),
});

/** Re-labels PID-3 repetitions from one assigning authority (e.g. the state Medicaid id). */
const identifierRule = z.object({
  authority: z.string().min(1),
  system: uri.optional(),
  type: z.string().optional(),
});

const zSegmentRule = z
  .object({
    segment: z.string().regex(/^Z[A-Z0-9]{2}$/, 'must be a Z-segment id like ZPI'),
    field: z.number().int().min(1),
    component: z.number().int().min(1).optional(),
    resource: z.enum(['Patient', 'Encounter']),
    as: z.enum(['extension', 'identifier']),
    /** Extension url (as: extension) — required then. */
    url: uri.optional(),
    /** Identifier system (as: identifier) — required then. */
    system: uri.optional(),
    type: z.string().optional(),
  })
  .superRefine((r, ctx) => {
    if (r.as === 'extension' && !r.url) ctx.addIssue({ code: 'custom', path: ['url'], message: 'required when as: extension' });
    if (r.as === 'identifier' && !r.system) ctx.addIssue({ code: 'custom', path: ['system'], message: 'required when as: identifier' });
  });

const facility = z.object({
  name: z.string().min(1),
  /** An identifier for the Organization, e.g. NPI or a CMS certification number. */
  identifier: z.object({ system: uri, value: z.string().min(1) }).optional(),
  /** Flags used by routing/consent (later issues); carried through as-is. */
  sensitivity: z.array(z.string()).optional(),
});

export const FIELD_NAMES = [
  'patientIdentifiers',
  'patientName',
  'birthDate',
  'sex',
  'race',
  'ethnicity',
  'address',
  'homePhone',
  'businessPhone',
  'language',
  'maritalStatus',
  'ssn',
  'deathDate',
  'deathIndicator',
  'pcp',
  'pcpOrganization',
  'patientClass',
  'location',
  'priorLocation',
  'attending',
  'referring',
  'consulting',
  'admitting',
  'hospitalService',
  'admitSource',
  'readmission',
  'visitNumber',
  'dischargeDisposition',
  'admitTime',
  'dischargeTime',
  'admitReason',
  'recordedTime',
  'eventReason',
  'operator',
  'eventOccurred',
  'externalId',
  'alternateIds',
  'driversLicense',
  'accountNumber',
  'temporaryLocation',
  'pendingLocation',
] as const;
export type FieldName = (typeof FIELD_NAMES)[number];

/**
 * Segments whose mapping a partner can switch off (`segments: { DG1: false }`). IN1 covers its
 * IN2/IN3 companions; ROL and PRT are participations; OBX is mapped by the observation builder.
 */
export const SEGMENT_KEYS = ['PD1', 'NK1', 'DG1', 'AL1', 'IAM', 'PR1', 'IN1', 'GT1', 'ROL', 'PRT', 'DB1', 'ACC', 'OBX'] as const;
export type SegmentKey = (typeof SEGMENT_KEYS)[number];

/**
 * Where the Medicaid member id may also be found: IN2-8 (Medicaid case number) always, IN1-36
 * (policy number) when the insurance is Medicaid by its plan type (IN1-15) or payer id (IN1-3.1, IN1-2.1).
 */
const medicaid = z
  .object({
    system: uri,
    planTypes: z.array(z.string().min(1)),
    payerIds: z.array(z.string().min(1)),
  })
  .strict();

export const profileSchema = z
  .object({
    /** Profile id: the partner id for overlays, `base` for the base profile. */
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, - and _'),
    format: z.literal('hl7v2-adt'),
    /** Namespace for deterministic resource ids and fallback identifier URNs; default the id. */
    namespace: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]*$/i)
      .optional(),
    timeZone: z.string().refine(isValidTimeZone, 'must be an IANA time zone such as America/New_York'),
    /** Assigning authority (HD namespace id or universal id) → identifier system URI. */
    identifierSystems: z.record(z.string(), uri),
    /** Identifier type code (CX-5) → system, used when the authority is unknown (e.g. SS, NPI). */
    identifierTypeSystems: z.record(z.string(), uri),
    identifierRules: z.array(identifierRule),
    extraIdentifiers: z.array(extraIdentifier),
    /** Logical field → path; lets a partner say its data lives elsewhere. */
    fields: z.record(z.enum(FIELD_NAMES), path),
    /** Concept map name → v2 code → FHIR target; overrides the IG maps. */
    conceptMaps: z.record(z.string(), z.record(z.string(), conceptTarget)),
    zSegments: z.array(zSegmentRule),
    /** Facility code (HD namespace of PV1-3.4 / MSH-4) → Organization. */
    facilities: z.record(z.string(), facility),
    /** NK1 as RelatedPerson resources (default) or Patient.contact. */
    nextOfKinAs: z.enum(['RelatedPerson', 'contact']),
    /** Coding system names in CWE-3 → URIs (I10 → ICD-10-CM, ...). */
    codingSystems: z.record(z.string(), uri),
    /** Segment → false to leave it unmapped for this partner (all mapped by default). */
    segments: z
      .record(z.string(), z.boolean())
      .superRefine((r, ctx) => {
        for (const k of Object.keys(r)) {
          if (!(SEGMENT_KEYS as readonly string[]).includes(k))
            ctx.addIssue({ code: 'custom', path: [k], message: `not a mappable segment (one of ${SEGMENT_KEYS.join(', ')})` });
        }
      })
      .optional(),
    /** The Medicaid member id found in insurance segments, as a Patient identifier (type MA). */
    medicaid: medicaid.optional(),
  })
  .strict();

export type MappingProfile = z.infer<typeof profileSchema>;
export type ZSegmentRule = z.infer<typeof zSegmentRule>;
export type ConceptTarget = z.infer<typeof conceptTarget>;
