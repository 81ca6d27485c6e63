import type { CarePlan, Patient } from 'fhir/r4.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signoffStatusOf } from '../../../../src/careplan/signoff.js';
import { cpPlanIdSystem, MEMBER_ID_SYSTEM } from '../../../../src/careplan/submission.js';
import { assertValidFhir } from '../../../helpers/validate-fhir.js';
import { cpPlan, harness, MEDICAID, payloadOf, type Harness } from './harness.js';

describe('CarePlanService.submitCarePlan', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(() => h.close());

  it('stores the plan pending sign-off and routes it to the member’s ACO as a Bundle', async () => {
    const r = await h.service.submitCarePlan('bay-cp', cpPlan());
    expect(r.outcome).toBe('created');
    const plan = r.record.resource;
    assertValidFhir(plan);
    expect(r.record).toMatchObject({
      kind: 'cp-plan',
      memberId: 'M1',
      cpPartner: 'bay-cp',
      acoPartner: 'acme-aco',
      signoff: 'pending',
      version: 1,
    });
    expect(signoffStatusOf(plan)).toBe('pending');
    expect(plan.id).not.toBe('cp-local-7');
    expect(plan.identifier).toEqual([{ system: cpPlanIdSystem('bay-cp'), value: 'cp-local-7' }]);
    expect(plan.author).toMatchObject({ identifier: { value: 'bay-cp' } });
    // Due 30 calendar days after submission (2024-05-01 local), at the end of that day.
    expect(r.record.dueAt!.toISOString()).toBe('2024-06-01T03:59:59.000Z');

    const message = (await h.messages.getMessage(r.messageId))!;
    expect(message).toMatchObject({
      sourceKind: 'api',
      sourceName: 'careplan-submission',
      partnerId: 'bay-cp',
      messageType: 'FHIR',
      triggerEvent: 'CarePlan',
      status: 'processed',
    });
    expect(message.identifiers).toEqual([{ system: MEDICAID, value: 'M1' }]);
    expect(h.deliveries).toHaveLength(1);
    const d = h.deliveries[0]!;
    expect(d).toMatchObject({ destination: 'aco-hook', patientKey: `careplan:${plan.id}`, status: 'pending' });
    const bundle = payloadOf(d);
    assertValidFhir(bundle);
    expect(bundle.type).toBe('collection');
    expect(bundle.entry!.map((e) => e.resource!.resourceType)).toEqual(['CarePlan']);
    expect(bundle.entry![0]!.resource).toEqual(plan);
    expect((await h.store.get(plan.id!))!.lastMessageId).toBe(r.messageId);
  });

  it('an unchanged resubmission changes nothing; a revision is a new version back to pending', async () => {
    const first = await h.service.submitCarePlan('bay-cp', cpPlan());
    const same = await h.service.submitCarePlan('bay-cp', cpPlan());
    expect(same.outcome).toBe('unchanged');
    expect(same.record.version).toBe(1);
    expect(same.messageId).toBe(first.messageId);
    expect(h.deliveries).toHaveLength(1);

    await h.service.recordSignoff(first.record.id, {
      decision: 'approved',
      who: 'Practitioner/pcp1',
      when: '2024-05-01T09:00:00-04:00',
      method: 'api',
    });
    // A resent identical plan must not undo the signature.
    expect((await h.service.submitCarePlan('bay-cp', cpPlan())).record.signoff).toBe('approved');

    h.clock.now = new Date('2024-05-20T14:00:00Z');
    const revised = await h.service.submitCarePlan('bay-cp', cpPlan('M1', { title: 'Revised plan' }));
    expect(revised.outcome).toBe('revised');
    expect(revised.record.id).toBe(first.record.id);
    expect(revised.record).toMatchObject({ version: 3, signoff: 'pending', completedAt: null });
    expect(revised.record.createdAt).toEqual(first.record.createdAt);
    // 20 May + 30 = Wednesday 19 June, Juneteenth: due the next business day.
    expect(revised.record.dueAt!.toISOString()).toBe('2024-06-21T03:59:59.000Z');
    expect(revised.messageId).not.toBe(first.messageId);
    expect(h.deliveries.map((d) => d.destination)).toEqual(['aco-hook', 'cp-hook', 'aco-hook']);
  });

  it('keys a plan on the CP’s identifier, else its id, else its content; two CPs never collide', async () => {
    const byIdentifier = await h.service.submitCarePlan(
      'bay-cp',
      cpPlan('M1', { id: undefined, identifier: [{ system: 'urn:bay:plans', value: 'P-1' }] }),
    );
    const sameIdentifierNewId = await h.service.submitCarePlan(
      'bay-cp',
      cpPlan('M1', { id: 'other', identifier: [{ system: 'urn:bay:plans', value: 'P-1' }] }),
    );
    expect(sameIdentifierNewId.record.id).toBe(byIdentifier.record.id);
    const anonymous = await h.service.submitCarePlan('bay-cp', cpPlan('M1', { id: undefined, title: 'no id' }));
    expect(anonymous.record.id).not.toBe(byIdentifier.record.id);
    const elsewhere = await h.service.submitCarePlan('drop-cp', cpPlan('M3'));
    expect(elsewhere.record.id).not.toBe((await h.service.submitCarePlan('bay-cp', cpPlan())).record.id);
  });

  it('finds the member through a contained Patient or the roster member id', async () => {
    const contained: CarePlan = {
      ...cpPlan(),
      contained: [{ resourceType: 'Patient', id: 'p', identifier: [{ system: MEDICAID, value: 'M1' }] } as Patient],
      subject: { reference: '#p' },
    };
    const r = await h.service.submitCarePlan('bay-cp', contained);
    expect(r.record.memberId).toBe('M1');
    assertValidFhir(r.record.resource);
    const direct = await h.service.submitCarePlan(
      'bay-cp',
      cpPlan('M1', { id: 'x2', subject: { identifier: { system: MEMBER_ID_SYSTEM, value: 'M1' } } }),
    );
    expect(direct.record.memberId).toBe('M1');
  });

  it('refuses what it cannot route, saying why without member data', async () => {
    const bad = async (partner: string, plan: unknown) =>
      h.service.submitCarePlan(partner, plan).then(
        () => 'accepted',
        (e: { code: string; message: string; issues: string[] }) => [e.code, e.message, ...e.issues].join(' | '),
      );
    expect(await bad('bay-cp', { resourceType: 'Patient' })).toBe(
      'invalid | the care plan is not acceptable | resourceType must be CarePlan',
    );
    expect(await bad('bay-cp', { ...cpPlan(), status: 'completed', intent: 'wish' })).toMatch(
      /status must be draft or active.*intent is missing/,
    );
    expect(await bad('bay-cp', { ...cpPlan(), subject: { reference: 'Patient/123' } })).toMatch(/subject must identify the member/);
    expect(await bad('bay-cp', cpPlan('NOBODY'))).toBe('unprocessable | the care plan subject is not a member on the roster');
    expect(await bad('bay-cp', cpPlan('M3'))).toBe('unprocessable | the member is not attributed to bay-cp today');
    expect(await bad('bay-cp', cpPlan('M2'))).toBe('unprocessable | the member has no ACO attributed today: nobody to sign the care plan');
    expect(await bad('acme-aco', cpPlan())).toMatch(/^forbidden \| partner 'acme-aco' is not a community partner/);
    expect(await bad('nobody', cpPlan())).toMatch(/^forbidden/);
    expect(await h.messages.searchMessages({})).toMatchObject({ items: [] });
  });

  it('without a roster, nothing can be matched', async () => {
    await h.close();
    h = await harness({ roster: false });
    await expect(h.service.submitCarePlan('bay-cp', cpPlan())).rejects.toMatchObject({ code: 'unprocessable' });
  });

  it('an ACO with no careplan destination keeps the plan for the API only', async () => {
    h.roster.add({ memberId: 'M9', identifiers: [{ system: MEDICAID, value: 'M9' }], cp: ['bay-cp'], aco: ['quiet-aco'] });
    const r = await h.service.submitCarePlan('bay-cp', cpPlan('M9'));
    expect(r.record.acoPartner).toBe('quiet-aco');
    expect(h.deliveries).toEqual([]);
    expect((await h.messages.getMessage(r.messageId))!.status).toBe('processed');
  });

  it('a dispatch that fails leaves the message received; routing it later gives the same delivery', async () => {
    h.failDispatch = true;
    const r = await h.service.submitCarePlan('bay-cp', cpPlan());
    expect((await h.messages.getMessage(r.messageId))!.status).toBe('received');
    // What the recovery sweep does: re-read the raw message and route it through the hook.
    const raw = (await h.messages.getMessageRaw(r.messageId))!;
    const resource = JSON.parse(raw.raw.toString('utf8')) as CarePlan;
    const deliveries = await h.service.deliveriesFor(raw.sourceName, resource);
    expect(deliveries).toHaveLength(1);
    expect(deliveries![0]).toMatchObject({ destination: 'aco-hook' });
    expect(JSON.parse(deliveries![0]!.payload as string).entry[0].resource).toEqual(r.record.resource);
    // A retried submission finds the message still received and dispatches it.
    h.failDispatch = false;
    await h.service.submitCarePlan('bay-cp', cpPlan());
    expect((await h.messages.getMessage(r.messageId))!.status).toBe('processed');
    expect(h.deliveries).toHaveLength(1);
  });

  it('leaves other sources to the route table', async () => {
    expect(await h.service.deliveriesFor('http-in', { resourceType: 'Bundle' })).toBeUndefined();
  });
});
