// The weekly status file of a CP (issue 5): one CSV, one row per finding, sections told apart by the
// first column. Pure: the service gathers members and plans, this decides the rows.
//
// Columns (header row always present; empty cells where a column does not apply):
//   section           participation-signed | assessment-outstanding | careplan-unsigned
//   member_id         roster member id
//   care_plan_id      carebridge CarePlan id (empty for assessment-outstanding)
//   created_date      CarePlan.created as a local date (YYYY-MM-DD, care-plan time zone)
//   signoff_status    approved | pending | rejected
//   signed_date       local date the PCP approved (participation-signed)
//   due_date          local date the sign-off is due (careplan-unsigned), in the zone it was counted in
//                     (the ACO's: StatusPlan.dueTimeZone)
//   state             signed | outstanding | due | overdue
//   days_overdue      whole calendar days past due_date, in that zone (0 when not overdue; careplan-unsigned)
//
// Sections:
//   participation-signed    members with an approved CP care plan (the signed plan is what stands for
//                           the signed participation form); the most recently approved plan is listed
//   assessment-outstanding  members attributed to the CP without any CP care plan yet (the
//                           comprehensive assessment that produces the plan is outstanding)
//   careplan-unsigned       CP care plans still waiting for sign-off (pending, or rejected and not yet
//                           revised): `due` until the end of their due date, `overdue` after
// Rows are sorted by section (in that order), member id, plan id.
import { formatLocalDate, instantMillis, localDayAt } from './local-date.js';
import type { SignoffState } from './store/types.js';

export const WEEKLY_STATUS_COLUMNS = [
  'section',
  'member_id',
  'care_plan_id',
  'created_date',
  'signoff_status',
  'signed_date',
  'due_date',
  'state',
  'days_overdue',
] as const;

export type StatusSection = 'participation-signed' | 'assessment-outstanding' | 'careplan-unsigned';
const SECTION_ORDER: StatusSection[] = ['participation-signed', 'assessment-outstanding', 'careplan-unsigned'];

export interface StatusRow {
  section: StatusSection;
  memberId: string;
  carePlanId?: string;
  createdDate?: string;
  signoffStatus?: SignoffState;
  signedDate?: string;
  dueDate?: string;
  state: 'signed' | 'outstanding' | 'due' | 'overdue';
  daysOverdue?: number;
}

/** A CP care plan as the status file needs it. */
export interface StatusPlan {
  id: string;
  memberId: string | null;
  signoff: SignoffState | null;
  /** CarePlan.status: only draft and active plans are waiting for a signature. */
  status: string;
  /** CarePlan.created (a date or an instant); else createdAt, when carebridge stored it. */
  created?: string;
  createdAt: Date;
  dueAt: Date | null;
  /** Zone the due date was counted in (the signer's calendar); default the file's zone. */
  dueTimeZone?: string;
  /** When approved. */
  completedAt: Date | null;
}

export interface StatusInput {
  /** Members attributed to the CP (and any other members the CP is known to care for). */
  members: Iterable<string>;
  /** The CP's care plans (kind cp-plan). */
  plans: readonly StatusPlan[];
  now: Date;
  timeZone: string;
}

const localDate = (d: Date, zone: string) => formatLocalDate(localDayAt(d.getTime(), zone));

function createdDate(plan: StatusPlan, zone: string): string {
  if (plan.created && /^\d{4}-\d{2}-\d{2}$/.test(plan.created)) return plan.created;
  const ms = plan.created ? instantMillis(plan.created) : undefined;
  return localDate(ms !== undefined ? new Date(ms) : plan.createdAt, zone);
}

export function weeklyStatusRows(input: StatusInput): StatusRow[] {
  const { now, timeZone } = input;
  const rows: StatusRow[] = [];
  const withPlan = new Set<string>();
  const latestApproved = new Map<string, StatusPlan>();
  for (const plan of input.plans) {
    if (plan.memberId === null || plan.status === 'entered-in-error') continue;
    withPlan.add(plan.memberId);
    if (plan.signoff === 'approved') {
      const seen = latestApproved.get(plan.memberId);
      if (!seen || (plan.completedAt?.getTime() ?? 0) > (seen.completedAt?.getTime() ?? 0)) latestApproved.set(plan.memberId, plan);
    } else if ((plan.status === 'draft' || plan.status === 'active') && plan.dueAt) {
      const dueZone = plan.dueTimeZone ?? timeZone;
      const dueDay = localDayAt(plan.dueAt.getTime(), dueZone);
      const today = localDayAt(now.getTime(), dueZone);
      const overdue = now.getTime() > plan.dueAt.getTime();
      rows.push({
        section: 'careplan-unsigned',
        memberId: plan.memberId,
        carePlanId: plan.id,
        createdDate: createdDate(plan, timeZone),
        signoffStatus: plan.signoff ?? 'pending',
        dueDate: formatLocalDate(dueDay),
        state: overdue ? 'overdue' : 'due',
        daysOverdue: overdue ? Math.max(0, today - dueDay) : 0,
      });
    }
  }
  for (const [memberId, plan] of latestApproved) {
    rows.push({
      section: 'participation-signed',
      memberId,
      carePlanId: plan.id,
      createdDate: createdDate(plan, timeZone),
      signoffStatus: 'approved',
      ...(plan.completedAt ? { signedDate: localDate(plan.completedAt, timeZone) } : {}),
      state: 'signed',
    });
  }
  for (const memberId of new Set(input.members)) {
    if (!withPlan.has(memberId)) rows.push({ section: 'assessment-outstanding', memberId, state: 'outstanding' });
  }
  return rows.sort(
    (a, b) =>
      SECTION_ORDER.indexOf(a.section) - SECTION_ORDER.indexOf(b.section) ||
      compare(a.memberId, b.memberId) ||
      compare(a.carePlanId ?? '', b.carePlanId ?? ''),
  );
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** RFC 4180 field: quoted when it holds a comma, quote or line break; a leading =+-@ is defused for spreadsheets. */
function field(value: string | number | undefined): string {
  if (value === undefined) return '';
  let text = String(value);
  if (/^[=+\-@]/.test(text) && typeof value === 'string') text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function weeklyStatusCsv(rows: readonly StatusRow[]): string {
  const lines = [WEEKLY_STATUS_COLUMNS.join(',')];
  for (const r of rows) {
    lines.push(
      [r.section, r.memberId, r.carePlanId, r.createdDate, r.signoffStatus, r.signedDate, r.dueDate, r.state, r.daysOverdue]
        .map(field)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}
