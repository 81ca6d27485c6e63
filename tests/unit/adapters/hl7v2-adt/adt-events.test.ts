import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Account, AllergyIntolerance, Bundle, Encounter, Patient, Provenance, Resource } from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import { convertAdt, UnsupportedMessageError } from '../../../../adapters/hl7v2-adt/index.js';
import { Hl7Message } from '../../../../src/hl7v2/index.js';
import { loadProfile } from '../../../../src/mapping/profile-loader.js';

const FIXTURES = join(import.meta.dirname, '../../../../fixtures/hl7v2/adt');
const profile = loadProfile();
const text = (name: string) => readFileSync(join(FIXTURES, name), 'latin1');
const convert = (t: string) => convertAdt(Hl7Message.parse(t), profile);
const all = <T extends Resource>(b: Bundle, type: T['resourceType']) =>
  (b.entry ?? []).map((e) => e.resource!).filter((r): r is T => r.resourceType === type);
const enc = (name: string) => all<Encounter>(convert(text(name)).bundle, 'Encounter')[0]!;

describe('ADT events: Encounter status and locations follow each event', () => {
  it.each([
    ['A14.hl7', 'planned'], // pending admit: the visit has not started
    ['A15.hl7', 'in-progress'], // pending transfer: the visit goes on, the new bed is planned
    ['A16.hl7', 'in-progress'], // pending discharge: not discharged yet
    ['A21.hl7', 'onleave'],
    ['A22.hl7', 'in-progress'],
    ['A52.hl7', 'in-progress'],
    ['A53.hl7', 'onleave'],
    ['A11.hl7', 'cancelled'],
    ['A27.hl7', 'cancelled'],
    ['A38.hl7', 'cancelled'],
    ['A25.hl7', 'in-progress'],
    ['A26.hl7', 'in-progress'],
    ['A23.hl7', 'entered-in-error'],
  ])('%s → %s', (file, status) => {
    expect(enc(file).status).toBe(status);
  });

  it('A13 (cancel discharge) reopens the visit: no period.end even when PV1-45 still carries the cancelled time', () => {
    const t = text('A13.hl7').replace(/^(PV1(\|[^|\r]*){43})\|?[^|\r]*/m, '$1|20240504150000');
    const e = all<Encounter>(convert(t).bundle, 'Encounter')[0]!;
    expect(e.status).toBe('in-progress');
    expect(e.period?.end).toBeUndefined();
  });

  it('A15 adds the pending location (PV1-42) as planned; A09/A10 the temporary one (PV1-11) planned/active', () => {
    expect(enc('A15.hl7').location?.map((l) => l.status)).toEqual(['active', 'planned']);
    expect(enc('A09.hl7').location?.map((l) => l.status)).toEqual(['active', 'planned']);
    expect(enc('A10.hl7').location?.map((l) => l.status)).toEqual(['active', 'active']);
    expect(enc('A32.hl7').location?.map((l) => l.status)).toEqual(['active']);
  });

  it('A54/A61 start the new attending/consulting doctor at EVN-6; A55/A62 restate it without a start', () => {
    const start = (f: string, code: string) => enc(f).participant?.find((p) => p.type?.[0].coding?.[0].code === code)?.period?.start;
    expect(start('A54.hl7', 'ATND')).toBe('2024-05-02T07:00:00-04:00');
    expect(start('A61.hl7', 'CON')).toBe('2024-05-02T07:00:00-04:00');
    expect(start('A55.hl7', 'ATND')).toBeUndefined();
    expect(enc('A62.hl7').participant?.some((p) => p.type?.[0].coding?.[0].code === 'CON')).toBe(true);
  });
});

describe('ADT events with two patients', () => {
  it("A17 swaps beds: two Patients, two Encounters, each in the other's former bed; routing facts are the first patient's", () => {
    const c = convert(text('A17.hl7'));
    const patients = all<Patient>(c.bundle, 'Patient');
    const encounters = all<Encounter>(c.bundle, 'Encounter');
    expect(patients).toHaveLength(2);
    expect(encounters).toHaveLength(2);
    expect(encounters.map((e) => e.subject?.reference)).toEqual(patients.map((p) => `urn:uuid:${p.id}`));
    const [a, b] = encounters.map((e) => e.location!.map((l) => l.location.reference));
    expect(a![0]).toBe(b![1]); // A's new bed is B's old one
    expect(b![0]).toBe(a![1]);
    expect(c.patientIdentifiers.map((i) => i.value)).not.toContain('MRN2002');
    expect(c.bundle.entry![0].resource).toMatchObject({ focus: encounters.map((e) => ({ reference: `urn:uuid:${e.id}` })) });
  });

  it('A24 links the two patients both ways (seealso); A37 sends them unlinked', () => {
    const linked = all<Patient>(convert(text('A24.hl7')).bundle, 'Patient');
    expect(linked.map((p) => p.link?.map((l) => [l.type, l.other.reference]))).toEqual([
      [['seealso', `urn:uuid:${linked[1]!.id}`]],
      [['seealso', `urn:uuid:${linked[0]!.id}`]],
    ]);
    expect(all<Patient>(convert(text('A37.hl7')).bundle, 'Patient').map((p) => p.link)).toEqual([undefined, undefined]);
  });

  it('a merge message with several patient groups merges each (A39/A40 structure)', () => {
    const t = [
      ...text('A40.hl7').split('\r').filter(Boolean),
      'PID|1||MRN3003^^^MGH^MR||DOE^JOHN||19500101|M',
      'MRG|MRN0777^^^MGH^MR',
    ].join('\r');
    const patients = all<Patient>(convert(t).bundle, 'Patient');
    expect(
      patients
        .filter((p) => p.active === false)
        .map((p) => p.identifier![0].value)
        .sort(),
    ).toEqual(['MRN0777', 'MRN0999']);
  });
});

