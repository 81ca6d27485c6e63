import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type {
  Appointment,
  Bundle,
  DiagnosticReport,
  DocumentReference,
  Encounter,
  Observation,
  Patient,
  Provenance,
  Resource,
} from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import { CLINICAL_ADAPTERS } from '../../../adapters/clinical.js';
import { MappingError, UnsupportedMessageError } from '../../../adapters/hl7v2-adt/index.js';
import { convertMdm } from '../../../adapters/hl7v2-mdm/index.js';
import { convertOru } from '../../../adapters/hl7v2-oru/index.js';
import { convertSiu } from '../../../adapters/hl7v2-siu/index.js';
import { AdapterRegistry } from '../../../src/conversion/registry.js';
import { Hl7Message } from '../../../src/hl7v2/index.js';
import { loadProfile } from '../../../src/mapping/profile-loader.js';

const profile = loadProfile();
const fixture = (folder: string, name: string) =>
  readFileSync(join(import.meta.dirname, '../../../fixtures/hl7v2', folder, name), 'latin1');
const parse = (text: string) => Hl7Message.parse(text);
const plain = (b: Bundle) => JSON.parse(JSON.stringify(b)) as Bundle;
function all<T extends Resource>(b: Bundle, type: T['resourceType']): T[] {
  return (plain(b).entry ?? []).map((e) => e.resource!).filter((r): r is T => r.resourceType === type);
}
/** Replaces one segment (by its id) of a fixture, or removes it when `by` is ''. */
function withSegment(text: string, id: string, by: string): string {
  return text
    .split('\r')
    .map((s) => (s.startsWith(`${id}|`) ? by : s))
    .filter((s, i, a) => s !== '' || i === a.length - 1)
    .join('\r');
}

describe('registry: the clinical adapters by type and event', () => {
  const registry = new AdapterRegistry(CLINICAL_ADAPTERS);
  const find = (type: string, event: string) => registry.find({ messageType: type, triggerEvent: event })?.id;
  it('routes ORU^R01, SIU^S12–S22/S26 and MDM^T01–T11; schedule-slot events and other ORU triggers have none', () => {
    expect(find('ORU', 'R01')).toBe('hl7v2-oru');
    for (const e of ['S12', 'S13', 'S14', 'S15', 'S17', 'S22', 'S26']) expect(find('SIU', e)).toBe('hl7v2-siu');
    for (const e of ['T01', 'T02', 'T06', 'T11']) expect(find('MDM', e)).toBe('hl7v2-mdm');
    for (const [t, e] of [
      ['SIU', 'S23'],
      ['SIU', 'S24'],
      ['SIU', 'S25'],
      ['ORU', 'R30'],
      ['ADT', 'A01'],
    ])
      expect(find(t, e)).toBeUndefined();
  });
});

