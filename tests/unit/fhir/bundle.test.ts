import { describe, expect, it } from 'vitest';
import type { Encounter, MessageHeader, Organization, Patient } from 'fhir/r4.js';
import {
  BundleAssemblyError,
  buildMessageBundle,
  buildProvenance,
  bundleEntry,
  fullUrlFor,
  reference,
  V2_TO_FHIR_ACTIVITY,
} from '../../../src/fhir/bundle.js';
import { resourceId } from '../../../src/fhir/ids.js';
import { assertValidFhir, validateWithBoth } from '../../helpers/validate-fhir.js';

const ns = 'general-hospital';
const patient: Patient = {
  resourceType: 'Patient',
  id: resourceId({ namespace: ns, system: 'urn:oid:2.16.840.1.113883.3.999.1', value: 'MRN123', resourceType: 'Patient' }),
  identifier: [{ system: 'urn:oid:2.16.840.1.113883.3.999.1', value: 'MRN123' }],
  name: [{ family: 'Everyman', given: ['Adam'] }],
  gender: 'male',
};
const encounter: Encounter = {
  resourceType: 'Encounter',
  id: resourceId({ namespace: ns, system: 'urn:oid:2.16.840.1.113883.3.999.2', value: 'V100', resourceType: 'Encounter' }),
  status: 'in-progress',
  class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
  subject: reference(patient),
};
const facility: Organization = {
  resourceType: 'Organization',
  id: resourceId({ namespace: ns, system: 'urn:carebridge:facility', value: 'GH', resourceType: 'Organization' }),
  name: 'General Hospital',
};
const header: MessageHeader = {
  resourceType: 'MessageHeader',
  id: resourceId({ namespace: ns, system: 'urn:carebridge:msh-10', value: 'MSG0001', resourceType: 'MessageHeader' }),
  eventCoding: { system: 'http://terminology.hl7.org/CodeSystem/v2-0003', code: 'A01' },
  source: { endpoint: 'urn:carebridge:partner:general-hospital' },
  focus: [reference(encounter)],
};

describe('addresses and references', () => {
  it('urn:uuid by default', () => {
    expect(fullUrlFor(patient)).toBe(`urn:uuid:${patient.id}`);
    expect(reference(patient, { display: 'Adam Everyman' })).toEqual({ reference: `urn:uuid:${patient.id}`, display: 'Adam Everyman' });
  });

  it('Type/id, optionally absolute with a base URL', () => {
    const p = { ...patient, id: 'p-1' };
    expect(fullUrlFor(p, { style: 'resource' })).toBe('Patient/p-1');
    expect(fullUrlFor(p, { style: 'resource', baseUrl: 'https://fhir.example.org/r4/' })).toBe('https://fhir.example.org/r4/Patient/p-1');
    expect(reference(p, { style: 'resource' })).toEqual({ reference: 'Patient/p-1' });
  });

  it('refuses a missing id, an invalid id, and urn:uuid for a non-UUID id', () => {
    expect(() => fullUrlFor({ ...patient, id: undefined })).toThrow(BundleAssemblyError);
    expect(() => fullUrlFor({ ...patient, id: 'bad_id' }, { style: 'resource' })).toThrow(BundleAssemblyError);
    expect(() => fullUrlFor({ ...patient, id: 'p-1' })).toThrow(/UUID/);
  });

  it('bundleEntry carries fullUrl and resource only', () => {
    expect(bundleEntry(patient)).toEqual({ fullUrl: `urn:uuid:${patient.id}`, resource: patient });
  });
});

