import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  AllergyIntolerance,
  Bundle,
  Condition,
  Coverage,
  Encounter,
  Organization,
  Patient,
  PractitionerRole,
  Procedure,
  Resource,
} from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import { convertAdt } from '../../../../adapters/hl7v2-adt/index.js';
import { Hl7Message } from '../../../../src/hl7v2/index.js';
import { clearProfileCache, loadProfile } from '../../../../src/mapping/profile-loader.js';

const ROOT = join(import.meta.dirname, '../../../..');
const FIXTURES = join(ROOT, 'fixtures/hl7v2/adt');
const profile = loadProfile();
const text = (name: string) => readFileSync(join(FIXTURES, name), 'latin1');
const convert = (t: string, p = profile) => convertAdt(Hl7Message.parse(t), p);
const all = <T extends Resource>(b: Bundle, type: T['resourceType']) =>
  (b.entry ?? []).map((e) => e.resource!).filter((r): r is T => r.resourceType === type);

/** The base profile with a partner overlay, loaded the way the gateway loads it. */
function withOverlay(overlay: string) {
  const dir = mkdtempSync(join(tmpdir(), 'cb-seg-'));
  mkdirSync(join(dir, 'base'), { recursive: true });
  writeFileSync(join(dir, 'base', 'hl7v2-adt.yaml'), readFileSync(join(ROOT, 'mappings/base/hl7v2-adt.yaml')));
  mkdirSync(join(dir, 'partners', 'acme'), { recursive: true });
  writeFileSync(join(dir, 'partners', 'acme', 'hl7v2-adt.yaml'), `id: acme\n${overlay}`);
  clearProfileCache();
  return loadProfile({ mappingsDir: dir, partner: 'acme' });
}

describe('PID identifiers', () => {
  it('PID-2, PID-4 and PID-20 become typed identifiers after PID-3; Patient.id still keys on PID-3', () => {
    const p = all<Patient>(convert(text('A01-pid-identifiers.hl7')).bundle, 'Patient')[0]!;
    expect(p.identifier?.map((i) => [i.value, i.type?.coding?.[0].code])).toEqual([
      ['MRN1001', 'MR'],
      ['MA123456789', 'MA'],
      ['EXT-4471', 'PI'],
      ['ALT-88', 'PI'],
      ['123-45-6789', 'SS'],
      ['S99912345', 'DL'],
    ]);
    expect(p.id).toBe(all<Patient>(convert(text('A01.hl7')).bundle, 'Patient')[0]!.id);
  });

  it('a partner that reads its SSN from PID-2 does not get PID-2 twice', () => {
    const p = withOverlay('fields: { ssn: PID-2 }\n');
    const ids = all<Patient>(convert(text('A01-pid-identifiers.hl7'), p).bundle, 'Patient')[0]!.identifier!;
    expect(ids.filter((i) => i.value === 'EXT-4471').map((i) => i.type?.coding?.[0].code)).toEqual(['SS']);
  });
});

