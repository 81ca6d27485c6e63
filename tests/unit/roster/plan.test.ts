import { describe, expect, it } from 'vitest';
import type { MemberRecord } from '../../../adapters/member-common/types.js';
import { normalizeRecord, type NormalizedRecord } from '../../../src/roster/normalize.js';
import { planChunk, planInputs, type AttributionRow, type ChunkItem, type LoadedState, type MemberRow } from '../../../src/roster/plan.js';

// planChunk is the diff of one chunk against the roster slice it was given: pure, so every rule
// is checked here without a database (the contract suite checks the same rules end to end).

const ctx = { importId: 'IMP', generation: 5, partnerId: 'acme-aco', importDate: '2024-03-10' };

function rec(memberId: string, over: Partial<MemberRecord> = {}): ChunkItem {
  const n = normalizeRecord({
    line: 2,
    action: 'upsert',
    memberId,
    identifiers: [{ system: 'urn:medicaid', value: memberId }],
    attribution: { aco: 'acme-aco', cp: 'bay-cp' },
    ...over,
  });
  if (!n.ok) throw new Error(n.reason);
  return { kind: 'record', record: n.record };
}

const row = (memberId: string, over: Partial<MemberRow> = {}): MemberRow => ({
  memberId,
  status: 'active',
  family: null,
  given: null,
  birthDate: null,
  sex: null,
  address: null,
  phone: null,
  ...over,
});

const attr = (
  id: number,
  memberId: string,
  role: AttributionRow['role'],
  partnerId: string,
  start = '2024-01-01',
  end: string | null = null,
): AttributionRow => ({
  id,
  memberId,
  role,
  partnerId,
  start,
  end,
});

const state = (over: Partial<LoadedState> = {}): LoadedState => ({
  members: [],
  attributions: [],
  identifierOwners: [],
  fileConsents: [],
  ...over,
});

const knownM1 = () =>
  state({
    members: [row('M1')],
    attributions: [attr(1, 'M1', 'aco', 'acme-aco'), attr(2, 'M1', 'cp', 'bay-cp')],
    identifierOwners: [{ system: 'urn:medicaid', value: 'M1', memberId: 'M1' }],
  });

