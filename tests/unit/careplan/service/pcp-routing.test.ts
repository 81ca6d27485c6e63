// Issue 5: a CP care plan goes to the member's ACO "and the PCP's organization when configured".
// The PCP comes from the roster (attribution role pcp, partner id = NPI); a partner lists its PCPs in
// pcpNpis. That organization gets the plan too and may sign it off like the ACO.
import type { Practitioner } from 'fhir/r4.js';
import { afterEach, describe, expect, it } from 'vitest';
import { CarePlanService } from '../../../../src/careplan/service.js';
import { resolveCarePlanSettings } from '../../../../src/careplan/settings.js';
import { silentLog } from '../../../../src/observability/log.js';
import { cpPlan, DESTINATIONS, harness, MEDICAID, PARTNERS, payloadOf, type Harness, type TestPartner } from './harness.js';

const NPI = 'http://hl7.org/fhir/sid/us-npi';
const RIVER_PCP = '1245319599';
const OTHER_PCP = '1234567893';
const RIVER: Record<string, TestPartner> = {
  'river-health': { name: 'Riverside Health', kind: 'hospital', destinations: { careplan: 'pcp-hook' }, pcpNpis: [RIVER_PCP] },
  // The ACO's own PCPs: no second delivery.
  'acme-aco': { ...PARTNERS['acme-aco']!, pcpNpis: [OTHER_PCP] },
};
const practitioner = (npi: string) => ({ type: 'Practitioner', identifier: { system: NPI, value: npi } });

