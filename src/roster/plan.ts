import { dayAfter, dayBefore } from './dates.js';
import { identifierKey } from './matching.js';
import type { Demographics, NormalizedRecord } from './normalize.js';
import { ROLES, type ConsentCategory, type DiffKind, type IdentifierOwner, type Role } from './store-types.js';

// The diff of one chunk of a member file against the roster, as a pure function: the backend loads
// the chunk's slice of the roster (planInputs), calls planChunk, and writes the plan in the same
// transaction. Nothing here holds more than one chunk, so a 1M-row file costs the same memory as
// a 1,000-row one.

export interface MemberRow {
  memberId: string;
  status: 'active' | 'terminated';
  family: string | null;
  given: string[] | null;
  birthDate: string | null;
  sex: string | null;
  address: NonNullable<Demographics['address']> | null;
  phone: string | null;
}

/** An attribution stated by the importing partner's files. */
export interface AttributionRow {
  id: number;
  memberId: string;
  partnerId: string;
  role: Role;
  start: string;
  end: string | null;
}

export interface LoadedState {
  members: MemberRow[];
  /** This source partner's attributions of the chunk's members, in id order. */
  attributions: AttributionRow[];
  identifierOwners: IdentifierOwner[];
  /** This source partner's member-file consents of the chunk's members, oldest first. */
  fileConsents: Array<{ memberId: string; partnerId: string; category: ConsentCategory; granted: boolean }>;
}

export type ChunkItem =
  | { kind: 'record'; record: NormalizedRecord }
  | { kind: 'error'; line: number; reason: string; memberId?: string }
  | { kind: 'warning'; line: number; reason: string };

export interface ChunkContext {
  importId: string;
  /** This import's place in the partner's sequence of imports (the "seen" marker). */
  generation: number;
  partnerId: string;
  importDate: string;
}

export interface PlannedEvent {
  memberId: string;
  kind: DiffKind;
  detail: Record<string, unknown>;
  partners: string[];
}

export interface ChunkPlan {
  newMembers: MemberRow[];
  changedMembers: MemberRow[];
  newIdentifiers: Array<IdentifierOwner & { type: string | null }>;
  newAttributions: Array<Omit<AttributionRow, 'id'>>;
  /** Existing rows whose dates change; they are also seen. */
  changedAttributions: Array<{ id: number; start: string; end: string | null }>;
  /** Existing rows confirmed by this file (their generation marker moves on). */
  seenAttributions: number[];
  consents: Array<{ memberId: string; partnerId: string; category: ConsentCategory; granted: boolean }>;
  events: PlannedEvent[];
  issues: Array<{ line: number; kind: 'error' | 'warning'; reason: string }>;
  /** Members whose active/terminated status must be recomputed. */
  touchedMembers: string[];
  rows: number;
  applied: number;
  errors: number;
  warnings: number;
}

/** What the backend must load for a chunk. */
export function planInputs(items: readonly ChunkItem[]): {
  memberIds: string[];
  identifiers: Array<{ system: string; value: string }>;
} {
  const memberIds = new Set<string>();
  const identifiers = new Map<string, { system: string; value: string }>();
  for (const item of items) {
    if (item.kind === 'record') {
      memberIds.add(item.record.memberId);
      for (const i of item.record.identifiers) identifiers.set(identifierKey(i.system, i.value), { system: i.system, value: i.value });
    } else if (item.kind === 'error' && item.memberId) {
      memberIds.add(item.memberId);
    }
  }
  return { memberIds: [...memberIds], identifiers: [...identifiers.values()] };
}

interface LiveAttribution {
  id: number | null;
  memberId: string;
  partnerId: string;
  role: Role;
  start: string;
  end: string | null;
  origStart: string | null;
  origEnd: string | null;
  seen: boolean;
}

interface LiveMember {
  row: MemberRow;
  isNew: boolean;
  dirty: boolean;
}

type Changes = Record<string, unknown>;

const consentKey = (m: string, p: string, c: string) => `${m}\u0000${p}\u0000${c}`;
const minEnd = (a: string | null, b: string): string => (a !== null && a < b ? a : b);
/** Values of member columns: primitives compare directly, arrays and objects by their JSON. */
const sameJson = (a: unknown, b: unknown) =>
  a === b || (typeof a === 'object' && typeof b === 'object' && a !== null && b !== null && JSON.stringify(a) === JSON.stringify(b));

