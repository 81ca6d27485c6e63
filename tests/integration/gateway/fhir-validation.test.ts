/**
 * Issue 11.4: POST /fhir validates with FHIR.js and @medplum/core and answers 400 with an
 * OperationOutcome naming each problem (the resource is still stored, as rejected).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, TEST_ADMIN_KEY } from '../../helpers/gateway.js';

describe('POST /fhir validates the resource (issue 11.4)', () => {
  let gw: Awaited<ReturnType<typeof startTestGateway>>;
  let base: string;
  beforeAll(async () => {
    gw = await startTestGateway({ webhookUrl: 'http://127.0.0.1:9/hook', webhookSecret: 'hook-secret-0123456789' });
    base = `http://127.0.0.1:${gw.gateway.ports.http}`;
  });
  afterAll(() => gw?.stop());

  const post = async (body: unknown) => {
    const res = await fetch(`${base}/fhir`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${TEST_ADMIN_KEY}` },
      body: JSON.stringify(body),
    });
    return {
      status: res.status,
      outcome: (await res.json()) as { resourceType: string; issue: { severity: string; code: string; diagnostics: string }[] },
    };
  };
  const errors = (o: { issue: { severity: string; diagnostics: string }[] }) =>
    o.issue.filter((i) => i.severity === 'error').map((i) => i.diagnostics);

  it('a Patient with a number as family name and an unknown gender: 400 naming both', async () => {
    const { status, outcome } = await post({ resourceType: 'Patient', name: [{ family: 1 }], gender: 'nonsense' });
    expect(status).toBe(400);
    expect(outcome.resourceType).toBe('OperationOutcome');
    const texts = errors(outcome);
    expect(texts.some((t) => t.startsWith('Patient.name[0].family:'))).toBe(true);
    expect(texts.some((t) => t.startsWith('Patient.gender:') && t.includes('nonsense'))).toBe(true);
    const stored = outcome.issue.find((i) => i.severity === 'information')!.diagnostics.match(/stored as rejected message (\S+)/)![1];
    expect((await gw.gateway.store.getMessage(stored))?.status).toBe('rejected');
  });

  it('a message Bundle holding only an empty MessageHeader: 400 naming what the header lacks', async () => {
    const { status, outcome } = await post({
      resourceType: 'Bundle',
      type: 'message',
      entry: [{ resource: { resourceType: 'MessageHeader' } }],
    });
    expect(status).toBe(400);
    const texts = errors(outcome);
    expect(texts.some((t) => t.startsWith('Bundle.entry[0].resource.source:'))).toBe(true);
    expect(texts.some((t) => t.startsWith('Bundle.entry[0].resource.event'))).toBe(true);
  });

  it('a valid Patient is accepted', async () => {
    const { status } = await post({
      resourceType: 'Patient',
      identifier: [{ system: 'urn:example:mrn', value: 'V-1' }],
      name: [{ family: 'Doe', given: ['Jane'] }],
      gender: 'female',
      birthDate: '1980-01-01',
    });
    expect(status).toBe(201);
  });
});