describe('ADT merges, moves and identifier changes', () => {
  it.each(['A18.hl7', 'A30.hl7', 'A34.hl7', 'A39.hl7', 'A46.hl7', 'A47.hl7'])('%s links survivor and retired patient', (file) => {
    const [survivor, retired] = all<Patient>(convert(text(file)).bundle, 'Patient');
    expect(survivor!.link?.[0]).toMatchObject({ type: 'replaces', other: { identifier: { value: 'MRN0999' } } });
    expect(retired).toMatchObject({ active: false, link: [{ type: 'replaced-by' }] });
  });

  it('A48 (change alternate id) keeps one Patient and the old id as use old', () => {
    const patients = all<Patient>(convert(text('A48.hl7')).bundle, 'Patient');
    expect(patients).toHaveLength(1);
    expect(patients[0]!.identifier?.find((i) => i.value === 'ALT0999')?.use).toBe('old');
  });

  it.each(['A35.hl7', 'A41.hl7', 'A44.hl7', 'A49.hl7'])('%s retires the prior account (MRG-3) and keeps the survivor (PID-18)', (file) => {
    const accounts = all<Account>(convert(text(file)).bundle, 'Account');
    expect(accounts.map((a) => [a.identifier![0].value, a.status])).toEqual([
      ['ACCT1001', 'active'],
      ['ACCT0999', 'inactive'],
    ]);
  });

  it('A36 merges patient and account', () => {
    const b = convert(text('A36.hl7')).bundle;
    expect(all<Patient>(b, 'Patient')).toHaveLength(2);
    expect(all<Account>(b, 'Account').map((a) => a.status)).toEqual(['active', 'inactive']);
  });

  it.each(['A42.hl7', 'A45.hl7', 'A50.hl7'])(
    '%s moves the visit: the prior number is an entered-in-error Encounter and an old identifier',
    (file) => {
      const [current, prior] = all<Encounter>(convert(text(file)).bundle, 'Encounter');
      expect(current!.identifier?.map((i) => [i.value, i.use])).toEqual([
        ['VN20240501-0001', undefined],
        ['VN20240430-0099', 'old'],
      ]);
      expect(prior).toMatchObject({ status: 'entered-in-error', identifier: [{ value: 'VN20240430-0099', use: 'old' }] });
      expect(prior!.subject?.reference).toBe(current!.subject?.reference);
    },
  );

  it('A51 changes the alternate visit id (MRG-6)', () => {
    const [, prior] = all<Encounter>(convert(text('A51.hl7')).bundle, 'Encounter');
    expect(prior!.identifier?.[0].value).toBe('ALTV0099');
  });

  it('A43 moves identifiers to the PID patient without retiring anyone', () => {
    const patients = all<Patient>(convert(text('A43.hl7')).bundle, 'Patient');
    expect(patients).toHaveLength(1);
    expect(patients[0]!.link).toBeUndefined();
  });

  it('a patient merge without MRG is refused (it would merge nothing); an account merge without MRG converts with a warning', () => {
    expect(() => convert(text('A34.hl7').replace(/\rMRG\|[^\r]*/, ''))).toThrow(/A34 without an MRG segment/);
    expect(convert(text('A41.hl7').replace(/\rMRG\|[^\r]*/, '')).warnings).toContain('A41: no MRG segment; nothing retired');
  });
});

describe('ADT deletes, allergies and what is not converted', () => {
  it('A23 marks the visit entered-in-error and A29 the person inactive; both are DELETE in Provenance', () => {
    const prov = (f: string) => all<Provenance>(convert(text(f)).bundle, 'Provenance')[0]!.activity?.coding?.[0].code;
    expect(prov('A23.hl7')).toBe('DELETE');
    expect(prov('A29.hl7')).toBe('DELETE');
    expect(all<Patient>(convert(text('A29.hl7')).bundle, 'Patient')[0]!.active).toBe(false);
  });

  it('A60 maps IAM to AllergyIntolerance; an IAM delete (IAM-6 D) is entered-in-error without a clinical status', () => {
    const [penicillin, peanut] = all<AllergyIntolerance>(convert(text('A60.hl7')).bundle, 'AllergyIntolerance');
    expect(penicillin).toMatchObject({
      clinicalStatus: { coding: [{ code: 'active' }] },
      category: ['medication'],
      criticality: 'high',
      identifier: [{ value: 'PEN-001' }],
      reaction: [{ severity: 'severe', manifestation: [{ coding: [{ code: '247472004' }] }] }],
    });
    expect(peanut!.clinicalStatus).toBeUndefined();
    expect(peanut!.verificationStatus?.coding?.[0].code).toBe('entered-in-error');
  });

  it('A20 (bed status) and A19 (query) are not converted, with a reason', () => {
    const t = text('A08.hl7').replace('ADT^A08^ADT_A01', 'ADT^A20^ADT_A20');
    expect(() => convert(t)).toThrow(UnsupportedMessageError);
    expect(() => convert(t)).toThrow(/bed status update/);
  });
});
