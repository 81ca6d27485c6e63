import type { Bundle, Patient } from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import type { Conversion } from '../../../../src/conversion/types.js';
import {
  DESTINATION_MODULES,
  DESTINATION_TYPES,
  accepts,
  createDeliverer,
  destinationModule,
  renderFor,
  sendsRawOnly,
  typesAccepting,
} from '../../../../src/delivery/deliverers/registry.js';
import { PAYLOAD_KINDS, type Payload, type PayloadKind } from '../../../../src/delivery/payloads.js';

const patient: Patient = { resourceType: 'Patient', id: 'p1', identifier: [{ system: 'urn:example:mrn', value: 'M1' }] };
const bundle: Bundle = { resourceType: 'Bundle', id: 'b1', type: 'collection', entry: [{ fullUrl: 'urn:uuid:p1', resource: patient }] };
const adtA08 = { messageType: 'ADT', event: 'A08', bundle, warnings: [], adapterId: 'hl7v2-adt' } as unknown as Conversion;

/** One payload of each kind that is rendered (hl7v2 never is: the deliverer reads the stored message). */
const samples: Record<Exclude<PayloadKind, 'hl7v2'>, Payload> = {
  'fhir-bundle': { kind: 'fhir-bundle', json: () => JSON.stringify(bundle) },
  careplan: { kind: 'careplan', bundle, fileName: 'careplan-1-v1.json' },
  'status-file': { kind: 'status-file', fileName: 'status.csv', csv: () => 'a,b\n1,2\n', bundle: () => bundle },
  'roster-notice': { kind: 'roster-notice', patient },
};

describe('the deliverer registry', () => {
  it('lists each type once, and each module declares the schema of its own type', () => {
    expect(DESTINATION_TYPES).toEqual(['webhook', 'fhir', 'fhir-messaging', 'mllp', 'sftp']);
    for (const m of DESTINATION_MODULES) {
      expect(destinationModule(m.type)).toBe(m);
      const parsed = m.schema.safeParse({ type: m.type, id: 'x' });
      // Incomplete on purpose: the type is right, so the problems are about other keys.
      expect(parsed.success).toBe(false);
      expect(parsed.error!.issues.map((i) => i.path[0])).not.toContain('type');
      expect(m.schema.safeParse({ type: 'other', id: 'x' }).error!.issues.map((i) => i.path[0])).toContain('type');
    }
    expect(destinationModule('ftp')).toBeUndefined();
  });

  it('every accepted kind renders to text (or says why not), every other kind is refused with a reason', () => {
    for (const m of DESTINATION_MODULES) {
      for (const kind of PAYLOAD_KINDS) {
        if (kind === 'hl7v2') continue;
        const rendered = renderFor(m.type, samples[kind]);
        if (!accepts(m.type, kind)) expect(rendered, `${m.type} ${kind}`).toEqual({ skip: expect.stringContaining('do not take') });
        else if (m.type !== 'fhir-messaging') expect(typeof rendered, `${m.type} ${kind}`).toBe('string');
      }
    }
  });

  it('declares what each type takes', () => {
    expect(typesAccepting('hl7v2')).toEqual(['webhook', 'mllp', 'sftp']);
    expect(typesAccepting('fhir-bundle')).toEqual(['webhook', 'fhir', 'fhir-messaging', 'sftp']);
    expect(typesAccepting('careplan')).toEqual(['webhook', 'fhir', 'sftp']);
    expect(typesAccepting('status-file')).toEqual(['webhook', 'fhir', 'sftp']);
    expect(typesAccepting('roster-notice')).toEqual(['webhook', 'fhir']);
    expect(DESTINATION_TYPES.filter((t) => sendsRawOnly(t))).toEqual(['mllp']);
  });

  it('renders for each type as the producers did: JSON, a conditional transaction, named files, Da Vinci notifications', () => {
    expect(renderFor('webhook', samples['roster-notice'])).toBe(JSON.stringify(patient));
    const notice = JSON.parse(renderFor('fhir', samples['roster-notice']) as string) as Bundle;
    expect(notice).toMatchObject({ resourceType: 'Bundle', type: 'transaction' });
    expect(notice.entry![0]!.request).toEqual({ method: 'PUT', url: `Patient?identifier=${encodeURIComponent('urn:example:mrn|M1')}` });

    expect(renderFor('webhook', samples.careplan)).toBe(JSON.stringify(bundle));
    expect(JSON.parse(renderFor('sftp', samples.careplan) as string)).toEqual({
      fileName: 'careplan-1-v1.json',
      content: JSON.stringify(bundle),
    });
    expect(JSON.parse(renderFor('sftp', samples['status-file']) as string)).toEqual({ fileName: 'status.csv', content: 'a,b\n1,2\n' });
    expect(renderFor('fhir', samples['status-file'])).toBe(JSON.stringify(bundle));

    expect(renderFor('sftp', samples['fhir-bundle'])).toBe(JSON.stringify(bundle));
    // Not an admit/transfer/discharge, or not an HL7 v2 event at all: no notification.
    expect(renderFor('fhir-messaging', { kind: 'fhir-bundle', json: () => '{}', conversion: adtA08 })).toEqual({
      skip: 'no Da Vinci notification for ADT^A08',
    });
    expect(renderFor('fhir-messaging', samples['fhir-bundle'])).toEqual({ skip: expect.stringMatching(/not an HL7 v2 event/) });
    expect(renderFor('ftp', samples['fhir-bundle'])).toEqual({ skip: "unknown destination type 'ftp'" });
  });

  it('delivers by the runtime destination type; a payload a type cannot use is fatal', async () => {
    const deliver = createDeliverer();
    const ctx = { deliveryId: 'd1', attempt: 1 };
    expect(await deliver('not json', { id: 'f', type: 'fhir', baseUrl: 'http://127.0.0.1:1' }, ctx)).toMatchObject({
      kind: 'fatal',
      error: 'FHIR payload is not a Bundle',
    });
    expect(await deliver(42, { id: 'w', type: 'webhook', url: 'http://127.0.0.1:1', secret: 's' }, ctx)).toMatchObject({
      kind: 'fatal',
      error: 'webhook payload must be JSON',
    });
    expect(await deliver('MSH|', { id: 'm', type: 'mllp', host: '127.0.0.1', port: 1 }, ctx)).toMatchObject({
      kind: 'fatal',
      error: 'no MLLP client configured',
    });
    const mllp = createDeliverer({ mllpSend: async () => Buffer.from('MSH|^~\\&|||||||ACK|1|P|2.5\rMSA|AA|1\r') });
    expect(await mllp({ not: 'hl7' }, { id: 'm', type: 'mllp', host: '127.0.0.1', port: 1 }, ctx)).toMatchObject({
      kind: 'fatal',
      error: 'MLLP payload must be HL7 v2 text or bytes',
    });
    expect(await mllp('MSH|^~\\&|||||||ADT^A01|1|P|2.5\r', { id: 'm', type: 'mllp', host: '127.0.0.1', port: 1 }, ctx)).toMatchObject({
      kind: 'delivered',
      status: 'AA',
    });
  });
});
