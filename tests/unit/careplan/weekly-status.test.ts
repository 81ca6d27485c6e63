import { describe, expect, it } from 'vitest';
import { weeklyStatusCsv, weeklyStatusRows, type StatusPlan } from '../../../src/careplan/weekly-status.js';

const zone = 'America/New_York';
const plan = (over: Partial<StatusPlan> & { id: string }): StatusPlan => ({
  memberId: 'M1',
  signoff: 'pending',
  status: 'active',
  createdAt: new Date('2024-05-01T14:00:00Z'),
  dueAt: new Date('2024-06-01T03:59:59Z'),
  completedAt: null,
  ...over,
});

describe('weekly status rows', () => {
  it('lists the latest approved plan once per member, outstanding assessments and unsigned plans', () => {
    const rows = weeklyStatusRows({
      members: ['M1', 'M2', 'M3', 'M2'],
      plans: [
        plan({ id: 'a-old', signoff: 'approved', completedAt: new Date('2024-05-02T12:00:00Z') }),
        plan({ id: 'a-new', signoff: 'approved', completedAt: new Date('2024-05-20T12:00:00Z'), created: '2024-05-19' }),
        plan({ id: 'r', memberId: 'M3', signoff: 'rejected', created: '2024-04-30T23:30:00-04:00' }),
        plan({ id: 'gone', memberId: 'M4', status: 'entered-in-error' }),
        plan({ id: 'revoked', memberId: 'M5', status: 'revoked' }),
        plan({ id: 'orphan', memberId: null }),
      ],
      now: new Date('2024-06-03T10:00:00Z'),
      timeZone: zone,
    });
    expect(rows).toEqual([
      {
        section: 'participation-signed',
        memberId: 'M1',
        carePlanId: 'a-new',
        createdDate: '2024-05-19',
        signoffStatus: 'approved',
        signedDate: '2024-05-20',
        state: 'signed',
      },
      { section: 'assessment-outstanding', memberId: 'M2', state: 'outstanding' },
      {
        section: 'careplan-unsigned',
        memberId: 'M3',
        carePlanId: 'r',
        createdDate: '2024-04-30',
        signoffStatus: 'rejected',
        dueDate: '2024-05-31',
        state: 'overdue',
        daysOverdue: 3,
      },
    ]);
  });

  it('due until the end of the due date, overdue from the next local midnight', () => {
    const at = (iso: string) => weeklyStatusRows({ members: [], plans: [plan({ id: 'p' })], now: new Date(iso), timeZone: zone })[0]!;
    expect(at('2024-06-01T03:59:59Z')).toMatchObject({ state: 'due', daysOverdue: 0 });
    expect(at('2024-06-01T04:00:00Z')).toMatchObject({ state: 'overdue', daysOverdue: 1 });
  });
});

describe('weekly status CSV', () => {
  it('is RFC 4180 with CRLF, quotes what needs quoting and defuses formulas', () => {
    const csv = weeklyStatusCsv([
      { section: 'assessment-outstanding', memberId: '=HYPERLINK("x")', state: 'outstanding' },
      { section: 'assessment-outstanding', memberId: 'A,B', state: 'outstanding' },
    ]);
    expect(csv).toBe(
      'section,member_id,care_plan_id,created_date,signoff_status,signed_date,due_date,state,days_overdue\r\n' +
        `assessment-outstanding,"'=HYPERLINK(""x"")",,,,,,outstanding,\r\n` +
        'assessment-outstanding,"A,B",,,,,,outstanding,\r\n',
    );
    expect(weeklyStatusCsv([])).toBe(
      'section,member_id,care_plan_id,created_date,signoff_status,signed_date,due_date,state,days_overdue\r\n',
    );
  });
});
