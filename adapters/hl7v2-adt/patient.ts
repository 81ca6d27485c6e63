import type { Extension, Identifier, Patient } from 'fhir/r4';
import { MappingError } from '../../src/conversion/errors.js';
import { readCWE, readXON } from '../../src/hl7v2/index.js';
import { codeableConcept, mapCode } from './codes.js';
import { ref, type ConversionContext } from './context.js';
import { addressesFromField, identifiersFromField, namesFromField, telecomFromField } from './datatypes.js';
import { organizationForFacility, practitionerFromXCN } from './participants.js';

const US_CORE_RACE = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race';
const US_CORE_ETHNICITY = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity';
const CDC_RACE = 'urn:oid:2.16.840.1.113883.6.238';
const OMB_RACE = new Set(['1002-5', '2028-9', '2054-5', '2076-8', '2106-3']);
const OMB_ETHNICITY = new Set(['2135-2', '2186-5']);
const DATA_ABSENT = 'http://hl7.org/fhir/StructureDefinition/data-absent-reason';

/** The patient's identifiers from PID-3 (or where the profile says), PID-19 SSN and profile extras. */
export function patientIdentifiers(ctx: ConversionContext): Identifier[] {
  const { seg, field } = ctx.locate('patientIdentifiers');
  const ids = identifiersFromField(ctx, seg, field, 'PID-3');
  // PID-2 and PID-4 after PID-3, so Patient.id keeps keying on PID-3 when they are present.
  for (const name of ['externalId', 'alternateIds'] as const) {
    const at = ctx.locate(name);
    if (at.seg && !usedElsewhere(ctx, name))
      ids.push(...identifiersFromField(ctx, at.seg, at.field, name === 'externalId' ? 'PID-2' : 'PID-4'));
  }
  const ssn = ctx.locate('ssn');
  const ssnValue = ssn.seg?.get(ssn.field);
  if (ssnValue) {
    ids.push({
      system: 'http://hl7.org/fhir/sid/us-ssn',
      value: ssnValue,
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'SS' }] },
    });
  }
  const dl = driversLicense(ctx);
  if (dl) ids.push(dl);
  for (const extra of ctx.profile.extraIdentifiers) {
    const value = ctx.get(extra.path);
    if (!value) continue;
    const id: Identifier = { system: extra.system, value };
    if (extra.type) id.type = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: extra.type }] };
    ids.push(id);
  }
  for (const z of ctx.profile.zSegments) {
    if (z.resource !== 'Patient' || z.as !== 'identifier') continue;
    const value = ctx.segment(z.segment)?.get(z.field, 1, z.component ?? 1);
    if (value)
      ids.push(
        z.type
          ? { system: z.system, value, type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: z.type }] } }
          : { system: z.system, value },
      );
  }
  return dedupeIdentifiers(ids);
}

/** A partner that moved `ssn` to PID-2 (say) does not get PID-2 twice. */
function usedElsewhere(ctx: ConversionContext, name: 'externalId' | 'alternateIds'): boolean {
  const path = ctx.profile.fields[name];
  return path !== undefined && (path === ctx.profile.fields.ssn || path === ctx.profile.fields.patientIdentifiers);
}

/** PID-20 DLN (number^issuing state^expiration) → identifier type DL, system per issuing state. */
function driversLicense(ctx: ConversionContext): Identifier | undefined {
  const { seg, field } = ctx.locate('driversLicense');
  const value = seg?.get(field, 1, 1);
  if (!seg || !value) return undefined;
  const state = seg.get(field, 1, 2);
  const id: Identifier = {
    system: (state && ctx.profile.identifierSystems[`DL-${state}`]) || ctx.localSystem('dl', state || 'unknown'),
    value,
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'DL' }] },
  };
  const end = ctx.date(seg.get(field, 1, 3), 'PID-20');
  if (end) id.period = { end };
  return id;
}

