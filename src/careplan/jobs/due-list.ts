// A partner's open obligations: follow-ups not yet made (as CP) and care plans not yet signed (as CP
// or ACO), each due or, past the end of its due date, overdue.
import { formatInstantInZone } from '../local-date.js';
import type { CarePlanRecord, Page } from '../store/types.js';
import { PAGE, type CarePlanContext } from './context.js';

export interface DueItem {
  carePlanId: string;
  kind: CarePlanRecord['kind'];
  /** follow-up: the contact after a discharge; signoff: the PCP signature of a CP care plan. */
  obligation: 'follow-up' | 'signoff';
  memberId: string | null;
  cpPartner: string;
  acoPartner: string | null;
  signoff: CarePlanRecord['signoff'];
  /** FHIR instant: the end of the due date in the zone it was counted in (CP's follow-up, ACO's sign-off). */
  dueAt: string;
  dueDate: string;
  state: 'due' | 'overdue';
}

/** A page of the partner's open obligations (as CP and as ACO), by due date. */
export async function dueList(
  ctx: CarePlanContext,
  partnerId: string,
  now: Date,
  page: { limit?: number; cursor?: string | null; overdueOnly?: boolean } = {},
): Promise<Page<DueItem>> {
  const result = await ctx.deps.store.listOpen({
    partner: partnerId,
    limit: page.limit,
    cursor: page.cursor,
    ...(page.overdueOnly ? { dueBefore: new Date(now.getTime() - 999) } : {}),
  });
  return { items: result.items.map((r) => dueItem(ctx, r, now)), next: result.next };
}

/** Every open obligation of a partner, all pages. */
export async function dueAndOverdue(ctx: CarePlanContext, partnerId: string, now: Date): Promise<DueItem[]> {
  const out: DueItem[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<DueItem> = await dueList(ctx, partnerId, now, { limit: PAGE, cursor });
    out.push(...page.items);
    cursor = page.next;
  } while (cursor);
  return out;
}

function dueItem(ctx: CarePlanContext, r: CarePlanRecord, now: Date): DueItem {
  const { settings } = ctx.deps;
  const due = r.dueAt!;
  // In the zone the due date was counted in: the CP's for a follow-up, the ACO's for a sign-off.
  const zonePartner = (r.kind === 'transition-of-care' ? r.cpPartner : r.acoPartner) ?? undefined;
  const zone = settings.timeZoneOf(zonePartner);
  return {
    carePlanId: r.id,
    kind: r.kind,
    obligation: r.kind === 'transition-of-care' ? 'follow-up' : 'signoff',
    memberId: r.memberId,
    cpPartner: r.cpPartner,
    acoPartner: r.acoPartner,
    signoff: r.signoff,
    dueAt: formatInstantInZone(due.getTime(), zone),
    dueDate: settings.localDate(due, zonePartner),
    // dueAt is the last whole second of the due date: overdue from the next local midnight.
    state: now.getTime() >= due.getTime() + 1000 ? 'overdue' : 'due',
  };
}
