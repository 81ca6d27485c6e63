import { describe, expect, it } from 'vitest';
import type { Encounter, Location, MessageHeader, Organization, Patient, Practitioner } from 'fhir/r4.js';
import { reference } from '../../../src/fhir/bundle.js';
import {
  buildNotificationBundle,
  DAVINCI_NOTIFICATION,
  notificationEventCoding,
  notificationEventForTrigger,
  notificationHeaderProfile,
  type NotificationEvent,
} from '../../../src/fhir/davinci.js';
import { resourceId } from '../../../src/fhir/ids.js';
import { assertUsCorePatient, validateWithBoth } from '../../helpers/validate-fhir.js';

const ns = 'general-hospital';
const id = (resourceType: string, value: string) => resourceId({ namespace: ns, system: 'urn:test', value, resourceType });

const patient: Patient = {
  resourceType: 'Patient',
  id: id('Patient', 'MRN123'),
  identifier: [{ system: 'urn:oid:2.16.840.1.113883.3.999.1', value: 'MRN123' }],
  name: [{ family: 'Everyman', given: ['Adam'] }],
  gender: 'male',
  birthDate: '1961-06-15',
};
const hospital: Organization = { resourceType: 'Organization', id: id('Organization', 'GH'), name: 'General Hospital' };
const attending: Practitioner = {
  resourceType: 'Practitioner',
  id: id('Practitioner', '004777'),
  name: [{ family: 'Attend', given: ['Aaron'] }],
};
const ward: Location = { resourceType: 'Location', id: id('Location', '4E'), name: '4 East' };

function encounter(status: Encounter['status']): Encounter {
  return {
    resourceType: 'Encounter',
    id: id('Encounter', 'V100'),
    status,
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP', display: 'inpatient encounter' },
    subject: reference(patient),
    period: { start: '2024-05-01T14:30:00-04:00', ...(status === 'finished' ? { end: '2024-05-03T10:00:00-04:00' } : {}) },
    location: [{ location: reference(ward) }],
  };
}

function build(event: NotificationEvent) {
  return buildNotificationBundle({
    event,
    bundleId: id('Bundle', `MSG-${event}`),
    headerId: id('MessageHeader', `MSG-${event}`),
    timestamp: '2024-05-01T14:32:07-04:00',
    encounter: encounter(event === 'discharge' ? 'finished' : 'in-progress'),
    patient,
    sender: hospital,
    responsible: hospital,
    author: attending,
    source: { endpoint: 'urn:carebridge:partner:general-hospital', name: 'ADT feed', software: 'carebridge' },
    destination: { endpoint: 'https://cp.example.org/fhir/$process-message', name: 'Community Partner' },
    extraResources: [ward],
  });
}

describe('ADT trigger -> notification event', () => {
  it.each([
    ['A01', 'admit'],
    ['A04', 'admit'],
    ['A02', 'transfer'],
    ['A03', 'discharge'],
    [' a03 ', 'discharge'],
    ['A06', 'admit'], // outpatient becomes inpatient: an inpatient admission
    ['A07', 'transfer'], // inpatient becomes outpatient: care moves to another setting
    ['A08', undefined],
    ['A11', undefined],
    ['A14', undefined], // pending events notify nothing yet
    ['A17', undefined], // a swap names two patients; one notification cannot carry both
    ['A21', undefined],
    ['', undefined],
  ])('%s -> %s', (trigger, event) => {
    expect(notificationEventForTrigger(trigger)).toBe(event);
  });

  it('uses the IG code system and codes', () => {
    expect(notificationEventCoding('admit')).toEqual({
      system: 'http://hl7.org/fhir/us/davinci-alerts/CodeSystem/notification-event',
      code: 'notification-admit',
      display: 'Admit Notification',
    });
    expect(notificationEventCoding('transfer').code).toBe('notification-transfer');
    expect(notificationEventCoding('discharge').code).toBe('notification-discharge');
    expect(notificationHeaderProfile('discharge')).toBe(
      'http://hl7.org/fhir/us/davinci-alerts/StructureDefinition/discharge-notification-messageheader',
    );
  });
});

describe.each<NotificationEvent>(['admit', 'transfer', 'discharge'])('buildNotificationBundle(%s)', (event) => {
  const bundle = build(event);
  const header = bundle.entry![0]!.resource as MessageHeader;

  it('is a profiled message Bundle with id, timestamp and the MessageHeader first', () => {
    expect(bundle.meta?.profile).toEqual([DAVINCI_NOTIFICATION.bundleProfile]);
    expect(bundle.type).toBe('message');
    expect(bundle.id).toBeTruthy();
    expect(bundle.timestamp).toBe('2024-05-01T14:32:07-04:00');
    expect(header.resourceType).toBe('MessageHeader');
    expect(header.meta?.profile).toEqual([DAVINCI_NOTIFICATION.messageHeaderProfile, notificationHeaderProfile(event)]);
    expect(header.eventCoding).toEqual(notificationEventCoding(event));
  });

  it('focus is the Encounter, and every referenced party is bundled once', () => {
    const fullUrls = bundle.entry!.map((e) => e.fullUrl);
    expect(header.focus).toEqual([{ reference: `urn:uuid:${id('Encounter', 'V100')}` }]);
    for (const ref of [header.focus![0], header.sender, header.author, header.responsible]) {
      expect(fullUrls).toContain(ref!.reference);
    }
    expect(bundle.entry!.map((e) => e.resource!.resourceType)).toEqual([
      'MessageHeader',
      'Encounter',
      'Patient',
      'Organization',
      'Practitioner',
      'Location',
    ]);
    expect(header.destination).toHaveLength(1);
    expect(header.response).toBeUndefined();
  });

  it('validates with FHIR.js and medplum, and the Patient is US Core', () => {
    expect(validateWithBoth(bundle)).toEqual([]);
    assertUsCorePatient(bundle.entry![2]!.resource!);
  });
});

describe('buildNotificationBundle guards', () => {
  it('refuses an Encounter whose subject is not the bundled Patient', () => {
    const input = {
      event: 'admit' as const,
      bundleId: 'b',
      headerId: id('MessageHeader', 'x'),
      timestamp: '2024-05-01T14:32:07-04:00',
      encounter: { ...encounter('in-progress'), subject: { reference: 'Patient/someone-else' } },
      patient,
      sender: hospital,
      source: { endpoint: 'urn:x' },
    };
    expect(() => buildNotificationBundle(input)).toThrow(/subject/);
  });

  it('refuses two different resources at one address', () => {
    const input = {
      event: 'admit' as const,
      bundleId: 'b',
      headerId: id('MessageHeader', 'x'),
      timestamp: '2024-05-01T14:32:07-04:00',
      encounter: encounter('in-progress'),
      patient,
      sender: hospital,
      source: { endpoint: 'urn:x' },
      extraResources: [{ ...hospital, name: 'Another name' }],
    };
    expect(() => buildNotificationBundle(input)).toThrow(/share the address/);
  });
});
