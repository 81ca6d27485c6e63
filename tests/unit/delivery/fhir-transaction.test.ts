import type { Bundle, FhirResource } from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import { toConditionalTransaction } from '../../../src/delivery/deliverers/fhir.js';
import { createDeliverer } from '../../../src/delivery/deliverers/index.js';

describe('toConditionalTransaction', () => {
  it('chooses conditional PUT, PUT by id, or POST per entry, and drops MessageHeader', () => {
    const input: Bundle<FhirResource> = {
      resourceType: 'Bundle',
      id: 'b1',
      type: 'message',
      entry: [
        { fullUrl: 'urn:uuid:h', resource: { resourceType: 'MessageHeader', eventCoding: { code: 'x' }, source: { endpoint: 'urn:x' } } },
        {
          fullUrl: 'urn:uuid:p',
          resource: { resourceType: 'Patient', identifier: [{ value: 'no-system' }, { system: 'urn:s', value: 'a b|c' }] },
        },
        {
          fullUrl: 'urn:uuid:v',
          resource: { resourceType: 'Provenance', id: 'prov-1', target: [], recorded: '2026-01-01T00:00:00Z', agent: [] },
        },
        { resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' } } },
      ],
    };
    const tx = toConditionalTransaction(input as Bundle);
    expect(tx.type).toBe('transaction');
    expect(tx.id).toBe('b1');
    expect(tx.entry?.map((e) => e.request)).toEqual([
      { method: 'PUT', url: `Patient?identifier=${encodeURIComponent('urn:s|a b|c')}` },
      { method: 'PUT', url: 'Provenance/prov-1' },
      { method: 'POST', url: 'Observation' },
    ]);
    expect(tx.entry?.[0].fullUrl).toBe('urn:uuid:p');
    expect(tx.entry?.[2].fullUrl).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
  });

  it('keeps the requests of a bundle that already is a transaction', () => {
    const input: Bundle<FhirResource> = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:p',
          resource: { resourceType: 'Patient', identifier: [{ system: 's', value: 'v' }] },
          request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=s|v' },
        },
      ],
    };
    expect(toConditionalTransaction(input as Bundle).entry?.[0].request).toEqual({
      method: 'POST',
      url: 'Patient',
      ifNoneExist: 'identifier=s|v',
    });
  });
});

describe('createDeliverer', () => {
  const ctx = { deliveryId: 'd', attempt: 1 };

  it('turns unusable payloads and missing wiring into fatal outcomes', async () => {
    const deliver = createDeliverer();
    expect(await deliver('not json', { id: 'f', type: 'fhir', baseUrl: 'http://127.0.0.1:1' }, ctx)).toMatchObject({
      kind: 'fatal',
      error: 'FHIR payload is not a Bundle',
    });
    expect(await deliver('MSH|...', { id: 'm', type: 'mllp', host: '127.0.0.1', port: 1 }, ctx)).toMatchObject({
      kind: 'fatal',
      error: 'no MLLP client configured',
    });
    expect(await deliver(42, { id: 'w', type: 'webhook', url: 'http://127.0.0.1:1', secret: 's' }, ctx)).toMatchObject({ kind: 'fatal' });
  });

  it('dispatches MLLP payloads to the injected sender', async () => {
    const deliver = createDeliverer({ mllpSend: async () => Buffer.from('MSH|^~\\&|X\rMSA|AA|C1\r') });
    expect(
      await deliver('MSH|^~\\&|A|B|C|D|20260101||ADT^A01|C1|P|2.5\r', { id: 'm', type: 'mllp', host: 'h', port: 1 }, ctx),
    ).toMatchObject({ kind: 'delivered' });
  });
});