function dedupeIdentifiers(ids: Identifier[]): Identifier[] {
  const seen = new Set<string>();
  return ids.filter((i) => {
    const k = `${i.system}|${i.value}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * The identifier that keys Patient.id: the first MR-typed one, else the first from PID-3.
 * The same MRN at two hospitals has two systems and therefore two ids.
 */
export function primaryIdentifier(ids: Identifier[]): Identifier | undefined {
  return ids.find((i) => i.type?.coding?.[0]?.code === 'MR') ?? ids[0];
}

export function buildPatient(ctx: ConversionContext): Patient {
  if (!ctx.segment('PID')) throw new MappingError('PID segment is missing', 'PID');
  const identifiers = patientIdentifiers(ctx);
  const primary = primaryIdentifier(identifiers);
  if (!primary) throw new MappingError('no patient identifier (PID-3 is empty)', 'PID-3');

  const names = (() => {
    const { seg, field } = ctx.locate('patientName');
    return namesFromField(ctx, seg, field, 'PID-5');
  })();
  const sexCode = ctx.value('sex');
  const gender = mapCode(ctx, 'AdministrativeSex', sexCode)?.code;
  const home = ctx.locate('homePhone');
  const work = ctx.locate('businessPhone');
  const addr = ctx.locate('address');

  const patient: Patient = {
    resourceType: 'Patient',
    id: ctx.idFor('Patient', primary.system!, primary.value!),
    // US Core 5.0.1's us-core-6 looks for data-absent-reason on the Patient, 6.1 on the name: emit both.
    extension: [
      ...raceExtensions(ctx),
      ...zExtensions(ctx, 'Patient'),
      ...(names.length ? [] : [{ url: DATA_ABSENT, valueCode: 'unknown' }]),
    ],
    identifier: identifiers,
    active: true,
    name: names.length ? names : [{ extension: [{ url: DATA_ABSENT, valueCode: 'unknown' }] }],
    telecom: [...telecomFromField(ctx, home.seg, home.field, 'home'), ...telecomFromField(ctx, work.seg, work.field, 'work')],
    gender: (GENDERS.has(gender ?? '') ? gender : 'unknown') as Patient['gender'],
    birthDate: ctx.date(ctx.value('birthDate'), 'PID-7'),
    address: addressesFromField(ctx, addr.seg, addr.field, 'PID-11'),
    maritalStatus: maritalStatus(ctx),
    communication: language(ctx),
  };
  if (sexCode && !gender) ctx.warn(`PID-8: sex code not in AdministrativeSex map; gender set to unknown`);
  const deathDate = ctx.dateTime(ctx.value('deathDate'), 'PID-29');
  if (deathDate) patient.deceasedDateTime = deathDate;
  else if (ctx.value('deathIndicator') === 'Y') patient.deceasedBoolean = true;
  const gp = ctx.maps('PD1') ? generalPractitioners(ctx) : [];
  if (gp.length) patient.generalPractitioner = gp;
  return ctx.add(patient);
}

const GENDERS = new Set(['male', 'female', 'other', 'unknown']);

function maritalStatus(ctx: ConversionContext) {
  const { seg, field } = ctx.locate('maritalStatus');
  if (!seg) return undefined;
  const cwe = readCWE(seg, field);
  if (!cwe.code) return undefined;
  const m = mapCode(ctx, 'MaritalStatus', cwe.code);
  if (m) return { coding: [{ system: m.system, code: m.code, display: m.display }], text: cwe.text || undefined };
  return codeableConcept(ctx, cwe, 'http://terminology.hl7.org/CodeSystem/v2-0002');
}

// ISO 639-2 codes feeds send where FHIR wants BCP-47 (ISO 639-1 when there is one).
const ISO639_2_TO_1: Record<string, string> = {
  ENG: 'en',
  SPA: 'es',
  POR: 'pt',
  FRE: 'fr',
  FRA: 'fr',
  CHI: 'zh',
  ZHO: 'zh',
  VIE: 'vi',
  RUS: 'ru',
  ARA: 'ar',
  HAT: 'ht',
  KOR: 'ko',
  ITA: 'it',
  GER: 'de',
  DEU: 'de',
  POL: 'pl',
  JPN: 'ja',
  KHM: 'km',
  GRE: 'el',
  ELL: 'el',
  DUT: 'nl',
  NLD: 'nl',
  SOM: 'so',
  ALB: 'sq',
  SQI: 'sq',
  HIN: 'hi',
  TGL: 'tl',
  CPF: 'cpf',
};

function language(ctx: ConversionContext): Patient['communication'] {
  const { seg, field } = ctx.locate('language');
  if (!seg) return undefined;
  const cwe = readCWE(seg, field);
  if (!cwe.code && !cwe.text) return undefined;
  const mapped = mapCode(ctx, 'PrimaryLanguage', cwe.code);
  const raw = mapped?.code ?? cwe.code;
  const bcp47 = /^[a-z]{2}(-[A-Za-z0-9]{2,8})*$/i.test(raw) ? raw.toLowerCase() : ISO639_2_TO_1[raw.toUpperCase()];
  const language = bcp47
    ? {
        coding: [{ system: 'urn:ietf:bcp:47', code: bcp47, ...(cwe.text ? { display: cwe.text } : {}) }],
        ...(cwe.text ? { text: cwe.text } : {}),
      }
    : { text: cwe.text || cwe.code };
  return [{ language, preferred: true }];
}

/** US Core race/ethnicity: OMB codes as ombCategory, other CDC codes as detailed, always text. */
function raceExtensions(ctx: ConversionContext): Extension[] {
  const out: Extension[] = [];
  const race = ctx.locate('race');
  const eth = ctx.locate('ethnicity');
  const build = (url: string, seg: typeof race.seg, field: number, omb: Set<string>): Extension | undefined => {
    if (!seg) return undefined;
    const parts: Extension[] = [];
    const texts: string[] = [];
    for (let r = 1; r <= seg.repetitions(field); r++) {
      const c = readCWE(seg, field, r);
      if (!c.code && !c.text) continue;
      texts.push(c.text || c.code);
      if (/^\d{4}-\d$/.test(c.code)) {
        parts.push({
          url: omb.has(c.code) ? 'ombCategory' : 'detailed',
          valueCoding: { system: CDC_RACE, code: c.code, display: c.text || undefined },
        });
      }
    }
    if (texts.length === 0) return undefined;
    parts.push({ url: 'text', valueString: texts.join(', ') });
    return { url, extension: parts };
  };
  const r = build(US_CORE_RACE, race.seg, race.field, OMB_RACE);
  const e = build(US_CORE_ETHNICITY, eth.seg, eth.field, OMB_ETHNICITY);
  if (r) out.push(r);
  if (e) out.push(e);
  return out;
}

/** Z-segment fields the profile maps to extensions on a resource. */
export function zExtensions(ctx: ConversionContext, resource: 'Patient' | 'Encounter'): Extension[] {
  const out: Extension[] = [];
  for (const z of ctx.profile.zSegments) {
    if (z.resource !== resource || z.as !== 'extension') continue;
    const value = ctx.segment(z.segment)?.get(z.field, 1, z.component ?? 1);
    if (value) out.push({ url: z.url!, valueString: value });
  }
  return out;
}

function generalPractitioners(ctx: ConversionContext) {
  const refs = [];
  const pcp = ctx.locate('pcp');
  if (pcp.seg) {
    for (let r = 1; r <= pcp.seg.repetitions(pcp.field); r++) {
      const p = practitionerFromXCN(ctx, pcp.seg, pcp.field, r);
      if (p) refs.push(ref(p));
    }
  }
  const org = ctx.locate('pcpOrganization');
  if (org.seg) {
    for (let r = 1; r <= org.seg.repetitions(org.field); r++) {
      const x = readXON(org.seg, org.field, r);
      const o = organizationForFacility(ctx, x.idNumber || x.name, x.assigningAuthority.universalId);
      if (o) refs.push(ref(o, x.name || undefined));
    }
  }
  return refs;
}

/** NK1 segments as RelatedPerson resources (default) or Patient.contact entries. */
export function buildNextOfKin(ctx: ConversionContext, patient: Patient): void {
  if (!ctx.maps('NK1')) return;
  const nk1s = ctx.segments('NK1');
  nk1s.forEach((nk1, i) => {
    const names = namesFromField(ctx, nk1, 2, 'NK1-2');
    const rel = readCWE(nk1, 3);
    const mapped = mapCode(ctx, 'Relationship', rel.code);
    const relationship = mapped
      ? { coding: [{ system: mapped.system, code: mapped.code, display: mapped.display }], text: rel.text || undefined }
      : codeableConcept(ctx, rel, 'http://terminology.hl7.org/CodeSystem/v2-0063');
    const telecom = [...telecomFromField(ctx, nk1, 5, 'home'), ...telecomFromField(ctx, nk1, 6, 'work')];
    const addresses = addressesFromField(ctx, nk1, 4, 'NK1-4');
    if (names.length === 0 && telecom.length === 0 && addresses.length === 0) return;
    if (ctx.profile.nextOfKinAs === 'contact') {
      patient.contact ??= [];
      patient.contact.push({ relationship: relationship ? [relationship] : undefined, name: names[0], telecom, address: addresses[0] });
      return;
    }
    const setId = nk1.get(1) || String(i + 1);
    const rp = {
      resourceType: 'RelatedPerson',
      id: ctx.idFromParts('RelatedPerson', patient.id!, setId, names[0]?.family ?? '', names[0]?.given?.[0] ?? ''),
      active: true,
      patient: ref(patient),
      relationship: relationship ? [relationship] : undefined,
      name: names,
      telecom,
      address: addresses,
    };
    ctx.add(rp);
  });
}

export { MappingError };
