import { describe, expect, it } from 'vitest';
import { memberPatient } from '../../../src/roster/patient.js';
import type { Member } from '../../../src/roster/types.js';
import { assertUsCorePatient, assertValidFhir } from '../../helpers/validate-fhir.js';

const member: Member = {
  memberId: '100000000001',
  status: 'active',
  identifiers: [
    { system: 'http://example.org/mrn', value: 'MRN1', type: 'MR' },
    { system: 'https://www.mass.gov/masshealth/member-id', value: '100000000001', type: 'MA' },
  ],
  name: { family: 'Doe', given: ['Jane', 'Q'] },
  birthDate: '1980-02-29',
  sex: 'female',
  address: { line: ['1 Main St'], city: 'Boston', state: 'MA', postalCode: '02110' },
  phone: '617-555-0100',
  attributions: [],
  consents: [],
};

describe('memberPatient', () => {
  it('is a valid US Core Patient with typed identifiers and a deterministic id', () => {
    const p = memberPatient(member);
    assertValidFhir(p);
    assertUsCorePatient(p);
    expect(p.identifier).toContainEqual({
      system: 'https://www.mass.gov/masshealth/member-id',
      value: '100000000001',
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MA' }] },
    });
    expect(p).toMatchObject({
      gender: 'female',
      birthDate: '1980-02-29',
      active: true,
      telecom: [{ system: 'phone', value: '617-555-0100', use: 'home' }],
    });
    expect(memberPatient({ ...member, phone: undefined }).id).toBe(p.id);
    expect(memberPatient({ ...member, memberId: 'other', identifiers: [{ system: 's', value: 'other' }] }).id).not.toBe(p.id);
  });

  it('maps what a member file may lack: unknown sex, no address, terminated', () => {
    const p = memberPatient({ ...member, sex: 'U', address: undefined, status: 'terminated' });
    expect(p.gender).toBe('unknown');
    expect(p.address).toBeUndefined();
    expect(p.active).toBe(false);
    assertValidFhir(p);
  });
});
