import { describe, expect, it } from 'vitest';
import { Router } from '../../../src/routing/router.js';

const facts = (messageType: string | undefined, event: string) => ({
  sourceName: 'in',
  sender: 'APP^FAC',
  messageType,
  event,
  patientClass: 'I',
});

describe('route rules: message types and payload', () => {
  const router = new Router([
    { id: 'adt-only', match: { events: ['A01', 'R01'] }, to: ['fhir-hook'] },
    { id: 'labs', match: { messageTypes: ['ORU'], events: ['R01'] }, to: ['ehr'], payload: 'raw' },
    { id: 'everything', match: { messageTypes: ['*'] }, to: ['archive'], payload: 'raw' },
  ]);
  const ids = (type: string | undefined, event: string) =>
    router.route(facts(type, event)).map((d) => `${d.routeId}:${d.destination}:${d.payload}`);

  it('a rule without messageTypes takes ADT only (adding an adapter never widens an existing route)', () => {
    expect(ids('ADT', 'A01')).toEqual(['adt-only:fhir-hook:fhir', 'everything:archive:raw']);
    expect(ids('ORU', 'R01')).toEqual(['labs:ehr:raw', 'everything:archive:raw']);
  });

  it('events apply to any type; * takes every type', () => {
    expect(ids('ORU', 'R03')).toEqual(['everything:archive:raw']);
    expect(ids('SIU', 'S12')).toEqual(['everything:archive:raw']);
  });

  it('a FHIR resource received over HTTP (no message type) is not filtered by type', () => {
    expect(ids(undefined, 'A01')).toEqual(['adt-only:fhir-hook:fhir', 'everything:archive:raw']);
    expect(ids(undefined, 'R01')).toEqual(['adt-only:fhir-hook:fhir', 'labs:ehr:raw', 'everything:archive:raw']);
  });
});
