import type { MemberRecord } from '../../adapters/member-common/types.js';
import { isCalendarDate } from './dates.js';
import { matchKey } from './matching.js';
import { CONSENT_CATEGORIES, type ConsentCategory, type MemberIdentifier, type Role } from './store-types.js';

// A member-file record checked and reduced to what the roster stores. Adapters already validate
// their columns; this guards the roster's own invariants (dates, keys) whatever the adapter.

export interface Demographics {
  /** undefined = the file did not say (keep what is stored); null never comes from a file. */
  family?: string;
  given?: string[];
  birthDate?: string;
  sex?: string;
  address?: { line?: string[]; city?: string; state?: string; postalCode?: string };
  phone?: string;
}

export interface NormalizedRecord {
  line: number;
  action: 'upsert' | 'terminate';
  memberId: string;
  identifiers: MemberIdentifier[];
  demographics: Demographics;
  /** One partner per role, in the order aco, cp, pcp. */
  roles: Array<{ role: Role; partnerId: string }>;
  start?: string;
  end?: string;
  consents: Array<{ partnerId: string; category: ConsentCategory; granted: boolean }>;
}

export type Normalized = { ok: true; record: NormalizedRecord } | { ok: false; reason: string };

const text = (v: string | undefined): string | undefined => {
  const t = v?.trim();
  return t ? t : undefined;
};

/** Reasons name the field and the problem, never the value. */
export function normalizeRecord(r: MemberRecord, selfRole?: { role: 'aco' | 'cp'; partnerId: string }): Normalized {
  const memberId = text(r.memberId);
  if (!memberId) return { ok: false, reason: 'member id is empty' };
  if (r.action !== 'upsert' && r.action !== 'terminate') return { ok: false, reason: 'action must be upsert or terminate' };

  const identifiers: MemberIdentifier[] = [];
  const seen = new Set<string>();
  for (const i of r.identifiers ?? []) {
    const system = text(i.system);
    const value = text(i.value);
    if (!system || !value) continue;
    const key = `${system}\u0000${value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    identifiers.push(i.type ? { system, value, type: i.type } : { system, value });
  }

  if (r.birthDate !== undefined && !isCalendarDate(r.birthDate)) return { ok: false, reason: 'birth date is not a valid YYYY-MM-DD date' };
  const a = r.attribution ?? {};
  if (a.start !== undefined && !isCalendarDate(a.start)) return { ok: false, reason: 'attribution start is not a valid YYYY-MM-DD date' };
  if (a.end !== undefined && !isCalendarDate(a.end)) return { ok: false, reason: 'attribution end is not a valid YYYY-MM-DD date' };
  if (a.start !== undefined && a.end !== undefined && a.end < a.start) return { ok: false, reason: 'attribution end is before its start' };

  const byRole: Partial<Record<Role, string>> = { aco: text(a.aco), cp: text(a.cp), pcp: text(a.pcpNpi) };
  if (selfRole && !byRole[selfRole.role]) byRole[selfRole.role] = selfRole.partnerId;
  const roles = (['aco', 'cp', 'pcp'] as const).flatMap((role) => (byRole[role] ? [{ role, partnerId: byRole[role]! }] : []));

  const consents: NormalizedRecord['consents'] = [];
  for (const c of r.consent ?? []) {
    const partnerId = text(c.partner);
    if (!partnerId) return { ok: false, reason: 'consent partner is empty' };
    if (!CONSENT_CATEGORIES.includes(c.category))
      return { ok: false, reason: 'consent category must be behavioral-health or substance-use' };
    if (typeof c.granted !== 'boolean') return { ok: false, reason: 'consent granted must be true or false' };
    consents.push({ partnerId, category: c.category, granted: c.granted });
  }

  const demographics: Demographics = {};
  if (r.name) {
    demographics.family = text(r.name.family);
    demographics.given = (r.name.given ?? []).map((g) => g.trim()).filter((g) => g !== '');
  }
  if (r.birthDate !== undefined) demographics.birthDate = r.birthDate;
  if (text(r.sex)) demographics.sex = r.sex!.trim().toLowerCase();
  if (r.address) {
    const addr = {
      line: (r.address.line ?? []).map((l) => l.trim()).filter((l) => l !== ''),
      city: text(r.address.city),
      state: text(r.address.state),
      postalCode: text(r.address.postalCode),
    };
    demographics.address = Object.fromEntries(
      Object.entries(addr).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)),
    ) as Demographics['address'];
  }
  if (text(r.phone)) demographics.phone = r.phone!.trim();

  return {
    ok: true,
    record: { line: r.line, action: r.action, memberId, identifiers, demographics, roles, start: a.start, end: a.end, consents },
  };
}

export { matchKey };