describe('ORU^R01', () => {
  const text = fixture('oru', 'R01.hl7');

  it('one DiagnosticReport per OBR, its results referenced in order, routing facts of the patient and visit', () => {
    const c = convertOru(parse(text), profile);
    const [report] = all<DiagnosticReport>(c.bundle, 'DiagnosticReport');
    const observations = all<Observation>(c.bundle, 'Observation');
    expect(report.result?.map((r) => r.reference)).toEqual(observations.map((o) => `urn:uuid:${o.id}`));
    expect(c).toMatchObject({
      adapterId: 'hl7v2-oru',
      messageType: 'ORU',
      event: 'R01',
      patientClass: 'I',
      hospitalService: 'MED',
      eventDate: '2024-05-02',
    });
    expect(c.facilityCodes).toEqual(['MGH', 'MGHLAB']);
    expect(c.patientIdentifiers.map((i) => i.value)).toEqual(['MRN1001', 'MA123456789']);
    // The fixture carries one corrected result (OBX-4 C): the message updates; one without is new.
    expect(all<Provenance>(c.bundle, 'Provenance')[0].activity?.coding?.[0].code).toBe('UPDATE');
    const fresh = convertOru(parse(fixture('oru', 'R01-two-reports-no-visit.hl7')), profile);
    expect(all<Provenance>(fresh.bundle, 'Provenance')[0].activity?.coding?.[0].code).toBe('CREATE');
  });

  it('the visit of a result keeps its status unknown (finished only with a discharge time): the ADT feed owns it', () => {
    expect(all<Encounter>(convertOru(parse(text), profile).bundle, 'Encounter')[0].status).toBe('unknown');
  });

  it('a corrected resend updates the same report and observations (ids from the order number and OBX-1)', () => {
    const first = convertOru(parse(text), profile).bundle;
    const corrected = convertOru(
      parse(text.replace(/\|F\|\|\|20240502061500/g, '|C|||20240502061500').replace('MSG-R01-0001', 'MSG-R01-0009')),
      profile,
    );
    const ids = (b: Bundle) => [...all(b, 'DiagnosticReport'), ...all(b, 'Observation')].map((r) => r.id);
    expect(ids(corrected.bundle)).toEqual(ids(first));
    expect(all<Observation>(corrected.bundle, 'Observation')[0].status).toBe('corrected');
    expect(all<Provenance>(corrected.bundle, 'Provenance')[0].activity?.coding?.[0].code).toBe('UPDATE');
  });

  it('results of a second patient in the same message are not converted (never attached to the first)', () => {
    const two = `${text}PID|1||MRN2002^^^MGH^MR||OTHER^PERSON||19800101|M\rOBR|1||LAB-9^MGHLAB|1988-5^CRP^LN|||20240502061500||||||||||||||||||F\rOBX|1|NM|1988-5^CRP^LN||3|mg/L|||||F\r`;
    const c = convertOru(parse(two), profile);
    expect(all<Patient>(c.bundle, 'Patient')).toHaveLength(1);
    expect(all<DiagnosticReport>(c.bundle, 'DiagnosticReport')).toHaveLength(1);
    expect(c.warnings).toContain('PID: the message has results for more than one patient; only the first patient’s were converted');
  });

  it('OBX without OBR are observations of the patient; no OBR and no OBX is filtered, not NACKed', () => {
    const loose =
      'MSH|^~\\&|LAB|MGHLAB|||20240502||ORU^R01|X1|P|2.5.1\rPID|1||MRN1001^^^MGH^MR||RIVERA^ANA\rOBX|1|NM|2345-7^Glucose^LN||99|mg/dL^^UCUM|||||F\r';
    const c = convertOru(parse(loose), profile);
    expect(all(c.bundle, 'DiagnosticReport')).toHaveLength(0);
    expect(all<Observation>(c.bundle, 'Observation')[0].valueQuantity?.value).toBe(99);
    expect(() => convertOru(parse(withSegment(loose, 'OBX', '')), profile)).toThrow(UnsupportedMessageError);
    expect(() => convertOru(parse(withSegment(loose, 'PID', '')), profile)).toThrow(MappingError);
  });
});

describe('SIU^S12–S26', () => {
  const s12 = fixture('siu', 'S12.hl7');

  it('a follow-up with the PCP: the appointment names the same Practitioner as Patient.generalPractitioner', () => {
    const c = convertSiu(parse(s12), profile);
    const [appointment] = all<Appointment>(c.bundle, 'Appointment');
    const [patient] = all<Patient>(c.bundle, 'Patient');
    const pcp = patient.generalPractitioner?.[0].reference;
    expect(pcp).toBeDefined();
    expect(appointment.participant.map((p) => p.actor?.reference)).toContain(pcp);
    expect(appointment.participant[0]).toEqual({ actor: { reference: `urn:uuid:${patient.id}` }, status: 'accepted' });
    expect(appointment).toMatchObject({
      status: 'booked',
      start: '2024-05-10T09:30:00-04:00',
      end: '2024-05-10T10:00:00-04:00',
      minutesDuration: 30,
    });
    expect(c).toMatchObject({ adapterId: 'hl7v2-siu', messageType: 'SIU', event: 'S12', eventDate: '2024-05-04', encounter: undefined });
  });

  it('status follows the trigger (booked, rescheduled → booked, cancelled, discontinued, deleted, no-show); modifications take SCH-25', () => {
    const status = (event: string, filler = 'Booked') =>
      all<Appointment>(
        convertSiu(parse(s12.replace('SIU^S12^SIU_S12', `SIU^${event}^SIU_S12`).replace('|Booked\r', `|${filler}\r`)), profile).bundle,
        'Appointment',
      )[0].status;
    expect(status('S13')).toBe('booked');
    expect(status('S15')).toBe('cancelled');
    expect(status('S16')).toBe('cancelled');
    expect(status('S17')).toBe('entered-in-error');
    expect(status('S26')).toBe('noshow');
    expect(status('S14', 'Started')).toBe('checked-in');
    expect(status('S14', 'Pending')).toBe('pending');
    expect(status('S19', 'Complete')).toBe('fulfilled');
  });

  it('times come from the resources when SCH-11 and TQ1 have none; the end adds the duration on the wall clock', () => {
    const text = withSegment(s12, 'SCH', 'SCH|PL-1^EPIC|APT-2^EPICCADENCE||||||||||||||||||||||||Booked').replace(
      /20240510093000/g,
      '20240310013000',
    );
    const [a] = all<Appointment>(convertSiu(parse(text), profile).bundle, 'Appointment');
    // 01:30 EST + 30 min is 02:00, which does not exist on 2024-03-10: it is 03:00 EDT.
    expect(a.start).toBe('2024-03-10T01:30:00-05:00');
    expect(a.end).toBe('2024-03-10T03:00:00-04:00');
  });

  it('no time anywhere is filtered for a booked appointment, allowed for a cancelled one', () => {
    const noTimes = [
      'MSH|^~\\&|S|F|||20240504||SIU^S12|X2|P|2.5.1',
      'SCH|PL-1|APT-2',
      'PID|1||MRN1001^^^MGH^MR||RIVERA^ANA',
      'AIP|1|A|1003000126^NGUYEN^THANH',
    ].join('\r');
    expect(() => convertSiu(parse(noTimes), profile)).toThrow(UnsupportedMessageError);
    const [a] = all<Appointment>(convertSiu(parse(noTimes.replace('SIU^S12', 'SIU^S15')), profile).bundle, 'Appointment');
    expect(a.status).toBe('cancelled');
    expect(a.start).toBeUndefined();
    expect(() => convertSiu(parse(withSegment(noTimes, 'PID', '')), profile)).toThrow(UnsupportedMessageError);
    expect(() => convertSiu(parse(withSegment(noTimes, 'SCH', '')), profile)).toThrow(MappingError);
  });
});