describe('planChunk', () => {
  it('adds a new member with its identifiers and attributions starting on the import date', () => {
    const plan = planChunk(ctx, [rec('M1')], state());
    expect(plan.newMembers.map((m) => m.memberId)).toEqual(['M1']);
    expect(plan.newIdentifiers).toEqual([{ system: 'urn:medicaid', value: 'M1', type: null, memberId: 'M1' }]);
    expect(plan.newAttributions).toEqual([
      { memberId: 'M1', partnerId: 'acme-aco', role: 'aco', start: '2024-03-10', end: null },
      { memberId: 'M1', partnerId: 'bay-cp', role: 'cp', start: '2024-03-10', end: null },
    ]);
    expect(plan.events).toEqual([
      {
        memberId: 'M1',
        kind: 'added',
        detail: { newMember: true, aco: { from: null, to: 'acme-aco' }, cp: { from: null, to: 'bay-cp' } },
        partners: ['acme-aco', 'bay-cp'],
      },
    ]);
    expect(plan).toMatchObject({ rows: 1, applied: 1, errors: 0, touchedMembers: ['M1'] });
  });

  it('re-confirms an unchanged member: no event, rows marked seen', () => {
    const plan = planChunk(ctx, [rec('M1')], knownM1());
    expect(plan.events).toEqual([]);
    expect(plan.seenAttributions.sort()).toEqual([1, 2]);
    expect(plan.newAttributions).toEqual([]);
    expect(plan.changedAttributions).toEqual([]);
    expect(plan.changedMembers).toEqual([]);
  });

  it('reassigns a CP: the old row ends the day before the new start', () => {
    const plan = planChunk(ctx, [rec('M1', { attribution: { aco: 'acme-aco', cp: 'harbor-cp' } })], knownM1());
    expect(plan.changedAttributions).toEqual([{ id: 2, start: '2024-01-01', end: '2024-03-09' }]);
    expect(plan.newAttributions).toEqual([{ memberId: 'M1', partnerId: 'harbor-cp', role: 'cp', start: '2024-03-10', end: null }]);
    expect(plan.events[0]).toMatchObject({ kind: 'changed', detail: { cp: { from: 'bay-cp', to: 'harbor-cp' } } });
    expect(plan.events[0].partners.sort()).toEqual(['acme-aco', 'bay-cp', 'harbor-cp']);
  });

  it('ends a role the file no longer assigns', () => {
    const plan = planChunk(ctx, [rec('M1', { attribution: { aco: 'acme-aco' } })], knownM1());
    expect(plan.changedAttributions).toEqual([{ id: 2, start: '2024-01-01', end: '2024-03-09' }]);
    expect(plan.events[0].detail).toEqual({ cp: { from: 'bay-cp', to: null } });
  });

  it('leaves attributions alone on a demographics-only row, but records what changed', () => {
    const s = knownM1();
    s.members = [row('M1', { family: 'OLD', given: ['A'], phone: '1' })];
    const plan = planChunk(ctx, [rec('M1', { attribution: {}, name: { family: 'NEW', given: ['A'] }, phone: '2' })], s);
    expect(plan.changedAttributions).toEqual([]);
    expect(plan.seenAttributions.sort()).toEqual([1, 2]);
    expect(plan.changedMembers).toHaveLength(1);
    expect(plan.events[0].detail).toEqual({
      name: { from: { family: 'OLD', given: ['A'] }, to: { family: 'NEW', given: ['A'] } },
      phone: { from: '1', to: '2' },
    });
  });

  it('does not clear what a file does not carry', () => {
    const s = knownM1();
    s.members = [row('M1', { phone: '1', address: { city: 'BOSTON' } })];
    const plan = planChunk(ctx, [rec('M1')], s);
    expect(plan.changedMembers).toEqual([]);
    expect(plan.events).toEqual([]);
  });

  it('re-adds a member whose attributions ended, without overlapping history', () => {
    const s = state({
      members: [row('M1', { status: 'terminated' })],
      attributions: [attr(1, 'M1', 'aco', 'acme-aco', '2024-01-01', '2024-02-29')],
    });
    const plan = planChunk(ctx, [rec('M1', { attribution: { aco: 'acme-aco', start: '2024-01-01' } })], s);
    expect(plan.newAttributions).toEqual([{ memberId: 'M1', partnerId: 'acme-aco', role: 'aco', start: '2024-03-01', end: null }]);
    expect(plan.events[0]).toMatchObject({ kind: 'added', detail: { aco: { from: null, to: 'acme-aco' } } });
  });

  it('applies an explicit termination once, with the given end or the day before the import', () => {
    const t = (end?: string): ChunkItem => rec('M1', { action: 'terminate', attribution: end ? { end } : {} });
    const dated = planChunk(ctx, [t('2024-03-31')], knownM1());
    expect(dated.changedAttributions).toEqual([
      { id: 1, start: '2024-01-01', end: '2024-03-31' },
      { id: 2, start: '2024-01-01', end: '2024-03-31' },
    ]);
    expect(dated.events[0]).toMatchObject({ kind: 'terminated', detail: { reason: 'explicit', aco: { from: 'acme-aco', to: null } } });
    const undated = planChunk(ctx, [t()], knownM1());
    expect(undated.changedAttributions.map((a) => a.end)).toEqual(['2024-03-09', '2024-03-09']);
    // Already ending earlier: nothing to do.
    const s = knownM1();
    s.attributions = s.attributions.map((a) => ({ ...a, end: '2024-03-20' }));
    expect(planChunk(ctx, [t('2024-03-31')], s).events).toEqual([]);
    // Unknown member: applied, nothing ended.
    expect(planChunk(ctx, [rec('M9', { action: 'terminate' })], state())).toMatchObject({ applied: 1, events: [], newMembers: [] });
  });

  it('rejects a row whose identifier belongs to another member, keeping the member present', () => {
    const s = knownM1();
    s.identifierOwners.push({ system: 'urn:mrn', value: 'X', memberId: 'OTHER' });
    const plan = planChunk(
      ctx,
      [
        rec('M1', {
          line: 7,
          identifiers: [
            { system: 'urn:medicaid', value: 'M1' },
            { system: 'urn:mrn', value: 'X' },
          ],
        }),
      ],
      s,
    );
    expect(plan.issues).toEqual([{ line: 7, kind: 'error', reason: 'identifier of system urn:mrn belongs to another member' }]);
    expect(plan).toMatchObject({ applied: 0, errors: 1, rows: 1 });
    expect(plan.seenAttributions.sort()).toEqual([1, 2]);
    expect(plan.newIdentifiers).toEqual([]);
  });

  it('turns adapter errors and warnings into issues; an error naming a member keeps it', () => {
    const plan = planChunk(
      ctx,
      [
        { kind: 'error', line: 3, reason: 'column DOB: bad', memberId: 'M1' },
        { kind: 'error', line: 4, reason: 'column MEMBER_ID: empty' },
        { kind: 'warning', line: 99, reason: 'SE count mismatch' },
      ],
      knownM1(),
    );
    expect(plan).toMatchObject({ rows: 2, errors: 2, warnings: 1, applied: 0 });
    expect(plan.seenAttributions.sort()).toEqual([1, 2]);
    expect(plan.issues.map((i) => [i.line, i.kind])).toEqual([
      [3, 'error'],
      [4, 'error'],
      [99, 'warning'],
    ]);
  });

  it('records a file consent only when the file changes its answer', () => {
    const item = (granted: boolean) => rec('M1', { consent: [{ partner: 'bay-cp', category: 'behavioral-health', granted }] });
    const s = knownM1();
    s.fileConsents = [{ memberId: 'M1', partnerId: 'bay-cp', category: 'behavioral-health', granted: true }];
    expect(planChunk(ctx, [item(true)], s).consents).toEqual([]);
    expect(planChunk(ctx, [item(false)], s).consents).toEqual([
      { memberId: 'M1', partnerId: 'bay-cp', category: 'behavioral-health', granted: false },
    ]);
    // Twice in one chunk: the second statement compares with the first.
    expect(planChunk(ctx, [item(false), item(false)], s).consents).toHaveLength(1);
  });

  it('processes a member listed twice in one chunk in order', () => {
    const plan = planChunk(ctx, [rec('M1'), rec('M1', { attribution: { aco: 'acme-aco', cp: 'harbor-cp' } })], state());
    expect(plan.newMembers).toHaveLength(1);
    expect(plan.newAttributions.filter((a) => a.role === 'cp')).toEqual([
      { memberId: 'M1', partnerId: 'bay-cp', role: 'cp', start: '2024-03-10', end: '2024-03-09' },
      { memberId: 'M1', partnerId: 'harbor-cp', role: 'cp', start: '2024-03-10', end: null },
    ]);
    expect(plan.events.map((e) => e.kind)).toEqual(['added', 'changed']);
  });

  it('changes the period of the same assignment in place', () => {
    const plan = planChunk(
      ctx,
      [rec('M1', { attribution: { aco: 'acme-aco', cp: 'bay-cp', start: '2024-01-01', end: '2024-06-30' } })],
      knownM1(),
    );
    expect(plan.changedAttributions).toEqual([
      { id: 1, start: '2024-01-01', end: '2024-06-30' },
      { id: 2, start: '2024-01-01', end: '2024-06-30' },
    ]);
    expect(plan.events[0].detail).toEqual({
      acoPeriod: { from: { start: '2024-01-01', end: null }, to: { start: '2024-01-01', end: '2024-06-30' } },
      cpPeriod: { from: { start: '2024-01-01', end: null }, to: { start: '2024-01-01', end: '2024-06-30' } },
    });
  });

  it('asks the database only for the chunk’s members and identifiers', () => {
    const items: ChunkItem[] = [
      rec('M1'),
      rec('M1'),
      { kind: 'error', line: 5, reason: 'x', memberId: 'M2' },
      { kind: 'warning', line: 6, reason: 'w' },
    ];
    expect(planInputs(items)).toEqual({ memberIds: ['M1', 'M2'], identifiers: [{ system: 'urn:medicaid', value: 'M1' }] });
  });
});

