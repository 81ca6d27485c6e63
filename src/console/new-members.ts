import type { DiffEvent, RosterStore } from '../roster/store-types.js';

interface Change {
  from?: string | null;
  to?: string | null;
}

/** True when the event assigned the member to this CP (a new member, or moved to it). */
function assignsTo(event: DiffEvent, partner: string): boolean {
  return (event.detail.cp as Change | undefined)?.to === partner;
}

/** How many recent imports are looked through for the last one that assigned members to the CP. */
const IMPORTS_SCANNED = 50;

/**
 * Members newly assigned to a CP by the most recent roster file that assigned it any (the ACO's
 * files are read with the gateway's own rights; only the CP's members come out).
 */
export async function newMembers(roster: RosterStore, partner: string) {
  const imports = await roster.listImports({ status: 'applied', limit: IMPORTS_SCANNED });
  for (const imp of imports.items) {
    const events: DiffEvent[] = [];
    let cursor: string | undefined;
    do {
      const page = await roster.listDiffEvents({ importId: imp.id, partners: [partner], limit: 1000, cursor });
      events.push(...page.items.filter((e) => assignsTo(e, partner)));
      cursor = page.next ?? undefined;
    } while (cursor && events.length < 5000);
    if (events.length === 0) continue;
    const items = [];
    for (const e of events) {
      const m = await roster.getMember(e.memberId);
      const cp = m?.attributions.find((a) => a.role === 'cp' && a.partnerId === partner);
      const aco = m?.attributions.find((a) => a.role === 'aco');
      const n = m?.name;
      items.push({
        memberId: e.memberId,
        name: n ? [n.family, (n.given ?? []).join(' ')].filter(Boolean).join(', ') : '(no name)',
        birthDate: m?.birthDate ?? null,
        since: cp?.start ?? null,
        aco: aco?.partnerId ?? null,
        newMember: e.detail.newMember === true,
      });
    }
    return {
      import: { id: imp.id, partnerId: imp.partnerId, importDate: imp.importDate, receivedAt: imp.receivedAt.toISOString() },
      items,
    };
  }
  return { import: null, items: [] };
}
