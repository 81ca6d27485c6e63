import type { Bundle, Encounter, FhirResource, Patient, Resource } from 'fhir/r4';
import fhirPkg from 'fhir';
import { afterEach, describe, expect, it } from 'vitest';
import { deliverFhirTransaction } from '../../../src/delivery/deliverers/fhir.js';
import { deliverFhirMessage } from '../../../src/delivery/deliverers/fhir-messaging.js';
import type { FhirDestination, FhirMessagingDestination } from '../../../src/delivery/types.js';
import { startFhirStub, type FhirStub, type FhirStubOptions } from '../../helpers/fhir-stub.js';

const { Fhir } = fhirPkg;
const ctx = { deliveryId: 'delivery-1', attempt: 1 };
const PATIENT_URL = 'urn:uuid:6b1e5d4e-0d0b-4d8e-9b43-3b4a0c1f0a01';
const ENCOUNTER_URL = 'urn:uuid:6b1e5d4e-0d0b-4d8e-9b43-3b4a0c1f0a02';
const MRN = { system: 'urn:oid:2.16.840.1.113883.3.999.1', value: 'MRN-1001' };
const VISIT = { system: 'urn:oid:2.16.840.1.113883.3.999.2', value: 'V-77' };

const stubs: FhirStub[] = [];
afterEach(async () => {
  for (const s of stubs.splice(0)) await s.close();
});
async function stub(options?: FhirStubOptions): Promise<FhirStub> {
  const s = await startFhirStub(options);
  stubs.push(s);
  return s;
}

/** FHIR.js as the stub's full validator: bad codes become 422s. */
function fhirJsValidate(resource: Resource): string[] {
  const result = new Fhir().validate(resource);
  return result.messages.filter((m) => m.severity === 'error').map((m) => m.message ?? 'invalid');
}

function adtBundle(type: Bundle['type'], family = 'Doe', event = 'notification-admit'): Bundle {
  const bundle: Bundle<FhirResource> = {
    resourceType: 'Bundle',
    id: `bundle-${event}-${family}`,
    type,
    timestamp: '2026-01-02T03:04:05Z',
    entry: [
      {
        fullUrl: 'urn:uuid:6b1e5d4e-0d0b-4d8e-9b43-3b4a0c1f0a00',
        resource: {
          resourceType: 'MessageHeader',
          id: `mh-${event}-${family}`,
          eventCoding: { system: 'http://hl7.org/fhir/us/davinci-alerts/CodeSystem/notification-event', code: event },
          source: { endpoint: 'urn:carebridge' },
          focus: [{ reference: ENCOUNTER_URL }],
        },
      },
      {
        fullUrl: PATIENT_URL,
        resource: { resourceType: 'Patient', identifier: [MRN], name: [{ family, given: ['Jane'] }], gender: 'female' },
      },
      {
        fullUrl: ENCOUNTER_URL,
        resource: {
          resourceType: 'Encounter',
          identifier: [VISIT],
          status: 'in-progress',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'EMER' },
          subject: { reference: PATIENT_URL },
        },
      },
    ],
  };
  return bundle as Bundle;
}

describe('fhir (REST transaction) deliverer', () => {
  const dest = (s: FhirStub, extra: Partial<FhirDestination> = {}): FhirDestination => ({
    id: 'cp',
    type: 'fhir',
    baseUrl: s.baseUrl,
    timeoutMs: 10_000,
    ...extra,
  });

  it('creates Patient and Encounter by identifier, linked, and updates them on resend', async () => {
    const s = await stub({ validate: fhirJsValidate });
    expect(await deliverFhirTransaction(adtBundle('collection'), dest(s), ctx)).toMatchObject({ kind: 'delivered', status: 200 });
    expect(await deliverFhirTransaction(adtBundle('collection', 'Smith'), dest(s), ctx)).toMatchObject({ kind: 'delivered' });

    const patients = s.findByIdentifier('Patient', MRN.system, MRN.value) as Patient[];
    const encounters = s.findByIdentifier('Encounter', VISIT.system, VISIT.value) as Encounter[];
    expect(patients).toHaveLength(1);
    expect(encounters).toHaveLength(1);
    expect(patients[0].name?.[0].family).toBe('Smith');
    expect(patients[0].meta?.versionId).toBe('2');
    expect(encounters[0].subject?.reference).toBe(`Patient/${patients[0].id}`);
    expect([...s.resources.values()].some((r) => r.resourceType === 'MessageHeader')).toBe(false);

    const sent = s.requests[0].body as Bundle;
    expect(sent.type).toBe('transaction');
    expect(sent.entry?.map((e) => e.request)).toEqual([
      { method: 'PUT', url: `Patient?identifier=${encodeURIComponent(`${MRN.system}|${MRN.value}`)}` },
      { method: 'PUT', url: `Encounter?identifier=${encodeURIComponent(`${VISIT.system}|${VISIT.value}`)}` },
    ]);
  });

  it('is fatal when the receiver finds the content invalid (422)', async () => {
    const s = await stub({ validate: fhirJsValidate });
    const bad = adtBundle('collection');
    (bad.entry![1].resource as Patient).gender = 'bogus' as Patient['gender'];
    expect(await deliverFhirTransaction(bad, dest(s), ctx)).toMatchObject({ kind: 'fatal', status: 422 });
    expect(s.resources.size).toBe(0);
  });

  it('sends the bearer token and treats 401 as fatal', async () => {
    const s = await stub({ requiredBearer: 'tok-1' });
    expect(await deliverFhirTransaction(adtBundle('collection'), dest(s), ctx)).toMatchObject({ kind: 'fatal', status: 401 });
    expect(await deliverFhirTransaction(adtBundle('collection'), dest(s, { bearerToken: 'tok-1' }), ctx)).toMatchObject({
      kind: 'delivered',
    });
  });

  it('is fatal when an identifier matches several resources (412)', async () => {
    const s = await stub();
    s.resources.set('Patient/a', { resourceType: 'Patient', id: 'a', identifier: [MRN] } as Patient);
    s.resources.set('Patient/b', { resourceType: 'Patient', id: 'b', identifier: [MRN] } as Patient);
    expect(await deliverFhirTransaction(adtBundle('collection'), dest(s), ctx)).toMatchObject({ kind: 'fatal', status: 412 });
  });

  it.each([500, 503, 409, 408])('retries HTTP %i', async (status) => {
    const s = await stub();
    s.failNext(1, { kind: 'status', status });
    expect(await deliverFhirTransaction(adtBundle('collection'), dest(s), ctx)).toMatchObject({ kind: 'retry', status });
  });

  it('retries 429 with the server Retry-After', async () => {
    const s = await stub();
    s.failNext(1, { kind: 'throttle', retryAfterSec: 2 });
    expect(await deliverFhirTransaction(adtBundle('collection'), dest(s), ctx)).toMatchObject({
      kind: 'retry',
      status: 429,
      retryAfterMs: 2000,
    });
  });

  it('retries a timeout and a reset', async () => {
    const s = await stub();
    s.failNext(1, { kind: 'hang' });
    s.failNext(1, { kind: 'reset' });
    // Only the hanging request gets a short timeout: a loaded machine must not time out the others.
    expect(await deliverFhirTransaction(adtBundle('collection'), dest(s, { timeoutMs: 300 }), ctx)).toMatchObject({
      kind: 'retry',
      error: 'timeout after 300 ms',
    });
    const reset = await deliverFhirTransaction(adtBundle('collection'), dest(s), ctx);
    expect(reset.kind).toBe('retry');
    expect(reset.error).toMatch(/connection reset|network error/);
    expect(await deliverFhirTransaction(adtBundle('collection'), dest(s), ctx)).toMatchObject({ kind: 'delivered' });
  });
});