describe('clinical segments', () => {
  it('DG1 → encounter-diagnosis Conditions referenced from Encounter.diagnosis with use and rank', () => {
    const b = convert(text('A01-clinical.hl7')).bundle;
    const conditions = all<Condition>(b, 'Condition');
    const e = all<Encounter>(b, 'Encounter')[0]!;
    expect(conditions.map((c) => c.code?.coding?.[0].code)).toEqual(['F32.9', 'E11.9']);
    expect(conditions[0]).toMatchObject({
      identifier: [{ value: 'DX-1' }],
      recordedDate: '2024-05-01T09:00:00-04:00',
      encounter: { reference: `urn:uuid:${e.id}` },
    });
    expect(e.diagnosis?.map((d) => [d.condition.reference, d.use?.coding?.[0].code, d.rank])).toEqual([
      [`urn:uuid:${conditions[0]!.id}`, 'AD', 1],
      [`urn:uuid:${conditions[1]!.id}`, 'W', 2],
    ]);
  });

  it('PR1 → Procedure with performers by role; AL1 → AllergyIntolerance with reactions', () => {
    const b = convert(text('A01-clinical.hl7')).bundle;
    const [proc] = all<Procedure>(b, 'Procedure');
    expect(proc).toMatchObject({ status: 'completed', identifier: [{ value: 'PROC-9' }], performedDateTime: '2024-05-02T10:15:00-04:00' });
    expect(proc!.performer?.map((p) => p.function?.coding?.[0].code)).toEqual(['88189002', '304292004']);
    const allergies = all<AllergyIntolerance>(b, 'AllergyIntolerance');
    expect(allergies.map((a) => [a.code?.coding?.[0]?.code ?? a.code?.text, a.category?.[0], a.criticality])).toEqual([
      ['7980', 'medication', 'high'],
      ['Shellfish', 'food', 'low'],
    ]);
    expect(allergies[0]!.reaction?.[0].manifestation.map((m) => m.text)).toEqual(['Hives', 'Wheezing']);
  });

  it('ACC → an accident Condition on the Encounter; DB1 and PD1-6 → patient-disability', () => {
    const b = convert(text('A01-db1-acc.hl7')).bundle;
    const accident = all<Condition>(b, 'Condition').find((c) => c.code?.coding?.[0].code === 'AUTO');
    expect(accident).toMatchObject({
      onsetDateTime: '2024-05-01T07:15:00-04:00',
      note: [{ text: 'Accident location: I-93 NORTHBOUND' }, { text: 'Rear-ended at low speed' }],
    });
    const p = all<Patient>(b, 'Patient')[0]!;
    expect(p.extension?.filter((x) => x.url.endsWith('patient-disability')).map((x) => x.valueCodeableConcept?.coding?.[0].code)).toEqual([
      'B',
      '21134002',
    ]);
  });

  it('ROL/PRT → PractitionerRoles: the primary care role on the Patient, the others as Encounter participants; deleted roles skipped', () => {
    const b = convert(text('A01-roles.hl7')).bundle;
    const roles = all<PractitionerRole>(b, 'PractitionerRole');
    expect(roles.map((r) => r.code?.[0].coding?.[0].code)).toEqual(['PP', 'AT', 'CP']);
    expect(all<Patient>(b, 'Patient')[0]!.generalPractitioner?.map((g) => g.reference)).toContain(`urn:uuid:${roles[0]!.id}`);
    const participants = all<Encounter>(b, 'Encounter')[0]!.participant!.filter((p) =>
      roles.some((r) => p.individual?.reference === `urn:uuid:${r.id}`),
    );
    expect(participants.map((p) => p.type?.[0].coding?.[0].code)).toEqual(['ATND', 'CON']);
  });
});