describe('MDM^T01–T11', () => {
  const t02 = fixture('mdm', 'T02.hl7');
  const doc = (text: string) => all<DocumentReference>(convertMdm(parse(text), profile).bundle, 'DocumentReference')[0];

  it('a discharge summary: LOINC 18842-5, the OBX lines as one text attachment, the visit finished', () => {
    const c = convertMdm(parse(t02), profile);
    const d = all<DocumentReference>(c.bundle, 'DocumentReference')[0];
    expect(d.type?.coding?.[0]).toEqual({ system: 'http://loinc.org', code: '18842-5', display: 'Discharge summary' });
    const body = Buffer.from(d.content[0].attachment.data!, 'base64').toString('utf8');
    expect(body.split('\n')).toEqual([
      'ADMISSION DIAGNOSIS: Major depressive disorder, single episode.',
      'HOSPITAL COURSE: Stabilized on sertraline; safety plan in place.',
      'Follow-up with PCP within 7 days.',
      'DISCHARGE MEDICATIONS:',
      'sertraline 50 mg PO daily',
    ]);
    expect(d.context?.encounter?.[0].reference).toBe(`urn:uuid:${all<Encounter>(c.bundle, 'Encounter')[0].id}`);
    expect(all<Encounter>(c.bundle, 'Encounter')[0].status).toBe('finished');
    expect(c).toMatchObject({ adapterId: 'hl7v2-mdm', messageType: 'MDM', event: 'T02', eventDate: '2024-05-04' });
  });

  it('a replacement (T10) replaces TXA-13; an edit (T08) of a final document is amended; T11 withdraws it', () => {
    const t10 = doc(
      t02
        .replace('MDM^T02', 'MDM^T10')
        .replace(
          '|DOC-90001^EPICNOTES^2.16.840.1.113883.3.1.8^ISO|',
          '|DOC-90003^EPICNOTES^2.16.840.1.113883.3.1.8^ISO|DOC-90001^EPICNOTES^2.16.840.1.113883.3.1.8^ISO|',
        ),
    );
    expect(t10.relatesTo).toEqual([
      {
        code: 'replaces',
        target: { type: 'DocumentReference', identifier: { system: 'urn:oid:2.16.840.1.113883.3.1.8', value: 'DOC-90001' } },
      },
    ]);
    expect(doc(t02.replace('MDM^T02', 'MDM^T08')).docStatus).toBe('amended');
    expect(doc(t02.replace('MDM^T02', 'MDM^T11'))).toMatchObject({ status: 'entered-in-error', docStatus: 'entered-in-error' });
  });

  it('the same document number is the same DocumentReference across events', () => {
    expect(doc(t02.replace('MDM^T02', 'MDM^T04')).id).toBe(doc(t02).id);
  });

  it('an MDM without TXA is a mapping error', () => {
    expect(() => convertMdm(parse(withSegment(t02, 'TXA', '')), profile)).toThrow(MappingError);
  });
});