describe('normalizeRecord', () => {
  const base: MemberRecord = { line: 4, action: 'upsert', memberId: ' M1 ', identifiers: [], attribution: {} };
  const ok = (r: MemberRecord, self?: Parameters<typeof normalizeRecord>[1]): NormalizedRecord => {
    const n = normalizeRecord(r, self);
    if (!n.ok) throw new Error(n.reason);
    return n.record;
  };

  it('trims, dedupes identifiers, lower-cases sex and drops empty parts', () => {
    const r = ok({
      ...base,
      identifiers: [
        { system: 's', value: 'M1', type: 'MA' },
        { system: 's', value: 'M1' },
        { system: '', value: 'x' },
      ],
      sex: 'Female' as MemberRecord['sex'],
      name: { family: ' Doe ', given: [' Jane ', ''] },
      address: { line: ['', '1 Main'], city: ' ', postalCode: '02110' },
    });
    expect(r.memberId).toBe('M1');
    expect(r.identifiers).toEqual([{ system: 's', value: 'M1', type: 'MA' }]);
    expect(r.demographics).toEqual({ family: 'Doe', given: ['Jane'], sex: 'female', address: { line: ['1 Main'], postalCode: '02110' } });
  });

  it('maps attribution columns to roles and fills the importing partner’s own role', () => {
    expect(ok({ ...base, attribution: { aco: 'a', cp: 'c', pcpNpi: 'n' } }).roles).toEqual([
      { role: 'aco', partnerId: 'a' },
      { role: 'cp', partnerId: 'c' },
      { role: 'pcp', partnerId: 'n' },
    ]);
    expect(ok({ ...base, attribution: { aco: 'a' } }, { role: 'cp', partnerId: 'me' }).roles).toEqual([
      { role: 'aco', partnerId: 'a' },
      { role: 'cp', partnerId: 'me' },
    ]);
    expect(ok({ ...base, attribution: { cp: 'other' } }, { role: 'cp', partnerId: 'me' }).roles).toEqual([
      { role: 'cp', partnerId: 'other' },
    ]);
  });

  it.each([
    [{ memberId: '' }, 'member id is empty'],
    [{ birthDate: '1980-02-30' }, 'birth date is not a valid YYYY-MM-DD date'],
    [{ attribution: { start: '2024-1-1' } }, 'attribution start is not a valid YYYY-MM-DD date'],
    [{ attribution: { end: 'never' } }, 'attribution end is not a valid YYYY-MM-DD date'],
    [{ attribution: { start: '2024-02-01', end: '2024-01-31' } }, 'attribution end is before its start'],
    [{ consent: [{ partner: ' ', category: 'behavioral-health', granted: true }] }, 'consent partner is empty'],
    [{ consent: [{ partner: 'p', category: 'dental', granted: true }] }, 'consent category must be behavioral-health or substance-use'],
    [{ action: 'delete' }, 'action must be upsert or terminate'],
  ])('rejects %j: %s', (over, reason) => {
    expect(normalizeRecord({ ...base, ...(over as Partial<MemberRecord>) })).toEqual({ ok: false, reason });
  });
});
