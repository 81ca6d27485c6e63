/**
 * Issue 11.6: a roster notice for a `fhir` destination is a transaction Bundle with a conditional
 * update of the Patient (as fhir deliveries are), not a bare Patient, which the FHIR deliverer
 * refuses ("FHIR payload is not a Bundle") and dead-letters. Delivered through the gateway's own
 * deliverer to the FHIR stub, which validates what it receives; a resend updates, not duplicates.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { createDeliverer } from '../../../src/delivery/deliverers/index.js';
import { writeTestConfig } from '../../helpers/gateway.js';
import { startFhirStub, type FhirStub } from '../../helpers/fhir-stub.js';
import { rosterFile } from './roster-file.js';
import { crashSuite, startProcess } from './crash-harness.js';

const { open, dirs } = crashSuite();

describe('roster notices to a FHIR destination (issue 11.6)', () => {
  let stub: FhirStub;
  beforeAll(async () => {
    stub = await startFhirStub();
  });
  afterAll(() => stub.close());

  it('are transaction Bundles of conditional updates that the FHIR stub accepts, idempotently', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-notice-fhir-'));
    dirs.push(dir);
    const { file } = writeTestConfig({
      webhookUrl: 'http://127.0.0.1:9/never-called',
      webhookSecret: 'notice-secret-0123456789',
      dataDir: dir,
      extra: {
        partners: {
          'example-aco': { name: 'Example ACO', kind: 'aco', profile: 'example-aco' },
          'example-cp': { name: 'Example CP', kind: 'cp', destinations: { members: 'cp-fhir' } },
          'other-cp': { name: 'Other CP', kind: 'cp' },
        },
        destinations: [{ id: 'cp-fhir', type: 'fhir', baseUrl: stub.baseUrl, partner: 'example-cp' }],
        routes: [],
      },
    });
    const config = loadConfig(file);
    const p = await startProcess(config);
    open.push(p);
    expect(await p.intake(rosterFile(dir))).toBe('applied');

    const [notice] = (await p.store.searchMessages({ messageType: 'ROSTER' })).items;
    const deliveries = (await p.store.getMessage(notice.id))!.deliveries;
    expect(deliveries.map((d) => d.patientKey).sort()).toEqual(['MA100000001', 'MA100000003']);
    const destination = { id: 'cp-fhir', type: 'fhir' as const, baseUrl: stub.baseUrl };
    const deliver = createDeliverer();
    for (const d of deliveries) {
      const bundle = JSON.parse(d.payload!) as {
        resourceType: string;
        type: string;
        entry: { resource: { resourceType: string }; request: { method: string; url: string } }[];
      };
      expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'transaction' });
      expect(bundle.entry).toHaveLength(1);
      expect(bundle.entry[0].resource.resourceType).toBe('Patient');
      expect(bundle.entry[0].request.method).toBe('PUT');
      expect(bundle.entry[0].request.url).toMatch(/^Patient\?identifier=/);
      // What the queue worker does with the stored payload; twice, as after a crash.
      for (let i = 0; i < 2; i++)
        expect(await deliver(d.payload, destination, { deliveryId: d.id, attempt: 1 })).toMatchObject({ kind: 'delivered' });
    }
    const patients = [...stub.resources.values()].filter((r) => r.resourceType === 'Patient');
    expect(patients).toHaveLength(2);
  });
});