describe('fhir-messaging deliverer ($process-message)', () => {
  const dest = (s: FhirStub, extra: Partial<FhirMessagingDestination> = {}): FhirMessagingDestination => ({
    id: 'aco',
    type: 'fhir-messaging',
    baseUrl: s.baseUrl,
    timeoutMs: 10_000,
    ...extra,
  });

  it('posts the message Bundle to $process-message', async () => {
    const s = await stub({ validate: fhirJsValidate });
    const bundle = adtBundle('message');
    expect(await deliverFhirMessage(bundle, dest(s), ctx)).toMatchObject({ kind: 'delivered', status: 200 });
    expect(s.requests[0]).toMatchObject({ method: 'POST', url: '/fhir/$process-message' });
    expect(s.messages).toEqual([bundle]);
    expect(s.messageCounts.get(bundle.id!)).toBe(1);
  });

  it.each([401, 404, 403, 400])('never retries HTTP %i', async (status) => {
    const s = await stub();
    s.failNext(1, { kind: 'status', status });
    expect(await deliverFhirMessage(adtBundle('message'), dest(s), ctx)).toMatchObject({ kind: 'fatal', status });
  });

  it('slows down on 429, honouring Retry-After', async () => {
    const s = await stub();
    s.failNext(1, { kind: 'throttle', retryAfterSec: 30 });
    expect(await deliverFhirMessage(adtBundle('message'), dest(s), ctx)).toMatchObject({
      kind: 'retry',
      status: 429,
      retryAfterMs: 30_000,
    });
  });

  it.each([500, 502, 503])('retries HTTP %i', async (status) => {
    const s = await stub();
    s.failNext(1, { kind: 'status', status });
    expect(await deliverFhirMessage(adtBundle('message'), dest(s), ctx)).toMatchObject({ kind: 'retry', status });
  });

  it('retries a timeout and a reset', async () => {
    const s = await stub();
    s.failNext(1, { kind: 'hang' });
    s.failNext(1, { kind: 'reset' });
    expect(await deliverFhirMessage(adtBundle('message'), dest(s, { timeoutMs: 300 }), ctx)).toMatchObject({
      kind: 'retry',
      error: 'timeout after 300 ms',
    });
    expect((await deliverFhirMessage(adtBundle('message'), dest(s), ctx)).kind).toBe('retry');
  });

  it('honours the response MessageHeader code', async () => {
    const s = await stub();
    s.messageResponseCode = 'transient-error';
    expect(await deliverFhirMessage(adtBundle('message'), dest(s), ctx)).toMatchObject({
      kind: 'retry',
      error: 'receiver reported transient-error',
    });
    s.messageResponseCode = 'fatal-error';
    expect(await deliverFhirMessage(adtBundle('message'), dest(s), ctx)).toMatchObject({
      kind: 'fatal',
      error: 'receiver reported fatal-error',
    });
  });

  it('refuses to send something that is not a message Bundle', async () => {
    const s = await stub();
    expect(await deliverFhirMessage(adtBundle('collection'), dest(s), ctx)).toMatchObject({ kind: 'fatal' });
    expect(s.requests).toHaveLength(0);
  });
});
