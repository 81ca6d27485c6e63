import { describe, expect, it } from 'vitest';
import type { Bundle, Encounter, FhirResource, Patient } from 'fhir/r4.js';
import {
  assertUsCorePatient,
  assertValidFhir,
  errorsOf,
  usCorePatientIssues,
  validateWithBoth,
  type FhirIssue,
} from '../../helpers/validate-fhir.js';

const PATIENT_ID = '0f8fad5b-d9cb-469f-a165-70867728950e';
const ENCOUNTER_ID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

function goodPatient(): Patient {
  return {
    resourceType: 'Patient',
    id: PATIENT_ID,
    identifier: [
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] },
        system: 'urn:oid:2.16.840.1.113883.3.999.1',
        value: 'MRN123',
      },
    ],
    name: [{ use: 'official', family: 'Everyman', given: ['Adam', 'A'] }],
    telecom: [{ system: 'phone', value: '555-555-2004', use: 'home' }],
    gender: 'male',
    birthDate: '1961-06-15',
    address: [{ use: 'home', line: ['2222 Home Street'], city: 'Boston', state: 'MA', postalCode: '02115' }],
    maritalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'M' }] },
    communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'en' }] } }],
  };
}

function goodEncounter(): Encounter {
  return {
    resourceType: 'Encounter',
    id: ENCOUNTER_ID,
    status: 'in-progress',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'EMER', display: 'emergency' },
    subject: { reference: `urn:uuid:${PATIENT_ID}` },
    period: { start: '2024-03-10T03:30:00-04:00' },
  };
}

function messageBundle(resources: (Patient | Encounter)[]): Bundle<FhirResource> {
  return {
    resourceType: 'Bundle',
    id: 'b1',
    type: 'message',
    timestamp: '2024-03-10T03:31:00-04:00',
    entry: [
      {
        fullUrl: 'urn:uuid:1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b',
        resource: {
          resourceType: 'MessageHeader',
          id: '1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b',
          eventCoding: { system: 'http://terminology.hl7.org/CodeSystem/v2-0003', code: 'A01' },
          source: { endpoint: 'urn:carebridge:test' },
          focus: [{ reference: `urn:uuid:${ENCOUNTER_ID}` }],
        },
      },
      ...resources.map((r) => ({ fullUrl: `urn:uuid:${r.id}`, resource: r })),
    ],
  };
}

const sources = (issues: FhirIssue[]): string[] => [...new Set(issues.map((i) => i.source))].sort();

describe('validateWithBoth on valid R4', () => {
  it('reports nothing for a good Patient (incl. v3-MaritalStatus code FHIR.js cannot expand: FP1)', () => {
    expect(validateWithBoth(goodPatient())).toEqual([]);
  });

  it('reports nothing for a good Encounter with a urn:uuid subject validated on its own (FP2)', () => {
    expect(validateWithBoth(goodEncounter())).toEqual([]);
  });

  it('reports nothing for a message Bundle whose urn:uuid references resolve', () => {
    expect(validateWithBoth(messageBundle([goodEncounter(), goodPatient()]))).toEqual([]);
  });
});

describe('validateWithBoth catches bad resources', () => {
  it('bad code in a required binding (FHIR.js)', () => {
    const issues = validateWithBoth({ ...goodPatient(), gender: 'M' });
    expect(errorsOf(issues)).toContainEqual(expect.objectContaining({ source: 'fhir.js', path: 'Patient.gender', severity: 'error' }));
  });

  it('unknown property (both)', () => {
    const issues = validateWithBoth({ ...goodPatient(), mrn: 'x' });
    expect(sources(errorsOf(issues))).toEqual(['fhir.js', 'medplum']);
  });

  it('missing required element (both)', () => {
    const { status: _status, ...noStatus } = goodEncounter();
    const issues = errorsOf(validateWithBoth(noStatus));
    expect(issues.some((i) => i.source === 'fhir.js' && i.path === 'Encounter.status')).toBe(true);
    expect(issues.some((i) => i.source === 'medplum' && i.path === 'Encounter.status')).toBe(true);
  });

  it('bad date formats (medplum) and impossible dates (carebridge)', () => {
    expect(errorsOf(validateWithBoth({ ...goodPatient(), birthDate: '2024-13-01' }))).toContainEqual(
      expect.objectContaining({ source: 'medplum', path: 'Patient.birthDate' }),
    );
    expect(errorsOf(validateWithBoth({ ...goodPatient(), birthDate: '2023-02-29' }))).toEqual([
      expect.objectContaining({ source: 'carebridge', path: 'Patient.birthDate' }),
    ]);
    const noSeconds = { ...goodEncounter(), period: { start: '2024-03-10T03:30-04:00' } };
    expect(errorsOf(validateWithBoth(noSeconds))).toContainEqual(
      expect.objectContaining({ source: 'medplum', path: 'Encounter.period.start' }),
    );
    const noOffset = { ...goodEncounter(), period: { start: '2024-03-10T03:30:00' } };
    expect(errorsOf(validateWithBoth(noOffset))).toEqual([
      expect.objectContaining({ source: 'carebridge', message: expect.stringContaining('offset') }),
    ]);
  });

  it('a v3-MaritalStatus code that does not exist is still reported (FP1 is precise)', () => {
    const p = {
      ...goodPatient(),
      maritalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'ZZ' }] },
    };
    expect(validateWithBoth(p)).toContainEqual(expect.objectContaining({ source: 'fhir.js', path: 'Patient.maritalStatus' }));
  });

  it('empty strings, empty arrays and bad ids (carebridge)', () => {
    const p = { ...goodPatient(), id: 'bad_id', name: [{ family: '', given: [] }] };
    const paths = errorsOf(validateWithBoth(p))
      .filter((i) => i.source === 'carebridge')
      .map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['Patient.id', 'Patient.name[0].family', 'Patient.name[0].given']));
  });

  it('an unresolved urn:uuid reference inside a Bundle', () => {
    const enc = { ...goodEncounter(), subject: { reference: 'urn:uuid:00000000-0000-4000-8000-000000000000' } };
    const issues = validateWithBoth(messageBundle([enc, goodPatient()]));
    expect(errorsOf(issues)).toContainEqual(
      expect.objectContaining({ source: 'carebridge', path: 'Bundle.entry[1].resource.subject.reference' }),
    );
    // medplum's own warning for that reference is kept because it does not resolve.
    expect(issues.some((i) => i.source === 'medplum' && i.message.includes('urn:uuid:00000000'))).toBe(true);
  });

  it('a message Bundle without a MessageHeader first (medplum bdl-12)', () => {
    const b = messageBundle([goodEncounter(), goodPatient()]);
    b.entry = b.entry!.slice(1);
    expect(errorsOf(validateWithBoth(b))).toContainEqual(expect.objectContaining({ source: 'medplum', path: 'Bundle' }));
  });

  it('assertValidFhir throws a readable list', () => {
    expect(() => assertValidFhir({ ...goodPatient(), gender: 'x' })).toThrow(/fhir\.js error\] Patient\.gender/);
    expect(() => assertValidFhir(goodPatient())).not.toThrow();
  });
});