describe('buildMessageBundle', () => {
  const bundle = buildMessageBundle({
    id: 'msg-bundle-1',
    identifier: { system: 'urn:carebridge:msh-10', value: 'MSG0001' },
    timestamp: '2024-05-01T14:32:07-04:00',
    header,
    resources: [patient, encounter, facility],
  });

  it('puts the MessageHeader first and keeps the given order', () => {
    expect(bundle.type).toBe('message');
    expect(bundle.entry!.map((e) => e.resource!.resourceType)).toEqual(['MessageHeader', 'Patient', 'Encounter', 'Organization']);
    expect(bundle.entry!.every((e) => e.fullUrl === `urn:uuid:${e.resource!.id}`)).toBe(true);
  });

  it('validates with FHIR.js and medplum', () => {
    expect(validateWithBoth(bundle)).toEqual([]);
  });

  it('works with Type/id addressing too', () => {
    const p = { ...patient, id: 'p-1' };
    const e = { ...encounter, id: 'e-1', subject: reference(p, { style: 'resource' }) };
    const h = { ...header, id: 'h-1', focus: [reference(e, { style: 'resource' })] };
    const b = buildMessageBundle({
      style: 'resource',
      baseUrl: 'https://fhir.example.org/r4',
      timestamp: '2024-05-01T18:32:07Z',
      header: h,
      resources: [p, e],
    });
    expect(b.entry!.map((x) => x.fullUrl)).toEqual([
      'https://fhir.example.org/r4/MessageHeader/h-1',
      'https://fhir.example.org/r4/Patient/p-1',
      'https://fhir.example.org/r4/Encounter/e-1',
    ]);
    assertValidFhir(b);
  });

  it('refuses duplicates and a second MessageHeader', () => {
    expect(() => buildMessageBundle({ timestamp: '2024-05-01T18:32:07Z', header, resources: [patient, patient] })).toThrow(/duplicate/);
    expect(() => buildMessageBundle({ timestamp: '2024-05-01T18:32:07Z', header, resources: [header] })).toThrow(/MessageHeader/);
  });
});

describe('buildProvenance', () => {
  it('builds an IG-style v2 transformation Provenance that validates', () => {
    const provenance = buildProvenance({
      id: resourceId({ namespace: ns, system: 'urn:carebridge:msh-10', value: 'MSG0001', resourceType: 'Provenance' }),
      targets: [reference(patient), reference(encounter)],
      recorded: '2024-05-01T14:32:07-04:00',
      occurredDateTime: '2024-05-01T14:30:00-04:00',
      activity: V2_TO_FHIR_ACTIVITY,
      agents: [
        { who: reference(facility), type: 'author' },
        { who: { display: 'carebridge' }, type: 'assembler' },
      ],
      sourceMessage: { identifier: { system: 'urn:carebridge:msh-10', value: 'MSG0001' }, display: 'HL7 v2 ADT^A01' },
    });
    expect(Object.keys(provenance)).toEqual([
      'resourceType',
      'id',
      'target',
      'occurredDateTime',
      'recorded',
      'activity',
      'agent',
      'entity',
    ]);
    expect(provenance.agent[0]!.type!.coding![0]).toEqual({
      system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type',
      code: 'author',
    });
    expect(provenance.entity).toEqual([{ role: 'source', what: expect.objectContaining({ display: 'HL7 v2 ADT^A01' }) }]);

    const bundle = buildMessageBundle({
      timestamp: '2024-05-01T14:32:07-04:00',
      header,
      resources: [patient, encounter, facility, provenance],
    });
    // Provenance.activity is an extensible binding: FHIR.js may warn about the IG's code, never error.
    expect(validateWithBoth(bundle).filter((i) => i.severity === 'error')).toEqual([]);
  });

  it('requires targets and agents', () => {
    expect(() =>
      buildProvenance({ id: 'p', targets: [], recorded: '2024-05-01T14:32:07Z', agents: [{ who: reference(facility) }] }),
    ).toThrow(/target/);
    expect(() => buildProvenance({ id: 'p', targets: [reference(patient)], recorded: '2024-05-01T14:32:07Z', agents: [] })).toThrow(
      /agent/,
    );
  });

  it('accepts a CodeableConcept activity as is', () => {
    const p = buildProvenance({
      id: 'p',
      targets: [reference(patient)],
      recorded: '2024-05-01T14:32:07Z',
      agents: [{ who: reference(facility) }],
      activity: { text: 'converted' },
    });
    expect(p.activity).toEqual({ text: 'converted' });
  });
});