describe('CP care plans to the PCP’s organization', () => {
  const open: Harness[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((o) => o.close()));
  });

  async function track(pending: Promise<Harness>): Promise<Harness> {
    const h = await pending;
    open.push(h);
    return h;
  }

  async function withPcp(pcp: { npi: string; start?: string; end?: string }[] = [{ npi: RIVER_PCP }]): Promise<Harness> {
    const h = await track(harness({ partners: RIVER, pcpHistory: true }));
    h.roster.add({ memberId: 'M1', identifiers: [{ system: MEDICAID, value: 'M1' }], cp: ['bay-cp'], aco: ['acme-aco'], pcp });
    return h;
  }

  it('goes to the ACO and to the organization of the member’s PCP, each on its careplan destination', async () => {
    const h = await withPcp();
    const r = await h.service.submitCarePlan('bay-cp', cpPlan());
    expect(r.record).toMatchObject({ acoPartner: 'acme-aco', pcpPartner: 'river-health', signoff: 'pending' });
    expect(h.deliveries.map((d) => d.destination).sort()).toEqual(['aco-hook', 'pcp-hook']);
    const toPcp = payloadOf(h.deliveries.find((d) => d.destination === 'pcp-hook')!);
    expect(toPcp.entry?.[0]?.resource).toMatchObject({ resourceType: 'CarePlan', id: r.record.id });
    // The PCP's organization sees the plan among its own (the signing side) and in its due list.
    expect((await h.store.list({ partner: 'river-health', role: 'aco' })).items.map((p) => p.id)).toEqual([r.record.id]);
    expect((await h.store.list({ partners: ['river-health'] })).items).toHaveLength(1);
    expect((await h.service.dueAndOverdue('river-health')).map((d) => [d.carePlanId, d.obligation])).toEqual([[r.record.id, 'signoff']]);
    expect((await h.store.list({ partner: 'river-health', role: 'cp' })).items).toEqual([]);
  });

  it('goes to the ACO only when the PCP is unknown, unlisted, not current, or one of the ACO’s own', async () => {
    for (const pcp of [
      [],
      [{ npi: '1003000126' }],
      [{ npi: RIVER_PCP, end: '2024-04-30' }],
      [{ npi: RIVER_PCP, start: '2024-05-02' }],
      [{ npi: OTHER_PCP }],
    ]) {
      const one = await withPcp(pcp);
      const r = await one.service.submitCarePlan('bay-cp', cpPlan());
      expect(r.record.pcpPartner).toBeNull();
      expect(one.deliveries.map((d) => d.destination)).toEqual(['aco-hook']);
    }
  });

  it('goes to the ACO only without the roster’s attribution history (no members directory)', async () => {
    const h = await track(harness({ partners: RIVER }));
    h.roster.add({
      memberId: 'M1',
      identifiers: [{ system: MEDICAID, value: 'M1' }],
      cp: ['bay-cp'],
      aco: ['acme-aco'],
      pcp: [{ npi: RIVER_PCP }],
    });
    const r = await h.service.submitCarePlan('bay-cp', cpPlan());
    expect(r.record.pcpPartner).toBeNull();
    expect(h.deliveries.map((d) => d.destination)).toEqual(['aco-hook']);
  });

  it('a PCP the plan names is not enough: only the roster’s PCP routes (a CP cannot pick the receiver)', async () => {
    const h = await withPcp([]);
    const named = cpPlan('M1', {
      contained: [{ resourceType: 'Practitioner', id: 'pcp', identifier: [{ system: NPI, value: RIVER_PCP }] } as Practitioner],
      careTeam: [{ reference: '#care-team' }],
    });
    const r = await h.service.submitCarePlan('bay-cp', named);
    expect(r.record.pcpPartner).toBeNull();
  });

  it('the PCP’s organization signs it off: on behalf of that organization, and the CP is notified', async () => {
    const h = await withPcp();
    const { record } = await h.service.submitCarePlan('bay-cp', cpPlan());
    const r = await h.service.recordSignoff(record.id, {
      decision: 'approved',
      who: practitioner(RIVER_PCP),
      when: '2024-05-01T09:30:00-04:00',
      method: 'api',
      actingPartner: 'river-health',
    });
    expect(r.record).toMatchObject({ signoff: 'approved', status: 'active' });
    expect(r.provenance.agent[0]).toMatchObject({
      who: practitioner(RIVER_PCP),
      onBehalfOf: { identifier: { value: 'river-health' }, display: 'Riverside Health' },
    });
    expect(await h.messages.getMessage(r.messageId)).toMatchObject({ sourceName: 'careplan-signoff', partnerId: 'river-health' });
    expect(h.deliveries.filter((d) => d.destination === 'cp-hook')).toHaveLength(1);
    expect(await h.service.dueAndOverdue('river-health')).toEqual([]);
  });

  it('without an acting partner (admin, a file), a signer practising at the PCP’s organization signs for it', async () => {
    const h = await withPcp();
    // Two plans: a plan version is decided once (two-signers.test.ts).
    const first = (await h.service.submitCarePlan('bay-cp', cpPlan())).record;
    const second = (await h.service.submitCarePlan('bay-cp', cpPlan('M1', { id: 'cp-local-8' }))).record;
    const byNpi = await h.service.recordSignoff(first.id, {
      decision: 'rejected',
      who: practitioner(RIVER_PCP),
      when: '2024-05-01T09:00:00-04:00',
      method: 'api',
      reason: 'incomplete',
    });
    expect(byNpi.provenance.agent[0]?.onBehalfOf?.identifier?.value).toBe('river-health');
    const byOther = await h.service.recordSignoff(second.id, {
      decision: 'approved',
      who: practitioner('1003000126'),
      when: '2024-05-01T09:10:00-04:00',
      method: 'api',
    });
    expect(byOther.provenance.agent[0]?.onBehalfOf?.identifier?.value).toBe('acme-aco');
  });

  it('the ACO still signs it off; any other partner does not see it', async () => {
    const h = await withPcp();
    const { record } = await h.service.submitCarePlan('bay-cp', cpPlan());
    const when = '2024-05-01T09:30:00-04:00';
    await expect(
      h.service.recordSignoff(record.id, {
        decision: 'approved',
        who: practitioner(RIVER_PCP),
        when,
        method: 'api',
        actingPartner: 'quiet-aco',
      }),
    ).rejects.toMatchObject({
      code: 'not-found',
    });
    const r = await h.service.recordSignoff(record.id, {
      decision: 'approved',
      who: practitioner(OTHER_PCP),
      when,
      method: 'file',
      actingPartner: 'acme-aco',
    });
    expect(r.provenance.agent[0]?.onBehalfOf?.identifier?.value).toBe('acme-aco');
  });

  it('a new PCP organization is a new routing: the unchanged plan is sent again, to the new one', async () => {
    const h = await withPcp([]);
    const first = await h.service.submitCarePlan('bay-cp', cpPlan());
    expect(first.record.pcpPartner).toBeNull();
    h.roster.add({
      memberId: 'M1',
      identifiers: [{ system: MEDICAID, value: 'M1' }],
      cp: ['bay-cp'],
      aco: ['acme-aco'],
      pcp: [{ npi: RIVER_PCP }],
    });
    const second = await h.service.submitCarePlan('bay-cp', cpPlan());
    expect(second).toMatchObject({ outcome: 'revised', record: { pcpPartner: 'river-health', version: 2 } });
    expect(h.deliveries.map((d) => d.destination)).toEqual(['aco-hook', 'aco-hook', 'pcp-hook']);
    expect((await h.service.submitCarePlan('bay-cp', cpPlan())).outcome).toBe('unchanged');
  });

  it('one delivery when the ACO and the PCP’s organization share a destination', async () => {
    const h = await track(
      harness({
        partners: { ...RIVER, 'river-health': { ...RIVER['river-health']!, destinations: { careplan: 'aco-hook' } } },
        pcpHistory: true,
      }),
    );
    h.roster.add({
      memberId: 'M1',
      identifiers: [{ system: MEDICAID, value: 'M1' }],
      cp: ['bay-cp'],
      aco: ['acme-aco'],
      pcp: [{ npi: RIVER_PCP }],
    });
    await h.service.submitCarePlan('bay-cp', cpPlan());
    expect(h.deliveries.map((d) => d.destination)).toEqual(['aco-hook']);
  });

  it('refuses a PCP listed by two partners', async () => {
    const store = { close: async () => {} } as never;
    expect(
      () =>
        new CarePlanService({
          store,
          messages: {} as never,
          inbound: {} as never,
          dispatch: async () => {},
          partners: { ...RIVER, other: { name: 'Other', kind: 'hospital', destinations: {}, pcpNpis: [RIVER_PCP] } },
          destinationTypes: DESTINATIONS,
          settings: resolveCarePlanSettings(),
          log: silentLog,
        }),
    ).toThrow(/listed by both 'river-health' and 'other'/);
  });
});