describe('value set false positives are filtered precisely', () => {
  const V3_PART = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
  const V3_ROLE = 'http://terminology.hl7.org/CodeSystem/v3-RoleCode';
  const warningsAt = (issues: FhirIssue[], path: string) => issues.filter((i) => i.path === path && i.source === 'fhir.js');

  it('FP1: codes in is-a filtered value sets are accepted, codes outside still warn', () => {
    const enc: Encounter = {
      ...goodEncounter(),
      participant: [
        { type: [{ coding: [{ system: V3_PART, code: 'ATND' }] }] },
        { type: [{ coding: [{ system: V3_PART, code: 'ADM' }] }] },
        { type: [{ coding: [{ system: V3_PART, code: 'NOT-A-CODE' }] }] },
      ],
    };
    const issues = validateWithBoth(enc);
    expect(warningsAt(issues, 'Encounter.participant[0].type[0]')).toEqual([]);
    expect(warningsAt(issues, 'Encounter.participant[1].type[0]')).toEqual([]);
    expect(warningsAt(issues, 'Encounter.participant[2].type[0]')).toHaveLength(1);

    const related = {
      resourceType: 'RelatedPerson',
      patient: { reference: `urn:uuid:${PATIENT_ID}` },
      relationship: [{ coding: [{ system: V3_ROLE, code: 'MTH' }] }, { coding: [{ system: V3_ROLE, code: 'SUBJECT' }] }],
    };
    const relIssues = validateWithBoth(related);
    expect(warningsAt(relIssues, 'RelatedPerson.relationship[0]')).toEqual([]);
    expect(warningsAt(relIssues, 'RelatedPerson.relationship[1]')).toHaveLength(1);
  });

  it('FP1: is-not-a exclusions hold (v2-0131 "O" is outside patient-contactrelationship)', () => {
    const p = {
      ...goodPatient(),
      contact: [
        {
          relationship: [
            { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0131', code: 'C' }] },
            { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0131', code: 'O' }] },
          ],
          name: { family: 'Everyman', given: ['Eve'] },
        },
      ],
    };
    const issues = validateWithBoth(p);
    expect(warningsAt(issues, 'Patient.contact[0].relationship[0]')).toEqual([]);
    expect(warningsAt(issues, 'Patient.contact[0].relationship[1]')).toHaveLength(1);
  });

  it('FP3: example bindings are not warned about; extensible/preferred ones are', () => {
    const enc: Encounter = {
      ...goodEncounter(),
      type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0007', code: 'E' }] }],
      priority: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActPriority', code: 'EM' }] },
      hospitalization: {
        dischargeDisposition: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0112', code: '01' }] },
        admitSource: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0023', code: '7' }] },
      },
    };
    const issues = validateWithBoth(enc);
    expect(issues).toEqual([
      expect.objectContaining({ severity: 'warning', path: 'Encounter.hospitalization.admitSource' }), // preferred
    ]);
  });
});

describe('US Core Patient', () => {
  it('accepts a patient with identifier system+value, a name and gender', () => {
    expect(usCorePatientIssues(goodPatient())).toEqual([]);
    expect(() => assertUsCorePatient(goodPatient())).not.toThrow();
  });

  it('accepts a name with only given or only family', () => {
    expect(usCorePatientIssues({ ...goodPatient(), name: [{ given: ['Cher'] }] })).toEqual([]);
    expect(usCorePatientIssues({ ...goodPatient(), name: [{ family: 'Everyman' }] })).toEqual([]);
  });

  it('rejects missing identifier system, missing gender and a text-only name', () => {
    const p: Patient = {
      resourceType: 'Patient',
      identifier: [{ value: 'MRN123' }],
      name: [{ text: 'Adam Everyman' }],
    };
    const issues = usCorePatientIssues(p);
    const handPaths = issues.filter((i) => i.source === 'carebridge').map((i) => i.path);
    expect(handPaths).toEqual(['Patient.identifier[0].system', 'Patient.name[0]', 'Patient.gender']);
    // The US Core profile (via medplum) independently agrees.
    expect(issues.filter((i) => i.source === 'medplum').length).toBeGreaterThanOrEqual(2);
    expect(() => assertUsCorePatient(p)).toThrow(/identifier\[0\]\.system/);
  });
});
