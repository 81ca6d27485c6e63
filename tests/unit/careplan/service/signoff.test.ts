import type { Bundle, CarePlan, Provenance } from 'fhir/r4.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signoffStatusOf } from '../../../../src/careplan/signoff.js';
import { assertValidFhir } from '../../../helpers/validate-fhir.js';
import { cpPlan, harness, payloadOf, type Harness } from './harness.js';

const NPI = 'http://hl7.org/fhir/sid/us-npi';
const pcp = { type: 'Practitioner', identifier: { system: NPI, value: '1234567893' } };

describe('CarePlanService.recordSignoff', () => {
  let h: Harness;
  let planId: string;
  beforeEach(async () => {
    h = await harness();
    planId = (await h.service.submitCarePlan('bay-cp', cpPlan('M1', { status: 'draft' }))).record.id;
  });
  afterEach(() => h.close());

  it('approval: the plan is in force and signed, the Provenance stored, the CP notified with both', async () => {
    const r = await h.service.recordSignoff(planId, {
      decision: 'approved',
      who: pcp,
      when: '2024-05-01T09:30:00-04:00',
      method: 'api',
      actingPartner: 'acme-aco',
    });
    expect(r.outcome).toBe('recorded');
    expect(r.record).toMatchObject({ status: 'active', signoff: 'approved', version: 2 });
    expect(r.record.completedAt!.toISOString()).toBe('2024-05-01T13:30:00.000Z');
    expect(signoffStatusOf(r.record.resource)).toBe('approved');
    assertValidFhir(r.record.resource);
    assertValidFhir(r.provenance);
    expect(r.provenance.target).toEqual([{ reference: `CarePlan/${planId}/_history/1` }]);
    expect(r.provenance.agent[0]).toMatchObject({ who: pcp, onBehalfOf: { identifier: { value: 'acme-aco' } } });
    expect(r.provenance.signature?.[0]?.when).toBe('2024-05-01T09:30:00-04:00');

    const stored = await h.service.get(planId);
    expect(stored!.signoffs).toHaveLength(1);
    expect(stored!.signoffs[0]).toMatchObject({ decision: 'approved', method: 'api', planVersion: 1 });
    expect(stored!.signoffs[0]!.provenance).toEqual(r.provenance);

    const message = (await h.messages.getMessage(r.messageId))!;
    expect(message).toMatchObject({
      sourceName: 'careplan-signoff',
      partnerId: 'acme-aco',
      triggerEvent: 'Provenance',
      status: 'processed',
    });
    const toCp = h.deliveries.filter((d) => d.destination === 'cp-hook');
    expect(toCp).toHaveLength(1);
    const bundle = payloadOf(toCp[0]!);
    assertValidFhir(bundle);
    const [plan, prov] = bundle.entry!.map((e) => e.resource!) as [CarePlan, Provenance];
    expect(plan).toEqual(r.record.resource);
    expect(prov).toEqual(r.provenance);
    // Signed: off the due list of both sides.
    expect(await h.service.dueAndOverdue('acme-aco')).toEqual([]);
  });

  it('the same decision again is one decision (a resent file, a retried call)', async () => {
    const req = { decision: 'approved' as const, who: pcp, when: '2024-05-01T09:30:00-04:00', method: 'file' as const };
    const first = await h.service.recordSignoff(planId, req);
    const again = await h.service.recordSignoff(planId, req);
    expect(again.outcome).toBe('duplicate');
    expect(again.provenance).toEqual(first.provenance);
    expect(again.messageId).toBe(first.messageId);
    expect(again.record.version).toBe(2);
    expect((await h.service.get(planId))!.signoffs).toHaveLength(1);
    expect(h.deliveries.filter((d) => d.destination === 'cp-hook')).toHaveLength(1);
  });

  it('rejection: the plan stays unsigned and due, with the reason in a note; a revision goes back to pending', async () => {
    const r = await h.service.recordSignoff(planId, {
      decision: 'rejected',
      who: pcp,
      when: '2024-05-01T09:30:00-04:00',
      method: 'api',
      reason: 'Add the diabetes goals',
    });
    expect(r.record).toMatchObject({ status: 'draft', signoff: 'rejected', completedAt: null });
    expect(r.record.resource.note?.at(-1)?.text).toBe('Sign-off rejected: Add the diabetes goals');
    expect(r.provenance.signature).toBeUndefined();
    assertValidFhir(r.provenance);
    const due = await h.service.dueAndOverdue('bay-cp');
    expect(due.map((d) => [d.carePlanId, d.obligation, d.signoff, d.state])).toEqual([[planId, 'signoff', 'rejected', 'due']]);
    const notified = payloadOf(h.deliveries.at(-1)!) as Bundle;
    expect((notified.entry![1]!.resource as Provenance).extension).toContainEqual({
      url: expect.stringMatching(/signoff-reason$/),
      valueString: 'Add the diabetes goals',
    });
    const revised = await h.service.submitCarePlan('bay-cp', cpPlan('M1', { status: 'draft', title: 'With diabetes goals' }));
    expect(revised.record.signoff).toBe('pending');
    expect(signoffStatusOf(revised.record.resource)).toBe('pending');
  });

  it('signed by the ACO itself when no PCP is named (no onBehalfOf)', async () => {
    const aco = { type: 'Organization', identifier: { system: 'https://carebridge.example.org/fhir/partner-id', value: 'acme-aco' } };
    const r = await h.service.recordSignoff(planId, { decision: 'approved', who: aco, when: '2024-05-01T09:30:00-04:00', method: 'fhir' });
    expect(r.provenance.agent[0]!.onBehalfOf).toBeUndefined();
    assertValidFhir(r.provenance);
  });

  it('refuses other partners, revised versions, transition-of-care plans and bad times', async () => {
    const when = '2024-05-01T09:30:00-04:00';
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: { code: string }) => e.code,
      );
    expect(
      await code(h.service.recordSignoff(planId, { decision: 'approved', who: pcp, when, method: 'api', actingPartner: 'quiet-aco' })),
    ).toBe('not-found');
    expect(await code(h.service.recordSignoff('missing', { decision: 'approved', who: pcp, when, method: 'api' }))).toBe('not-found');
    expect(await code(h.service.recordSignoff(planId, { decision: 'approved', who: pcp, when, method: 'api', version: 7 }))).toBe(
      'conflict',
    );
    expect(await code(h.service.recordSignoff(planId, { decision: 'approved', who: pcp, when: '2024-05-01', method: 'api' }))).toBe(
      'invalid',
    );
    expect(
      await code(h.service.recordSignoff(planId, { decision: 'approved', who: pcp, when: '2024-05-09T09:30:00-04:00', method: 'api' })),
    ).toBe('invalid');
    expect(await code(h.service.recordSignoff(planId, { decision: 'approved', who: 'Patient/x', when, method: 'api' }))).toBe('invalid');
    const toc = await h.service.onDischarge({
      messageId: 'm',
      memberId: 'M1',
      cpPartnerId: 'bay-cp',
      patient: 'Patient/p1',
      encounter: 'Encounter/e1',
      dischargeAt: '2024-04-29T10:00:00-04:00',
    });
    expect(await code(h.service.recordSignoff(toc.id!, { decision: 'approved', who: pcp, when, method: 'api' }))).toBe('conflict');
    expect((await h.service.get(planId))!.signoffs).toEqual([]);
  });
});
