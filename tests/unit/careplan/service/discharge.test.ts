import type { Encounter, Patient } from 'fhir/r4.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { followUpActivity, isFollowUpOverdue } from '../../../../src/careplan/transition-of-care.js';
import { assertValidFhir } from '../../../helpers/validate-fhir.js';
import { harness, type Harness } from './harness.js';

const PATIENT: Patient = {
  resourceType: 'Patient',
  id: '0b7f3c1e-4d2a-5f6e-8a71-2c4d8e6b5f11',
  identifier: [{ system: 'urn:oid:2.16.840.1.113883.19.5', value: 'MRN123' }],
};

function encounter(end: string, id = '1c8f4d2e-5e3b-5a7f-9b82-3d5e9f7c6a22'): Encounter {
  return {
    resourceType: 'Encounter',
    id,
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
    period: { end },
  };
}

describe('CarePlanService.onDischarge (transition of care)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(() => h.close());

  const discharge = (dischargeAt: string, enc = encounter(dischargeAt)) =>
    h.service.onDischarge({ messageId: 'MSG1', memberId: 'M1', cpPartnerId: 'bay-cp', patient: PATIENT, encounter: enc, dischargeAt });

  it('creates the CP’s plan with the follow-up due 3 business days after a late-Friday discharge', async () => {
    const plan = await discharge('2024-05-03T23:30:00-04:00');
    assertValidFhir(plan);
    expect(plan.status).toBe('active');
    expect(plan.intent).toBe('plan');
    expect(plan.subject.reference).toBe(`urn:uuid:${PATIENT.id}`);
    expect(plan.subject.identifier).toEqual({ system: 'urn:oid:2.16.840.1.113883.19.5', value: 'MRN123' });
    expect(plan.encounter?.reference).toBe('urn:uuid:1c8f4d2e-5e3b-5a7f-9b82-3d5e9f7c6a22');
    expect(plan.author).toEqual({
      type: 'Organization',
      identifier: { system: 'https://carebridge.example.org/fhir/partner-id', value: 'bay-cp' },
      display: 'Bay CP',
    });
    const detail = followUpActivity(plan)!.detail!;
    expect(detail.scheduledPeriod!.end).toBe('2024-05-08T23:59:59-04:00'); // Friday + 3 = Wednesday
    expect(detail.description).toBe('Contact the member within 3 business days of discharge.');
    expect(plan.meta?.versionId).toBe('1');
    const record = (await h.store.get(plan.id!))!;
    expect(record).toMatchObject({
      kind: 'transition-of-care',
      memberId: 'M1',
      cpPartner: 'bay-cp',
      acoPartner: null,
      signoff: null,
      completedAt: null,
    });
    expect(record.encounterRef).toBe('urn:uuid:1c8f4d2e-5e3b-5a7f-9b82-3d5e9f7c6a22');
    expect(record.dueAt!.toISOString()).toBe('2024-05-09T03:59:59.000Z');
  });

  it('skips observed federal holidays and configured ones', async () => {
    const memorial = await discharge(
      '2024-05-24T10:00:00-04:00',
      encounter('2024-05-24T10:00:00-04:00', '2d9f5e3f-6f4c-5b8a-8c93-4e6fa08d7b33'),
    );
    expect(followUpActivity(memorial)!.detail!.scheduledPeriod!.end).toBe('2024-05-30T23:59:59-04:00'); // Mon 27 is Memorial Day
    await h.close();
    h = await harness({ config: { usFederalHolidays: false, holidays: ['2024-05-06'], followUpBusinessDays: 2 } });
    const plan = await discharge('2024-05-03T10:00:00-04:00');
    expect(followUpActivity(plan)!.detail!.scheduledPeriod!.end).toBe('2024-05-08T23:59:59-04:00'); // Mon 6 off: Tue, Wed
    expect(followUpActivity(plan)!.detail!.description).toBe('Contact the member within 2 business days of discharge.');
  });

  it('a resent discharge changes nothing; a corrected discharge time updates the same plan', async () => {
    const first = await discharge('2024-05-03T10:00:00-04:00');
    const again = await discharge('2024-05-03T10:00:00-04:00');
    expect(again).toEqual(first);
    const corrected = await discharge('2024-05-06T09:00:00-04:00', encounter('2024-05-06T09:00:00-04:00'));
    expect(corrected.id).toBe(first.id);
    expect(corrected.meta?.versionId).toBe('2');
    expect(corrected.created).toBe(first.created);
    expect(followUpActivity(corrected)!.detail!.scheduledPeriod!.end).toBe('2024-05-09T23:59:59-04:00');
  });

  it('follow-up completion: the plan completes, stays completed through a resent discharge, and leaves the due list', async () => {
    const plan = await discharge('2024-05-03T10:00:00-04:00');
    h.clock.now = new Date('2024-05-10T12:00:00Z');
    expect(isFollowUpOverdue(plan, h.clock.now)).toBe(true);
    expect((await h.service.dueAndOverdue('bay-cp')).map((d) => [d.carePlanId, d.obligation, d.state])).toEqual([
      [plan.id, 'follow-up', 'overdue'],
    ]);
    const done = await h.service.completeFollowUp(plan.id!, '2024-05-07T15:00:00-04:00', { actor: 'cp-key' });
    expect(done.status).toBe('completed');
    expect(done.completedAt!.toISOString()).toBe('2024-05-07T19:00:00.000Z');
    expect(followUpActivity(done.resource)!.detail!.status).toBe('completed');
    assertValidFhir(done.resource);
    expect(await h.store.getFollowUp(plan.id!)).toMatchObject({ recordedBy: 'cp-key' });
    // Idempotent, and a later resend of the discharge keeps it done.
    expect((await h.service.completeFollowUp(plan.id!, '2024-05-08T15:00:00-04:00')).version).toBe(done.version);
    const resent = await discharge('2024-05-03T10:00:00-04:00');
    expect(resent.status).toBe('completed');
    expect(await h.service.dueAndOverdue('bay-cp')).toEqual([]);
  });

  it('refuses bad input without echoing it', async () => {
    await expect(discharge('yesterday')).rejects.toThrow(/dischargeAt/);
    await expect(h.service.completeFollowUp('nope', '2024-05-07T15:00:00-04:00')).rejects.toMatchObject({ code: 'not-found' });
    const plan = await discharge('2024-05-03T10:00:00-04:00');
    await expect(h.service.completeFollowUp(plan.id!, '2024-05-07')).rejects.toMatchObject({ code: 'invalid' });
    await expect(h.service.completeFollowUp(plan.id!, '2024-05-07T15:00:00-04:00', { actingPartner: 'drop-cp' })).rejects.toMatchObject({
      code: 'not-found',
    });
  });
});
