import type { Patient } from 'fhir/r4';
import { resourceId } from '../fhir/ids.js';
import type { Member } from './types.js';

const DATA_ABSENT = 'http://hl7.org/fhir/StructureDefinition/data-absent-reason';
const GENDERS = new Set(['male', 'female', 'other', 'unknown']);

/**
 * A roster member as a FHIR Patient, for "newly assigned member" notifications. The id is keyed
 * on the first identifier, so it is stable across files; US Core's must-haves are always present.
 */
export function memberAsPatient(member: Member, namespace = 'roster'): Patient {
  const ids = member.identifiers.filter((i) => i.system && i.value);
  const key = ids[0] ?? { system: 'urn:carebridge:roster:member-id', value: member.memberId };
  const name =
    member.name && (member.name.family || member.name.given?.length)
      ? [{ family: member.name.family, given: member.name.given }]
      : undefined;
  const patient: Patient = {
    resourceType: 'Patient',
    id: resourceId({ namespace, system: key.system, value: key.value, resourceType: 'Patient' }),
    identifier: (ids.length ? ids : [key]).map((i) => ({
      system: i.system,
      value: i.value,
      ...('type' in i && i.type ? { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: i.type }] } } : {}),
    })),
    active: member.status === 'active',
    name: name ?? [{ extension: [{ url: DATA_ABSENT, valueCode: 'unknown' }] }],
    gender: (GENDERS.has(member.sex ?? '') ? member.sex : 'unknown') as Patient['gender'],
  };
  if (!name) patient.extension = [{ url: DATA_ABSENT, valueCode: 'unknown' }];
  if (member.birthDate) patient.birthDate = member.birthDate;
  if (member.address && (member.address.line?.length || member.address.city || member.address.postalCode)) {
    patient.address = [
      { line: member.address.line, city: member.address.city, state: member.address.state, postalCode: member.address.postalCode },
    ];
  }
  if (member.phone) patient.telecom = [{ system: 'phone', value: member.phone }];
  return patient;
}
