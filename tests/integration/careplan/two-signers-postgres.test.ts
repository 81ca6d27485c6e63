// Two gateway processes on one Postgres (each with its own care-plan and message store connections):
// the ACO signs through one and the PCP's organization through the other at the same moment. One
// decision is recorded, the other signer gets a conflict, and exactly one sign-off message goes out
// (to the CP and the signer who did not win).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CarePlanService } from '../../../src/careplan/service.js';
import { DEFAULT_CAREPLANS_CONFIG, resolveCarePlanSettings } from '../../../src/careplan/settings.js';
import { openCarePlanStore } from '../../../src/careplan/store/careplan-store.js';
import type { CarePlanStore } from '../../../src/careplan/store/types.js';
import { silentLog } from '../../../src/observability/log.js';
import { InboundWriter } from '../../../src/ingest/inbound.js';
import { openStore } from '../../../src/store/open-store.js';
import type { DeliveryRecord, MessageStore } from '../../../src/store/types.js';
import { findPostgresBin, startPostgres, type PostgresServer } from '../../helpers/postgres.js';
import { cpPlan, DESTINATIONS, FakeRoster, MEDICAID, PARTNERS, type TestPartner } from '../../unit/careplan/service/harness.js';

const NPI = 'http://hl7.org/fhir/sid/us-npi';
const RIVER_PCP = '1245319599';
const ACO_PCP = '1234567893';
const PARTNERS_WITH_PCP: Record<string, TestPartner> = {
  ...PARTNERS,
  'acme-aco': { ...PARTNERS['acme-aco']!, pcpNpis: [ACO_PCP] },
  'river-health': { name: 'Riverside Health', kind: 'hospital', destinations: { careplan: 'pcp-hook' }, pcpNpis: [RIVER_PCP] },
};
const ROUNDS = 5;

const bin = findPostgresBin();
if (!bin) console.warn('[careplan] two-signer Postgres suite SKIPPED: no postgres/initdb binaries found (apt-get install postgresql)');

describe.skipIf(!bin)('two signers through two processes on postgres', () => {
  let server: PostgresServer;

  beforeAll(async () => {
    server = await startPostgres();
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('one decision per plan version; the loser gets a conflict; one notification', async () => {
    const url = await server.createDatabase();
    const roster = new FakeRoster().add({
      memberId: 'M1',
      identifiers: [{ system: MEDICAID, value: 'M1' }],
      cp: ['bay-cp'],
      aco: ['acme-aco'],
      pcp: [{ npi: RIVER_PCP }],
    });
    const deliveries: DeliveryRecord[] = [];
    const opened: (CarePlanStore | MessageStore)[] = [];
    const process = async (): Promise<CarePlanService> => {
      const messages = await openStore(url);
      const store = await openCarePlanStore(url);
      opened.push(messages, store);
      const service: CarePlanService = new CarePlanService({
        store,
        messages,
        inbound: new InboundWriter(messages),
        dispatch: async (messageId, sourceName, resource) => {
          const list = (await service.deliveriesFor(sourceName, resource)) ?? [];
          deliveries.push(...(await messages.completeProcessing(messageId, { status: 'processed', deliveries: list })).deliveries);
        },
        roster,
        members: { membersOf: async () => [], attributionHistory: (m) => roster.attributionHistory(m) },
        partners: PARTNERS_WITH_PCP,
        destinationTypes: DESTINATIONS,
        settings: resolveCarePlanSettings(DEFAULT_CAREPLANS_CONFIG, PARTNERS_WITH_PCP),
        log: silentLog,
        now: () => new Date('2024-05-01T14:00:00Z'),
      });
      return service;
    };
    try {
      const [one, two] = [await process(), await process()];
      for (let round = 0; round < ROUNDS; round++) {
        const { record } = await one.submitCarePlan('bay-cp', cpPlan('M1', { id: `plan-${round}`, status: 'draft' }));
        expect(record.pcpPartner).toBe('river-health');
        const when = '2024-05-01T09:30:00-04:00';
        const results = await Promise.allSettled([
          one.recordSignoff(record.id, {
            decision: 'approved',
            who: { type: 'Practitioner', identifier: { system: NPI, value: ACO_PCP } },
            when,
            method: 'api',
            actingPartner: 'acme-aco',
          }),
          two.recordSignoff(record.id, {
            decision: 'rejected',
            who: { type: 'Practitioner', identifier: { system: NPI, value: RIVER_PCP } },
            when,
            method: 'api',
            actingPartner: 'river-health',
            reason: 'x',
          }),
        ]);
        expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
        expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({ code: 'conflict' });
        const detail = (await two.get(record.id))!;
        expect(detail.signoffs).toHaveLength(1);
        const won = detail.signoffs[0]!.decision === 'approved' ? 'acme-aco' : 'river-health';
        expect(detail.record.signoff).toBe(detail.signoffs[0]!.decision);
        // Submission: aco-hook + pcp-hook; sign-off: cp-hook + the other signer's.
        expect(
          deliveries
            .filter((d) => d.patientKey === `careplan:${record.id}`)
            .map((d) => d.destination)
            .sort(),
        ).toEqual(won === 'acme-aco' ? ['aco-hook', 'cp-hook', 'pcp-hook', 'pcp-hook'] : ['aco-hook', 'aco-hook', 'cp-hook', 'pcp-hook']);
      }
    } finally {
      await Promise.all(opened.map((s) => s.close()));
    }
  });
});
