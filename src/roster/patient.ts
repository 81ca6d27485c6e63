import type { Patient } from 'fhir/r4';
import { resourceId } from '../fhir/ids.js';
import type { Member } from './types.js';

// A roster member as a FHIR R4 Patient: what a CP receives with a "newly assigned member" diff
// event. The id is deterministic per member (roster namespace + the member id's identifier), so
// a resend updates the same Patient.

const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const GENDERS = new Set(['male', 'female', 'other', 'unknown']);
/** Namespace of roster-made resource ids (member files have no sending facility). */
export const ROSTER_ID_NAMESPACE = 'carebridge-roster';

export function memberPatient(member: Member): Patient {
  // The Medicaid id (type MA) is the member's key; adapters put it first.
  const key = member.identifiers.find((i) => i.type === 'MA' && i.value === member.memberId) ?? member.identifiers[0];
  const patient: Patient = { resourceType: 'Patient' };
  if (key) patient.id = resourceId({ namespace: ROSTER_ID_NAMESPACE, system: key.system, value: key.value, resourceType: 'Patient' });
  patient.identifier = member.identifiers.map((i) =>
    i.type
      ? { system: i.system, value: i.value, type: { coding: [{ system: V2_0203, code: i.type }] } }
      : { system: i.system, value: i.value },
  );
  patient.active = member.status === 'active';
  if (member.name && (member.name.family || member.name.given?.length)) {
    patient.name = [
      {
        use: 'official',
        ...(member.name.family ? { family: member.name.family } : {}),
        ...(member.name.given?.length ? { given: member.name.given } : {}),
      },
    ];
  }
  if (member.phone) patient.telecom = [{ system: 'phone', value: member.phone, use: 'home' }];
  patient.gender = member.sex && GENDERS.has(member.sex) ? (member.sex as Patient['gender']) : 'unknown';
  if (member.birthDate) patient.birthDate = member.birthDate;
  const a = member.address;
  if (a && (a.line?.length || a.city || a.state || a.postalCode)) {
    patient.address = [
      {
        use: 'home',
        ...(a.line?.length ? { line: a.line } : {}),
        ...(a.city ? { city: a.city } : {}),
        ...(a.state ? { state: a.state } : {}),
        ...(a.postalCode ? { postalCode: a.postalCode } : {}),
      },
    ];
  }
  return patient;
}
