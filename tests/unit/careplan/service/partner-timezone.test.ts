// Issue 5: the follow-up is due "within N business days of discharge (... in the partner's time
// zone, DST-safe)". A CP may set its own timeZone (and holidays); others use careplans.timeZone.
import type { Encounter, Patient } from 'fhir/r4.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveCarePlanSettings, DEFAULT_CAREPLANS_CONFIG } from '../../../../src/careplan/settings.js';
import { followUpActivity } from '../../../../src/careplan/transition-of-care.js';
import { harness, type Harness, type TestPartner } from './harness.js';

const PATIENT: Patient = {
  resourceType: 'Patient',
  id: '0b7f3c1e-4d2a-5f6e-8a71-2c4d8e6b5f11',
  identifier: [{ system: 'urn:oid:2.16.840.1.113883.19.5', value: 'MRN9' }],
};
const encounter = (id: string): Encounter => ({
  resourceType: 'Encounter',
  id,
  status: 'finished',
  class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
});
const CHICAGO: Record<string, TestPartner> = {
  'chi-cp': { name: 'Chicago CP', kind: 'cp', destinations: { careplan: 'cp-hook' }, timeZone: 'America/Chicago' },
};

describe('follow-up due dates in the CP’s own time zone', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness({ partners: CHICAGO });
  });
  afterEach(() => h.close());

  const discharge = (cp: string, dischargeAt: string, encounterId: string) =>
    h.service.onDischarge({
      messageId: 'MSG1',
      memberId: 'M1',
      cpPartnerId: cp,
      patient: PATIENT,
      encounter: encounter(encounterId),
      dischargeAt,
    });

  it('the same instant is Friday in New York and Thursday in Chicago; both counts cross the spring-forward switch', async () => {
    // 00:30 EST Friday 8 March 2024 = 23:30 CST Thursday 7 March; clocks go forward on Sunday 10 March.
    const at = '2024-03-08T00:30:00-05:00';
    const ny = await discharge('bay-cp', at, '1c8f4d2e-5e3b-5a7f-9b82-3d5e9f7c6a22');
    const chi = await discharge('chi-cp', at, '2d9f5e3f-6f4c-5b8a-8c93-4e6fa08d7b33');
    expect(followUpActivity(ny)!.detail!.scheduledPeriod!.end).toBe('2024-03-13T23:59:59-04:00'); // Fri + 3 = Wed, EDT
    expect(followUpActivity(chi)!.detail!.scheduledPeriod!.end).toBe('2024-03-12T23:59:59-05:00'); // Thu + 3 = Tue, CDT
    expect((await h.store.get(chi.id!))!.dueAt!.toISOString()).toBe('2024-03-13T04:59:59.000Z');

    // The due list states each date in the zone it was counted in (Chicago's end of day is already
    // Wednesday in New York) and turns overdue at the CP's local midnight.
    const dueOf = async (cp: string, now: string) => (await h.service.dueAndOverdue(cp, new Date(now)))[0]!;
    expect(await dueOf('chi-cp', '2024-03-12T23:30:00-05:00')).toMatchObject({
      dueDate: '2024-03-12',
      dueAt: '2024-03-12T23:59:59-05:00',
      state: 'due',
    });
    expect(await dueOf('chi-cp', '2024-03-13T00:00:00-05:00')).toMatchObject({ dueDate: '2024-03-12', state: 'overdue' });
    expect(await dueOf('bay-cp', '2024-03-13T23:30:00-04:00')).toMatchObject({
      dueDate: '2024-03-13',
      dueAt: '2024-03-13T23:59:59-04:00',
      state: 'due',
    });
  });

  it('across the fall-back switch each zone keeps whole local days', async () => {
    // 23:30 CDT Thursday 31 Oct 2024 = 00:30 EDT Friday 1 Nov; clocks go back on Sunday 3 Nov.
    const at = '2024-10-31T23:30:00-05:00';
    const ny = await discharge('bay-cp', at, '1c8f4d2e-5e3b-5a7f-9b82-3d5e9f7c6a22');
    const chi = await discharge('chi-cp', at, '2d9f5e3f-6f4c-5b8a-8c93-4e6fa08d7b33');
    expect(followUpActivity(ny)!.detail!.scheduledPeriod!.end).toBe('2024-11-06T23:59:59-05:00'); // Fri + 3 = Wed, EST
    expect(followUpActivity(chi)!.detail!.scheduledPeriod!.end).toBe('2024-11-05T23:59:59-06:00'); // Thu + 3 = Tue, CST
  });

  it('a partner’s own holidays add to the configured ones, for that partner only', async () => {
    await h.close();
    h = await harness({
      partners: { 'chi-cp': { ...CHICAGO['chi-cp']!, holidays: ['2024-03-11'] } },
      config: { holidays: ['2024-03-12'] },
    });
    const at = '2024-03-08T00:30:00-05:00';
    const ny = await discharge('bay-cp', at, '1c8f4d2e-5e3b-5a7f-9b82-3d5e9f7c6a22');
    const chi = await discharge('chi-cp', at, '2d9f5e3f-6f4c-5b8a-8c93-4e6fa08d7b33');
    expect(followUpActivity(ny)!.detail!.scheduledPeriod!.end).toBe('2024-03-14T23:59:59-04:00'); // Fri + Mon 11, Wed 13, Thu 14
    expect(followUpActivity(chi)!.detail!.scheduledPeriod!.end).toBe('2024-03-14T23:59:59-05:00'); // Thu + Fri 8, Wed 13, Thu 14
  });
});

describe('resolveCarePlanSettings per partner', () => {
  const settings = resolveCarePlanSettings(
    { ...DEFAULT_CAREPLANS_CONFIG, holidays: ['2024-12-24'] },
    { 'chi-cp': { timeZone: 'America/Chicago', holidays: ['2024-12-26'] }, 'plain-cp': {}, 'empty-cp': { holidays: [] } },
  );

  it('a partner with its own zone or holidays gets its own calendar; the others share the default', () => {
    expect(settings.timeZoneOf('chi-cp')).toBe('America/Chicago');
    expect(settings.timeZoneOf('plain-cp')).toBe('America/New_York');
    expect(settings.timeZoneOf(undefined)).toBe('America/New_York');
    expect(settings.timeZoneOf('toString')).toBe('America/New_York');
    const chi = settings.calendarAround('2024-12-20', 'chi-cp');
    expect(chi.timeZone).toBe('America/Chicago');
    expect(chi.holidays).toEqual(expect.arrayContaining(['2024-12-24', '2024-12-26', '2024-12-25']));
    expect(settings.calendarAround('2024-12-20', 'chi-cp')).toBe(chi);
    const shared = settings.calendarAround('2024-12-20');
    expect(shared.holidays).not.toContain('2024-12-26');
    expect(settings.calendarAround('2024-06-01', 'plain-cp')).toBe(shared);
    expect(settings.calendarAround('2024-06-01', 'empty-cp')).toBe(shared);
  });

  it('local dates in the partner’s zone', () => {
    const lateEvening = new Date('2024-03-13T04:30:00Z'); // 00:30 EDT Wednesday, 23:30 CDT Tuesday
    expect(settings.localDate(lateEvening)).toBe('2024-03-13');
    expect(settings.localDate(lateEvening, 'chi-cp')).toBe('2024-03-12');
  });
});
