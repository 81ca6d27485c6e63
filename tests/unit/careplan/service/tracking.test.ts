import { afterEach, describe, expect, it } from 'vitest';
import { WEEKLY_STATUS_COLUMNS } from '../../../../src/careplan/weekly-status.js';
import { cpPlan, harness, MEDICAID, type Harness } from './harness.js';

describe('due and overdue lists, weekly status file', () => {
  let h: Harness;
  afterEach(() => h.close());

  async function seed(): Promise<{ signed: string; pending: string; toc: string }> {
    h.roster.add({ memberId: 'M4', identifiers: [{ system: MEDICAID, value: 'M4' }], cp: ['bay-cp'], aco: ['acme-aco'] });
    const signed = (await h.service.submitCarePlan('bay-cp', cpPlan('M1'))).record.id;
    await h.service.recordSignoff(signed, {
      decision: 'approved',
      who: 'Practitioner/pcp',
      when: '2024-05-01T09:00:00-04:00',
      method: 'api',
    });
    const pending = (await h.service.submitCarePlan('bay-cp', cpPlan('M4', { id: 'p4' }))).record.id;
    const toc = (
      await h.service.onDischarge({
        messageId: 'm',
        memberId: 'M2',
        cpPartnerId: 'bay-cp',
        patient: 'Patient/p2',
        encounter: 'Encounter/e2',
        dischargeAt: '2024-05-03T10:00:00-04:00',
      })
    ).id!;
    return { signed, pending, toc };
  }

  it('lists follow-ups and unsigned plans by due date, due then overdue', async () => {
    h = await harness();
    const { pending, toc } = await seed();
    const at = (iso: string) => new Date(iso);
    const cp = (now: string) =>
      h.service.dueAndOverdue('bay-cp', at(now)).then((l) => l.map((d) => [d.carePlanId, d.obligation, d.dueDate, d.state]));
    expect(await cp('2024-05-08T12:00:00Z')).toEqual([
      [toc, 'follow-up', '2024-05-08', 'due'],
      [pending, 'signoff', '2024-05-31', 'due'],
    ]);
    // Overdue from local midnight after the due date (04:00Z in May, New York).
    expect(await cp('2024-05-09T03:59:59Z')).toEqual([
      [toc, 'follow-up', '2024-05-08', 'due'],
      [pending, 'signoff', '2024-05-31', 'due'],
    ]);
    expect(await cp('2024-05-09T04:00:00Z')).toEqual([
      [toc, 'follow-up', '2024-05-08', 'overdue'],
      [pending, 'signoff', '2024-05-31', 'due'],
    ]);
    expect(await cp('2024-06-01T04:00:00Z')).toEqual([
      [toc, 'follow-up', '2024-05-08', 'overdue'],
      [pending, 'signoff', '2024-05-31', 'overdue'],
    ]);
    // The ACO sees what it has to sign, not the CP's follow-ups.
    expect((await h.service.dueAndOverdue('acme-aco', at('2024-06-01T04:00:00Z'))).map((d) => d.carePlanId)).toEqual([pending]);
    const overdueOnly = await h.service.dueList('bay-cp', at('2024-05-09T04:00:00Z'), { overdueOnly: true });
    expect(overdueOnly.items.map((d) => d.carePlanId)).toEqual([toc]);
    const item = (await h.service.dueAndOverdue('bay-cp', at('2024-05-08T12:00:00Z')))[0]!;
    expect(item).toMatchObject({
      dueAt: '2024-05-08T23:59:59-04:00',
      cpPartner: 'bay-cp',
      acoPartner: null,
      memberId: 'M2',
      kind: 'transition-of-care',
      signoff: null,
    });
  });

  it('the weekly status CSV: signed, assessments outstanding, unsigned due/overdue', async () => {
    h = await harness({
      members: {
        membersOf: async (partner, date, role) =>
          partner === 'bay-cp' && role === 'cp' && date === '2024-06-03' ? ['M1', 'M2', 'M4', 'M5'] : [],
      },
    });
    const { signed, pending } = await seed();
    const csv = await h.service.weeklyStatus('bay-cp', new Date('2024-06-03T10:00:00Z'));
    expect(csv.split('\r\n')).toEqual([
      WEEKLY_STATUS_COLUMNS.join(','),
      `participation-signed,M1,${signed},2024-04-30,approved,2024-05-01,,signed,`,
      'assessment-outstanding,M2,,,,,,outstanding,',
      'assessment-outstanding,M5,,,,,,outstanding,',
      `careplan-unsigned,M4,${pending},2024-04-30,pending,,2024-05-31,overdue,3`,
      '',
    ]);
  });

  it('without a member directory, the members are those it has seen', async () => {
    h = await harness();
    await seed();
    const csv = await h.service.weeklyStatus('bay-cp', new Date('2024-05-10T10:00:00Z'));
    expect(csv).toContain('assessment-outstanding,M2,,,,,,outstanding,');
    expect(csv).toMatch(/careplan-unsigned,M4,[0-9a-f-]+,2024-04-30,pending,,2024-05-31,due,0/);
  });

  it('sends the weekly file once per partner and week, as a file to an sftp destination', async () => {
    h = await harness({
      config: { weeklyStatus: { weekday: 'monday', time: '06:00', files: [{ partner: 'bay-cp', destination: 'cp-sftp' }] } },
    });
    await seed();
    const slot = h.service.currentWeeklySlot(new Date('2024-06-05T12:00:00Z'));
    expect(slot.toISOString()).toBe('2024-06-03T10:00:00.000Z'); // Monday 06:00 New York
    const id = await h.service.sendWeeklyStatus('bay-cp', slot);
    expect(await h.service.sendWeeklyStatus('bay-cp', slot)).toBe(id);
    const files = h.deliveries.filter((d) => d.destination === 'cp-sftp');
    expect(files).toHaveLength(1);
    const file = JSON.parse(files[0]!.payload!) as { fileName: string; content: string };
    expect(file.fileName).toBe('careplan-status-bay-cp-2024-06-03.csv');
    expect(file.content).toBe(await h.service.weeklyStatus('bay-cp', slot));
    const message = (await h.messages.getMessage(id))!;
    expect(message).toMatchObject({ sourceName: 'careplan-status', partnerId: 'bay-cp', messageType: 'CSV' });
  });

  it('refuses a weekly file for an unknown partner or destination at start', async () => {
    await expect(
      harness({ config: { weeklyStatus: { weekday: 'monday', time: '06:00', files: [{ partner: 'nope', destination: 'cp-sftp' }] } } }),
    ).rejects.toThrow(/unknown partner 'nope'/);
    await expect(
      harness({ config: { weeklyStatus: { weekday: 'monday', time: '06:00', files: [{ partner: 'bay-cp', destination: 'nope' }] } } }),
    ).rejects.toThrow(/unknown destination 'nope'/);
    h = await harness();
  });
});