export function planChunk(ctx: ChunkContext, items: readonly ChunkItem[], loaded: LoadedState): ChunkPlan {
  const { importDate } = ctx;
  const members = new Map<string, LiveMember>(loaded.members.map((row) => [row.memberId, { row: { ...row }, isNew: false, dirty: false }]));
  const attributions = new Map<string, LiveAttribution[]>();
  for (const a of loaded.attributions) {
    const live: LiveAttribution = { ...a, origStart: a.start, origEnd: a.end, seen: false };
    const list = attributions.get(a.memberId);
    if (list) list.push(live);
    else attributions.set(a.memberId, [live]);
  }
  const owners = new Map(loaded.identifierOwners.map((o) => [identifierKey(o.system, o.value), o.memberId]));
  const fileConsents = new Map<string, boolean>();
  for (const c of loaded.fileConsents) fileConsents.set(consentKey(c.memberId, c.partnerId, c.category), c.granted);

  const plan: ChunkPlan = {
    newMembers: [],
    changedMembers: [],
    newIdentifiers: [],
    newAttributions: [],
    changedAttributions: [],
    seenAttributions: [],
    consents: [],
    events: [],
    issues: [],
    touchedMembers: [],
    rows: 0,
    applied: 0,
    errors: 0,
    warnings: 0,
  };
  const touched = new Set<string>();

  const isCurrent = (a: LiveAttribution) => a.end === null || a.end >= importDate;
  const rowsOf = (memberId: string): LiveAttribution[] => {
    let list = attributions.get(memberId);
    if (!list) attributions.set(memberId, (list = []));
    return list;
  };
  /** The latest row per role (rows are in creation order). */
  const latestOf = (rows: LiveAttribution[], role: Role): LiveAttribution | undefined => {
    for (let i = rows.length - 1; i >= 0; i--) if (rows[i].role === role) return rows[i];
    return undefined;
  };
  const markPresent = (memberId: string) => {
    for (const role of ROLES) {
      const latest = latestOf(rowsOf(memberId), role);
      if (latest && isCurrent(latest)) latest.seen = true;
    }
  };
  const error = (line: number, reason: string, memberId?: string) => {
    plan.errors++;
    plan.issues.push({ line, kind: 'error', reason });
    // A row that names its member but cannot be used is not an absence: keep the member.
    if (memberId) markPresent(memberId);
  };
  const event = (memberId: string, kind: DiffKind, detail: Changes) => {
    const partners = new Set<string>([ctx.partnerId]);
    for (const role of ['aco', 'cp'] as const) {
      const change = detail[role] as { from: string | null; to: string | null } | undefined;
      if (change?.from) partners.add(change.from);
      if (change?.to) partners.add(change.to);
    }
    plan.events.push({ memberId, kind, detail, partners: [...partners] });
  };

  const applyDemographics = (live: LiveMember, d: Demographics, changes: Changes) => {
    const row = live.row;
    const set = <K extends keyof MemberRow>(key: K, value: MemberRow[K], label: string, from: unknown, to: unknown) => {
      if (sameJson(row[key], value)) return;
      if (!live.isNew) changes[label] = { from, to };
      row[key] = value;
      live.dirty = true;
    };
    if (d.family !== undefined || d.given !== undefined) {
      const family = d.family ?? null;
      const given = d.given && d.given.length ? d.given : null;
      if (!sameJson([row.family, row.given], [family, given])) {
        if (!live.isNew) changes.name = { from: { family: row.family, given: row.given }, to: { family, given } };
        row.family = family;
        row.given = given;
        live.dirty = true;
      }
    }
    if (d.birthDate !== undefined) set('birthDate', d.birthDate, 'birthDate', row.birthDate, d.birthDate);
    if (d.sex !== undefined) set('sex', d.sex, 'sex', row.sex, d.sex);
    if (d.address !== undefined) set('address', d.address, 'address', row.address, d.address);
    if (d.phone !== undefined) set('phone', d.phone, 'phone', row.phone, d.phone);
  };

  const applyAttributions = (r: NormalizedRecord, changes: Changes) => {
    const rows = rowsOf(r.memberId);
    if (r.roles.length === 0) {
      // A demographics-only row (no assignment columns): present, nothing reassigned.
      markPresent(r.memberId);
      return;
    }
    for (const role of ROLES) {
      const latest = latestOf(rows, role);
      const current = latest !== undefined && isCurrent(latest);
      const target = r.roles.find((x) => x.role === role)?.partnerId;
      if (target === undefined) {
        // The file still lists the member but no longer assigns this role: that assignment ends.
        if (current) {
          latest.end = minEnd(latest.end, dayBefore(importDate));
          latest.seen = true;
          changes[role] = { from: latest.partnerId, to: null };
        }
        continue;
      }
      const end = r.end ?? null;
      if (current && latest.partnerId === target) {
        latest.seen = true;
        const start = r.start ?? latest.start;
        if (start !== latest.start || end !== latest.end) {
          changes[`${role}Period`] = { from: { start: latest.start, end: latest.end }, to: { start, end } };
          latest.start = start;
          latest.end = end;
        }
        continue;
      }
      let start = r.start ?? importDate;
      if (current) {
        // Reassigned: the old assignment ends the day before the new one starts.
        latest.end = minEnd(latest.end, dayBefore(start));
        latest.seen = true;
      } else if (latest) {
        // Re-stating a period that already ended exactly as stored changes nothing.
        if (latest.partnerId === target && latest.start === start && latest.end === end) {
          latest.seen = true;
          continue;
        }
        // History does not overlap: a return after a gap starts after the old end.
        if (latest.end !== null && start <= latest.end) start = dayAfter(latest.end);
        if (end !== null && end < start) continue;
      }
      rows.push({ id: null, memberId: r.memberId, partnerId: target, role, start, end, origStart: null, origEnd: null, seen: true });
      changes[role] = { from: current ? latest.partnerId : null, to: target };
    }
  };

  const applyConsents = (r: NormalizedRecord) => {
    for (const c of r.consents) {
      const key = consentKey(r.memberId, c.partnerId, c.category);
      // Only a change in what this partner's files say is news: re-stating yesterday's column
      // must not override a revocation recorded since through the API.
      if (fileConsents.get(key) === c.granted) continue;
      fileConsents.set(key, c.granted);
      plan.consents.push({ memberId: r.memberId, partnerId: c.partnerId, category: c.category, granted: c.granted });
    }
  };

  const upsert = (r: NormalizedRecord) => {
    for (const i of r.identifiers) {
      const owner = owners.get(identifierKey(i.system, i.value));
      if (owner !== undefined && owner !== r.memberId) {
        error(r.line, `identifier of system ${i.system} belongs to another member`, r.memberId);
        return;
      }
    }
    const changes: Changes = {};
    let live = members.get(r.memberId);
    if (!live) {
      live = {
        row: { memberId: r.memberId, status: 'active', family: null, given: null, birthDate: null, sex: null, address: null, phone: null },
        isNew: true,
        dirty: true,
      };
      members.set(r.memberId, live);
      changes.newMember = true;
    }
    applyDemographics(live, r.demographics, changes);

    const added: string[] = [];
    for (const i of r.identifiers) {
      const key = identifierKey(i.system, i.value);
      if (owners.has(key)) continue;
      owners.set(key, r.memberId);
      plan.newIdentifiers.push({ system: i.system, value: i.value, type: i.type ?? null, memberId: r.memberId });
      if (!added.includes(i.system)) added.push(i.system);
    }
    if (added.length && !live.isNew) changes.identifiers = { added };

    const hadCurrent = rowsOf(r.memberId).some(isCurrent);
    applyAttributions(r, changes);
    applyConsents(r);
    const hasCurrent = rowsOf(r.memberId).some(isCurrent);

    plan.applied++;
    if (changes.newMember || (!hadCurrent && hasCurrent)) event(r.memberId, 'added', changes);
    else if (Object.keys(changes).length) event(r.memberId, 'changed', changes);
  };

  const terminate = (r: NormalizedRecord) => {
    plan.applied++;
    // Terminating someone never on the roster has nothing to end.
    if (!members.has(r.memberId)) return;
    const changes: Changes = {};
    const rows = rowsOf(r.memberId);
    for (const role of ROLES) {
      const latest = latestOf(rows, role);
      if (!latest || !isCurrent(latest)) continue;
      latest.seen = true;
      const end = r.end ?? dayBefore(importDate);
      if (latest.end !== null && latest.end <= end) continue;
      latest.end = end;
      changes[role] = { from: latest.partnerId, to: null };
    }
    applyConsents(r);
    if (Object.keys(changes).length) event(r.memberId, 'terminated', { ...changes, reason: 'explicit' });
  };

  for (const item of items) {
    if (item.kind === 'warning') {
      plan.warnings++;
      plan.issues.push({ line: item.line, kind: 'warning', reason: item.reason });
      continue;
    }
    plan.rows++;
    if (item.kind === 'error') error(item.line, item.reason, item.memberId);
    else if (item.record.action === 'terminate') terminate(item.record);
    else upsert(item.record);
  }

  for (const live of members.values()) {
    if (live.isNew) {
      plan.newMembers.push(live.row);
      touched.add(live.row.memberId);
    } else if (live.dirty) plan.changedMembers.push(live.row);
  }
  // Status (active/terminated) can only move where an attribution was added or re-dated.
  for (const rows of attributions.values()) {
    for (const a of rows) {
      if (a.id === null) {
        plan.newAttributions.push({ memberId: a.memberId, partnerId: a.partnerId, role: a.role, start: a.start, end: a.end });
        touched.add(a.memberId);
      } else if (a.start !== a.origStart || a.end !== a.origEnd) {
        plan.changedAttributions.push({ id: a.id, start: a.start, end: a.end });
        touched.add(a.memberId);
      } else if (a.seen) {
        plan.seenAttributions.push(a.id);
      }
    }
  }
  plan.touchedMembers = [...touched];
  return plan;
}
