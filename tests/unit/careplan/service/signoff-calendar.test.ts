// The sign-off of a CP care plan is due `unsignedDays` calendar days after submission, counted in
// the calendar of the partner who must sign: the ACO's (partners.<aco>.timeZone / holidays, else
// careplans.timeZone). With a second possible signer (the PCP's organization) the ACO's calendar
// still governs. A due date on a weekend or holiday of that calendar moves to its next business day.
import { afterEach, describe, expect, it } from 'vitest';
import { cpPlan, harness, MEDICAID, PARTNERS, type Harness, type TestPartner } from './harness.js';

const RIVER_PCP = '1245319599';
const LA_ACO: Record<string, TestPartner> = { 'acme-aco': { ...PARTNERS['acme-aco']!, timeZone: 'America/Los_Angeles' } };

describe('sign-off due dates in the signer’s calendar', () => {
  let h: Harness;
  afterEach(() => h.close());

  const submit = async (now: string, localId = 'plan-1') => {
    h.clock.now = new Date(now);
    return (await h.service.submitCarePlan('bay-cp', cpPlan('M1', { id: localId }))).record;
  };
  const dueOf = async (partner: string, now: string) => (await h.service.dueAndOverdue(partner, new Date(now)))[0]!;

  it('counts in the ACO’s zone: the same instant is 30 April in Los Angeles and 1 May in New York', async () => {
    h = await harness({ partners: LA_ACO });
    // 22:30 PDT Tuesday 30 April = 01:30 EDT Wednesday 1 May. 30 April + 30 = Thursday 30 May.
    const record = await submit('2024-05-01T05:30:00Z');
    expect(record.dueAt!.toISOString()).toBe('2024-05-31T06:59:59.000Z');
    // Every due list (the ACO's, the CP's) states it in the zone it was counted in, and it turns
    // overdue at the ACO's local midnight.
    for (const partner of ['acme-aco', 'bay-cp']) {
      expect(await dueOf(partner, '2024-05-31T06:59:59Z')).toMatchObject({
        obligation: 'signoff',
        dueDate: '2024-05-30',
        dueAt: '2024-05-30T23:59:59-07:00',
        state: 'due',
      });
      expect(await dueOf(partner, '2024-05-31T07:00:00Z')).toMatchObject({ dueDate: '2024-05-30', state: 'overdue' });
    }
    expect((await h.service.dueList('acme-aco', new Date('2024-05-31T06:59:59Z'), { overdueOnly: true })).items).toEqual([]);
    expect((await h.service.dueList('acme-aco', new Date('2024-05-31T07:00:00Z'), { overdueOnly: true })).items).toHaveLength(1);
  });

  it('without a zone of its own the ACO uses careplans.timeZone; the CP’s zone does not count', async () => {
    h = await harness({ partners: { 'bay-cp': { ...PARTNERS['bay-cp']!, timeZone: 'America/Los_Angeles' } } });
    const record = await submit('2024-05-01T05:30:00Z'); // 1 May in New York + 30 = Friday 31 May
    expect(record.dueAt!.toISOString()).toBe('2024-06-01T03:59:59.000Z');
    expect(await dueOf('bay-cp', '2024-05-20T12:00:00Z')).toMatchObject({ dueDate: '2024-05-31', dueAt: '2024-05-31T23:59:59-04:00' });
  });

  it('a due date on a weekend or a federal holiday moves to the next business day', async () => {
    h = await harness();
    expect((await submit('2024-05-02T14:00:00Z', 'p1')).dueAt!.toISOString()).toBe('2024-06-04T03:59:59.000Z'); // Sat 1 June -> Mon 3 June
    expect((await submit('2024-06-04T14:00:00Z', 'p2')).dueAt!.toISOString()).toBe('2024-07-06T03:59:59.000Z'); // Thu 4 July -> Fri 5 July
    expect((await submit('2024-05-01T14:00:00Z', 'p3')).dueAt!.toISOString()).toBe('2024-06-01T03:59:59.000Z'); // Fri 31 May stays
  });

  it('the ACO’s own holidays count, across the fall-back switch, in its zone', async () => {
    h = await harness({ partners: { 'acme-aco': { ...LA_ACO['acme-aco']!, holidays: ['2024-11-12'] } } });
    // 23:30 PDT Thursday 10 October; + 30 = Saturday 9 November; Monday 11 is Veterans Day, Tuesday 12
    // the ACO's own holiday: due Wednesday 13 November, end of day in PST.
    const record = await submit('2024-10-11T06:30:00Z');
    expect(record.dueAt!.toISOString()).toBe('2024-11-14T07:59:59.000Z');
    expect(await dueOf('acme-aco', '2024-11-13T12:00:00Z')).toMatchObject({
      dueDate: '2024-11-13',
      dueAt: '2024-11-13T23:59:59-08:00',
      state: 'due',
    });
  });

  it('with two possible signers the ACO’s calendar governs, not the PCP organization’s', async () => {
    h = await harness({
      partners: {
        ...LA_ACO,
        'river-health': {
          name: 'Riverside Health',
          kind: 'hospital',
          destinations: { careplan: 'pcp-hook' },
          pcpNpis: [RIVER_PCP],
          timeZone: 'America/Chicago',
          holidays: ['2024-05-30'],
        },
      },
      pcpHistory: true,
    });
    h.roster.add({
      memberId: 'M1',
      identifiers: [{ system: MEDICAID, value: 'M1' }],
      cp: ['bay-cp'],
      aco: ['acme-aco'],
      pcp: [{ npi: RIVER_PCP }],
    });
    const record = await submit('2024-05-01T05:30:00Z');
    expect(record.pcpPartner).toBe('river-health');
    expect(record.dueAt!.toISOString()).toBe('2024-05-31T06:59:59.000Z');
    expect(await dueOf('river-health', '2024-05-20T12:00:00Z')).toMatchObject({
      dueDate: '2024-05-30',
      dueAt: '2024-05-30T23:59:59-07:00',
    });
  });

  it('a revision restarts the clock in the same calendar', async () => {
    h = await harness({ partners: LA_ACO });
    const first = await submit('2024-05-01T05:30:00Z');
    h.clock.now = new Date('2024-05-10T20:00:00Z');
    const revised = await h.service.submitCarePlan('bay-cp', cpPlan('M1', { id: 'plan-1', title: 'Revised' }));
    expect(revised).toMatchObject({ outcome: 'revised', record: { id: first.id } });
    expect(revised.record.dueAt!.toISOString()).toBe('2024-06-11T06:59:59.000Z'); // 10 May + 30 = Sunday 9 June -> Monday 10 June, PDT
  });

  it('the weekly status file states the due date and days overdue in the signer’s calendar', async () => {
    h = await harness({ partners: LA_ACO });
    const record = await submit('2024-05-01T05:30:00Z');
    // 01:00 EDT Monday 3 June = 22:00 PDT Sunday 2 June: three whole days past 30 May in Los Angeles
    // (in New York the same due second is already 31 May).
    const csv = await h.service.weeklyStatus('bay-cp', new Date('2024-06-03T05:00:00Z'));
    expect(csv).toContain(`careplan-unsigned,M1,${record.id},2024-04-30,pending,,2024-05-30,overdue,3`);
  });
});