describe('insurance and guarantors', () => {
  it('IN1/IN2 → Coverage per plan with a payor Organization; the insured spouse is a RelatedPerson', () => {
    const b = convert(text('A01-insurance.hl7')).bundle;
    const [medicaid, commercial] = all<Coverage>(b, 'Coverage');
    const payers = all<Organization>(b, 'Organization').filter((o) => o.type?.[0].coding?.[0].code === 'pay');
    expect(payers.map((o) => o.name)).toEqual(['MassHealth', 'Blue Cross Blue Shield of Massachusetts']);
    expect(medicaid).toMatchObject({
      status: 'active',
      subscriberId: '100200300400',
      relationship: { coding: [{ code: 'self' }] },
      order: 1,
      period: { start: '2024-01-01', end: '2024-12-31' },
    });
    expect(medicaid!.payor[0].reference).toBe(`urn:uuid:${payers[0]!.id}`);
    expect(commercial!.relationship?.coding?.[0].code).toBe('spouse');
    expect(commercial!.subscriber?.reference).toMatch(/^urn:uuid:/);
    expect(commercial!.subscriber?.reference).not.toBe(medicaid!.subscriber?.reference);
    expect(commercial!.class?.map((c) => [c.type.coding?.[0].code, c.value])).toEqual([
      ['plan', 'BCBS-PPO'],
      ['group', 'G-5521'],
    ]);
  });

  it('IN3 with a case manager (IN3-21) → a CareTeam with the certification number and dates; without one, nothing', () => {
    const b = convert(text('A01-insurance.hl7')).bundle;
    const teams = all<import('fhir/r4').CareTeam>(b, 'CareTeam');
    expect(teams).toHaveLength(1);
    expect(teams[0]).toMatchObject({
      status: 'active',
      identifier: [{ value: 'CERT-77' }],
      period: { start: '2024-05-01', end: '2024-05-07' },
      participant: [{ role: [{ text: 'KELLY MORAN RN' }] }],
    });
    expect(teams[0]!.subject?.reference).toBe(`urn:uuid:${all<Patient>(b, 'Patient')[0]!.id}`);
    const noCaseManager = text('A01-insurance.hl7').replace('|KELLY MORAN RN', '|');
    expect(all(convert(noCaseManager).bundle, 'CareTeam')).toEqual([]);
  });

  it('the Medicaid number in IN2-8 becomes a Patient identifier (type MA) in the profile system', () => {
    const c = convert(text('A01-insurance.hl7'));
    expect(c.patientIdentifiers).toContainEqual({
      system: 'https://www.mass.gov/masshealth/member-id',
      value: 'MA123456789',
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MA' }] },
    });
  });

  it('without IN2, IN1-36 of a Medicaid plan (IN1-15 or payer id) is the member id; a commercial policy number is not', () => {
    const noIn2 = text('A01-insurance.hl7').replace(/\rIN2\|[^\r]*/, '');
    const ids = convert(noIn2)
      .patientIdentifiers.filter((i) => i.type?.coding?.[0].code === 'MA')
      .map((i) => i.value);
    expect(ids).toEqual(['100200300400']);
    const notMedicaid = noIn2
      .replace('MCD^Medicaid^HL70086', 'HMO^HMO^HL70086')
      .replace('MASSHEALTH^^^MAMMIS', 'OTHER^^^NAIC')
      .replace('MH-STD', 'X');
    expect(convert(notMedicaid).patientIdentifiers.filter((i) => i.type?.coding?.[0].code === 'MA')).toEqual([]);
    const noMedicaidConfig = withOverlay('medicaid: { system: "https://medicaid.example.org/id", planTypes: [], payerIds: [] }\n');
    expect(convert(noIn2, noMedicaidConfig).patientIdentifiers.filter((i) => i.type?.coding?.[0].code === 'MA')).toEqual([]);
  });

  it('GT1 → guarantors on the PID-18 Account: a RelatedPerson, the Patient itself (SEL) and an Organization', () => {
    const b = convert(text('A01-guarantor.hl7')).bundle;
    const [account] = all<import('fhir/r4').Account>(b, 'Account');
    const patient = all<Patient>(b, 'Patient')[0]!;
    expect(account!.identifier?.[0].value).toBe('ACCT1001');
    const parties = account!.guarantor!.map((g) => b.entry!.find((e) => e.fullUrl === g.party.reference)!.resource!.resourceType);
    expect(parties).toEqual(['RelatedPerson', 'Patient', 'Organization']);
    expect(account!.guarantor![1]!.party.reference).toBe(`urn:uuid:${patient.id}`);
  });
});

describe('a partner switches a segment mapping off', () => {
  it('segments: { DG1: false } leaves no Condition, no diagnosis and no DG1 reason', () => {
    const off = withOverlay('segments: { DG1: false }\n');
    const b = convert(text('A01-clinical.hl7'), off).bundle;
    expect(all(b, 'Condition')).toEqual([]);
    const e = all<Encounter>(b, 'Encounter')[0]!;
    expect(e.diagnosis).toBeUndefined();
    expect(e.reasonCode).toBeUndefined();
    expect(all(b, 'Procedure')).toHaveLength(1); // the others stay on
  });

  it.each([
    ['IN1', 'A01-insurance.hl7', 'Coverage'],
    ['AL1', 'A01-clinical.hl7', 'AllergyIntolerance'],
    ['PR1', 'A01-clinical.hl7', 'Procedure'],
    ['GT1', 'A01-guarantor.hl7', 'RelatedPerson'],
    ['ROL', 'A01-roles.hl7', 'PractitionerRole'],
    ['IAM', 'A60.hl7', 'AllergyIntolerance'],
  ])('%s off: no %s from %s', (segment, file, type) => {
    const before = all(convert(text(file)).bundle, type as Resource['resourceType']).length;
    expect(before).toBeGreaterThan(0);
    const off = withOverlay(`segments: { ${segment}: false, PRT: false }\n`);
    expect(all(convert(text(file), off).bundle, type as Resource['resourceType'])).toHaveLength(0);
  });

  it('IN1 off also leaves the Medicaid identifier out', () => {
    const off = withOverlay('segments: { IN1: false }\n');
    expect(convert(text('A01-insurance.hl7'), off).patientIdentifiers.some((i) => i.type?.coding?.[0].code === 'MA')).toBe(false);
  });
});
