import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MemberItem } from '../../../adapters/member-common/types.js';
import type { RosterBackend } from '../../../src/roster/backend.js';
import { RosterNotFoundError } from '../../../src/roster/errors.js';
import { Roster } from '../../../src/roster/roster-store.js';
import type { DiffEvent, RosterStoreOptions } from '../../../src/roster/store-types.js';
import { MEDICAID, MRN, importFile, member, rowError, sha, stream, terminate, warning } from './fixtures.js';

// One behavioural contract for the roster on every backend. Each test gets a fresh, empty
// database; `openBackend` opens another independent connection to it (a restarted process).
// Small chunks (3 rows) so every rule is exercised across chunk and sweep-batch boundaries.

export interface RosterHarness {
  openBackend(): Promise<RosterBackend>;
}

const D1 = '2024-03-01';
const D2 = '2024-03-02';
const D3 = '2024-03-03';

async function allEvents(roster: Roster, importId?: string): Promise<DiffEvent[]> {
  const out: DiffEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = await roster.listDiffEvents({ importId, limit: 2, cursor });
    out.push(...page.items);
    cursor = page.next ?? undefined;
  } while (cursor);
  return out;
}

const kinds = (events: DiffEvent[]) => events.map((e) => `${e.memberId}:${e.kind}`).sort();

/** A backend that dies (throws from everything) once `failAfterChunks` chunks were written, like a killed process. */
function crashingBackend(inner: RosterBackend, failAfterChunks: number): RosterBackend {
  let chunks = 0;
  let dead = false;
  const die = () => {
    dead = true;
    throw new Error('simulated crash');
  };
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (dead && prop !== 'close') die();
        if (prop === 'applyChunk' && ++chunks > failAfterChunks) die();
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

export function describeRosterContract(name: string, open: () => Promise<RosterHarness>): void {
  describe(`roster contract: ${name}`, () => {
    let h: RosterHarness;
    let roster: Roster;
    const extra: Roster[] = [];

    const another = async (options: RosterStoreOptions = {}, backend?: RosterBackend): Promise<Roster> => {
      const r = new Roster(backend ?? (await h.openBackend()), { chunkSize: 3, ...options });
      extra.push(r);
      return r;
    };

    beforeEach(async () => {
      h = await open();
      roster = new Roster(await h.openBackend(), { chunkSize: 3 });
    });

    afterEach(async () => {
      await roster.close();
      for (const r of extra.splice(0)) await r.close().catch(() => {});
    });

    it('applies a first file: every member added, with identifiers, demographics and attributions', async () => {
      const result = await importFile(roster, 'acme-aco', D1, [
        member('M1', {
          identifiers: [
            { system: MEDICAID, value: 'M1', type: 'MA' },
            { system: MRN, value: 'MRN-1', type: 'MR' },
          ],
        }),
        member('M2', { attribution: { aco: 'acme-aco', cp: 'harbor-cp', pcpNpi: '1234567893', start: '2024-01-01' } }),
        member('M3', { address: { line: ['1 Main St'], city: 'Boston', state: 'MA', postalCode: '02110' }, phone: '617-555-0100' }),
        member('M4'),
      ]);
      expect(result).toMatchObject({
        status: 'applied',
        resumed: false,
        rows: 4,
        applied: 4,
        errors: 0,
        added: 4,
        changed: 0,
        terminated: 0,
      });

      const m1 = await roster.getMember('M1');
      expect(m1).toMatchObject({
        memberId: 'M1',
        status: 'active',
        name: { family: 'FamilyM1', given: ['Given'] },
        birthDate: '1980-01-01',
        sex: 'female',
      });
      expect(m1!.identifiers).toEqual(
        expect.arrayContaining([
          { system: MEDICAID, value: 'M1', type: 'MA' },
          { system: MRN, value: 'MRN-1', type: 'MR' },
        ]),
      );
      expect((await roster.getMember('M3'))!.address).toEqual({ line: ['1 Main St'], city: 'Boston', state: 'MA', postalCode: '02110' });

      const history = await roster.attributionHistory('M2');
      expect(history.map((a) => [a.role, a.partnerId, a.start, a.end, a.sourcePartnerId, a.importId])).toEqual([
        ['aco', 'acme-aco', '2024-01-01', undefined, 'acme-aco', result.importId],
        ['cp', 'harbor-cp', '2024-01-01', undefined, 'acme-aco', result.importId],
        ['pcp', '1234567893', '2024-01-01', undefined, 'acme-aco', result.importId],
      ]);
      // Without a start column the import date is the start.
      expect((await roster.attributionHistory('M1')).map((a) => a.start)).toEqual([D1, D1]);

      const events = await allEvents(roster, result.importId);
      expect(kinds(events)).toEqual(['M1:added', 'M2:added', 'M3:added', 'M4:added']);
      const m2 = events.find((e) => e.memberId === 'M2')!;
      expect(m2.detail).toEqual({
        newMember: true,
        aco: { from: null, to: 'acme-aco' },
        cp: { from: null, to: 'harbor-cp' },
        pcp: { from: null, to: '1234567893' },
      });
      expect(m2.partners.sort()).toEqual(['acme-aco', 'harbor-cp']);
      expect(m2).toMatchObject({ partnerId: 'acme-aco', notified: false, importId: result.importId });

      const imp = await roster.getImport(result.importId);
      expect(imp).toMatchObject({
        partnerId: 'acme-aco',
        fileName: `acme-aco-${D1}.csv`,
        importDate: D1,
        fileKind: 'full',
        status: 'applied',
        rows: 4,
        applied: 4,
        errors: 0,
        added: 4,
        issues: [],
      });
      expect(imp!.finishedAt).toBeInstanceOf(Date);
    });

    it('is idempotent: the same file again is a duplicate; the same content under a new name changes nothing', async () => {
      const items = [member('M1'), member('M2'), member('M3'), member('M4')];
      const first = await importFile(roster, 'acme-aco', D1, items, { fileName: 'roster.csv', sha256: sha('v1') });
      let pulled = 0;
      async function* counting() {
        for (const i of items) {
          pulled++;
          yield i;
        }
      }
      const again = await roster.importMemberFile({
        partnerId: 'acme-aco',
        fileName: 'roster.csv',
        sha256: sha('v1'),
        importDate: D2,
        items: counting(),
      });
      expect(again).toMatchObject({ status: 'duplicate', duplicateOf: first.importId, rows: 0, applied: 0, added: 0 });
      expect(pulled).toBe(0);
      expect((await roster.getImport(again.importId))!).toMatchObject({ status: 'duplicate', duplicateOf: first.importId });

      const nextDay = await importFile(roster, 'acme-aco', D2, items, { fileName: 'roster-2.csv', sha256: sha('v1') });
      expect(nextDay).toMatchObject({ status: 'applied', rows: 4, applied: 4, added: 0, changed: 0, terminated: 0 });
      expect(await allEvents(roster, nextDay.importId)).toEqual([]);
      expect((await roster.attributionHistory('M1')).map((a) => [a.start, a.end])).toEqual([
        [D1, undefined],
        [D1, undefined],
      ]);
    });

    it('records changes: a new CP (old one ends the day before), a new address, a new identifier', async () => {
      await importFile(roster, 'acme-aco', D1, [member('M1'), member('M2'), member('M3')]);
      const r = await importFile(roster, 'acme-aco', D2, [
        member('M1', { attribution: { aco: 'acme-aco', cp: 'harbor-cp' } }),
        member('M2', { address: { line: ['9 Elm St'], city: 'Salem', state: 'MA', postalCode: '01970' } }),
        member('M3', {
          identifiers: [
            { system: MEDICAID, value: 'M3' },
            { system: MRN, value: 'MRN-3' },
          ],
        }),
      ]);
      expect(r).toMatchObject({ added: 0, changed: 3, terminated: 0 });
      const events = await allEvents(roster, r.importId);
      const byMember = new Map(events.map((e) => [e.memberId, e]));
      expect(byMember.get('M1')!.detail).toEqual({ cp: { from: 'bay-cp', to: 'harbor-cp' } });
      expect(byMember.get('M1')!.partners.sort()).toEqual(['acme-aco', 'bay-cp', 'harbor-cp']);
      expect(byMember.get('M2')!.detail).toEqual({
        address: { from: null, to: { line: ['9 Elm St'], city: 'Salem', state: 'MA', postalCode: '01970' } },
      });
      expect(byMember.get('M3')!.detail).toEqual({ identifiers: { added: [MRN] } });

      const cp = (await roster.attributionHistory('M1')).filter((a) => a.role === 'cp');
      expect(cp.map((a) => [a.partnerId, a.start, a.end])).toEqual([
        ['bay-cp', D1, D1],
        ['harbor-cp', D2, undefined],
      ]);
      expect(await roster.attributedOn('M1', D1, 'cp')).toEqual(['bay-cp']);
      expect(await roster.attributedOn('M1', D2, 'cp')).toEqual(['harbor-cp']);
      expect(await roster.attributedOn('M1', D2, 'aco')).toEqual(['acme-aco']);
      // The other direction (care-plan status files): who a partner has on a date.
      expect(await roster.membersOf('bay-cp', D1, 'cp')).toContain('M1');
      expect(await roster.membersOf('bay-cp', D2, 'cp')).not.toContain('M1');
      expect(await roster.membersOf('harbor-cp', D2, 'cp')).toContain('M1');

      // Events of a CP: files of others that assign or unassign it.
      const harbor = await roster.listDiffEvents({ partner: 'harbor-cp' });
      expect(harbor.items.map((e) => e.memberId)).toEqual(['M1']);
    });

    it('terminates members absent from a full file (end = the day before), in SQL batches, and re-adds them later', async () => {
      const all = ['M1', 'M2', 'M3', 'M4', 'M5', 'M6', 'M7'].map((id) => member(id));
      await importFile(roster, 'acme-aco', D1, all);
      // Another partner's attribution of M2 is not this partner's to end.
      await importFile(roster, 'harbor-cp', D1, [member('M2', { attribution: { cp: 'harbor-cp' } })]);

      const r = await importFile(roster, 'acme-aco', D3, [member('M1')]);
      expect(r).toMatchObject({ rows: 1, applied: 1, terminated: 6, absenceSkipped: false });
      const events = await allEvents(roster, r.importId);
      expect(kinds(events)).toEqual(['M2:terminated', 'M3:terminated', 'M4:terminated', 'M5:terminated', 'M6:terminated', 'M7:terminated']);
      expect(events[0].detail).toEqual({ aco: { from: 'acme-aco', to: null }, cp: { from: 'bay-cp', to: null }, reason: 'absent' });

      expect((await roster.attributionHistory('M3')).map((a) => a.end)).toEqual([D2, D2]);
      expect(await roster.attributedOn('M3', D2, 'aco')).toEqual(['acme-aco']);
      expect(await roster.attributedOn('M3', D3, 'aco')).toEqual([]);
      expect((await roster.getMember('M3'))!.status).toBe('terminated');
      expect((await roster.getMember('M2'))!.status).toBe('active');
      expect(await roster.attributedOn('M2', D3, 'cp')).toEqual(['harbor-cp']);

      // The next full file again without them terminates nobody twice.
      const quiet = await importFile(roster, 'acme-aco', '2024-03-04', [member('M1')]);
      expect(quiet).toMatchObject({ terminated: 0, changed: 0, added: 0 });

      // Back on a later file: added again, history without overlap.
      const back = await importFile(roster, 'acme-aco', '2024-03-10', [member('M1'), member('M3')]);
      expect(kinds(await allEvents(roster, back.importId))).toEqual(['M3:added']);
      expect((await roster.attributionHistory('M3')).filter((a) => a.role === 'aco').map((a) => [a.start, a.end])).toEqual([
        [D1, D2],
        ['2024-03-10', undefined],
      ]);
      expect((await roster.getMember('M3'))!.status).toBe('active');
    });

    it('a changes file (834 update) never terminates by absence; an empty full file terminates nobody', async () => {
      await importFile(roster, 'acme-aco', D1, [member('M1'), member('M2')]);
      const changes = await importFile(roster, 'acme-aco', D2, [member('M1', { phone: '617-555-0101' })], { fileKind: 'changes' });
      expect(changes).toMatchObject({ changed: 1, terminated: 0, absenceSkipped: false });
      const empty = await importFile(roster, 'acme-aco', D3, []);
      expect(empty).toMatchObject({ status: 'applied', rows: 0, terminated: 0, absenceSkipped: true });
      const broken = await importFile(roster, 'acme-aco', D3, [rowError(2, 'column MEMBER_ID: missing')], { fileName: 'bad.csv' });
      expect(broken).toMatchObject({ rows: 1, applied: 0, errors: 1, terminated: 0, absenceSkipped: true });
      expect(await roster.attributedOn('M2', D3, 'aco')).toEqual(['acme-aco']);
    });

    it('applies 834-style explicit terminations with their end date, once', async () => {
      await importFile(roster, 'acme-aco', D1, [member('M1'), member('M2'), member('M3')]);
      const r = await importFile(roster, 'acme-aco', D2, [terminate('M1', '2024-03-15'), terminate('M2'), terminate('NOBODY')], {
        fileKind: 'changes',
      });
      expect(r).toMatchObject({ rows: 3, applied: 3, errors: 0, terminated: 2 });
      const events = await allEvents(roster, r.importId);
      expect(events.find((e) => e.memberId === 'M1')!.detail).toEqual({
        aco: { from: 'acme-aco', to: null },
        cp: { from: 'bay-cp', to: null },
        reason: 'explicit',
      });
      expect(await roster.attributedOn('M1', '2024-03-15', 'cp')).toEqual(['bay-cp']);
      expect(await roster.attributedOn('M1', '2024-03-16', 'cp')).toEqual([]);
      // No end date: the day before the import date.
      expect((await roster.attributionHistory('M2')).map((a) => a.end)).toEqual([D1, D1]);
      expect((await roster.getMember('M2'))!.status).toBe('terminated');
      expect(await roster.getMember('NOBODY')).toBeNull();

      // The same terminations again change nothing.
      const again = await importFile(roster, 'acme-aco', D3, [terminate('M1', '2024-03-15'), terminate('M2')], { fileKind: 'changes' });
      expect(again.terminated).toBe(0);
    });

    it('records bad rows with line numbers while good rows apply; a readable member id keeps the member', async () => {
      await importFile(roster, 'acme-aco', D1, [
        member('M1'),
        member('M2'),
        member('M3'),
        member('OTHER', { identifiers: [{ system: MRN, value: 'TAKEN' }] }),
      ]);
      const r = await importFile(roster, 'acme-aco', D2, [
        member('M1', { line: 2 }),
        rowError(3, 'column DOB: not a date in MM/DD/YYYY', 'M2'),
        member('M4', { line: 4, birthDate: '2024-02-30' }),
        member('M5', { line: 5, attribution: { aco: 'acme-aco', start: '2024-05-01', end: '2024-04-01' } }),
        member('M6', {
          line: 6,
          identifiers: [
            { system: MEDICAID, value: 'M6' },
            { system: MRN, value: 'TAKEN' },
          ],
        }),
        warning(7, 'SE segment count 12 does not match 11 segments'),
        member('M7', { line: 8 }),
        { kind: 'record', record: { line: 9, action: 'upsert', memberId: '  ', identifiers: [], attribution: {} } } satisfies MemberItem,
      ]);
      expect(r).toMatchObject({ status: 'applied', rows: 7, applied: 2, errors: 5, warnings: 1 });
      const imp = await roster.getImport(r.importId);
      expect(imp!.issues).toEqual([
        { line: 3, kind: 'error', reason: 'column DOB: not a date in MM/DD/YYYY' },
        { line: 4, kind: 'error', reason: 'birth date is not a valid YYYY-MM-DD date' },
        { line: 5, kind: 'error', reason: 'attribution end is before its start' },
        { line: 6, kind: 'error', reason: `identifier of system ${MRN} belongs to another member` },
        { line: 7, kind: 'warning', reason: 'SE segment count 12 does not match 11 segments' },
        { line: 9, kind: 'error', reason: 'member id is empty' },
      ]);
      // Reasons never carry values.
      expect(JSON.stringify(imp!.issues)).not.toMatch(/TAKEN|2024-02-30/);
      expect(await roster.getMember('M7')).not.toBeNull();
      expect(await roster.getMember('M6')).toBeNull();
      // M2's row was unreadable but named it: not terminated. M3 is absent: terminated.
      expect(await roster.attributedOn('M2', D2, 'aco')).toEqual(['acme-aco']);
      expect(await roster.attributedOn('M3', D2, 'aco')).toEqual([]);
    });

    it('caps stored issues but counts them all', async () => {
      const capped = await another({ maxStoredIssues: 2 });
      const r = await importFile(capped, 'acme-aco', D1, [
        rowError(2, 'bad'),
        rowError(3, 'bad'),
        rowError(4, 'bad'),
        rowError(5, 'bad'),
        member('M1'),
      ]);
      expect(r.errors).toBe(4);
      const imp = await capped.getImport(r.importId);
      expect(imp!.errors).toBe(4);
      expect(imp!.issues.map((i) => i.line)).toEqual([2, 3]);
    });

    it('handles a member twice in one file, inside one chunk and across chunks', async () => {
      const r = await importFile(roster, 'acme-aco', D1, [
        member('M1', { attribution: { aco: 'acme-aco', cp: 'bay-cp' } }),
        member('M1', { attribution: { aco: 'acme-aco', cp: 'harbor-cp' } }),
        member('M2'),
        member('M3'),
        member('M1', { attribution: { aco: 'acme-aco', cp: 'bay-cp' } }),
      ]);
      expect(r.applied).toBe(5);
      // Latest statement wins; history is well-formed.
      expect(await roster.attributedOn('M1', D1, 'cp')).toEqual(['bay-cp']);
      const cp = (await roster.attributionHistory('M1')).filter((a) => a.role === 'cp');
      expect(cp.at(-1)).toMatchObject({ partnerId: 'bay-cp', start: D1 });
      expect(cp.at(-1)!.end).toBeUndefined();
    });

    it('keeps effective-date boundaries inclusive and honours stated start/end dates', async () => {
      await importFile(roster, 'acme-aco', '2024-02-15', [
        member('M1', { attribution: { aco: 'acme-aco', cp: 'bay-cp', start: '2024-03-01', end: '2024-03-31' } }),
      ]);
      expect(await roster.attributedOn('M1', '2024-02-29', 'cp')).toEqual([]);
      expect(await roster.attributedOn('M1', '2024-03-01', 'cp')).toEqual(['bay-cp']);
      expect(await roster.attributedOn('M1', '2024-03-31', 'cp')).toEqual(['bay-cp']);
      expect(await roster.attributedOn('M1', '2024-04-01', 'cp')).toEqual([]);
      await expect(roster.attributedOn('M1', '2024-13-01', 'cp')).rejects.toThrow(/YYYY-MM-DD/);

      // The file moves the end: a period change, same row.
      const r = await importFile(roster, 'acme-aco', '2024-02-20', [
        member('M1', { attribution: { aco: 'acme-aco', cp: 'bay-cp', start: '2024-03-01', end: '2024-04-30' } }),
      ]);
      const [e] = await allEvents(roster, r.importId);
      expect(e.kind).toBe('changed');
      expect(e.detail.cpPeriod).toEqual({
        from: { start: '2024-03-01', end: '2024-03-31' },
        to: { start: '2024-03-01', end: '2024-04-30' },
      });
      expect(await roster.attributedOn('M1', '2024-04-30', 'cp')).toEqual(['bay-cp']);
      expect((await roster.attributionHistory('M1')).length).toBe(2);
    });

    it('consents: member-file columns become records, the latest decision wins, a restated column does not override the API', async () => {
      const grant = (granted: boolean) => member('M1', { consent: [{ partner: 'bay-cp', category: 'behavioral-health', granted }] });
      await importFile(roster, 'acme-aco', D1, [grant(true)]);
      expect(await roster.hasConsent('M1', 'bay-cp', 'behavioral-health')).toBe(true);
      expect(await roster.hasConsent('M1', 'bay-cp', 'substance-use')).toBe(false);
      expect(await roster.hasConsent('M1', 'harbor-cp', 'behavioral-health')).toBe(false);

      await roster.recordConsent('M1', {
        partnerId: 'bay-cp',
        category: 'behavioral-health',
        granted: false,
        source: 'api',
        actor: 'admin',
      });
      expect(await roster.hasConsent('M1', 'bay-cp', 'behavioral-health')).toBe(false);
      await importFile(roster, 'acme-aco', D2, [grant(true)]);
      expect(await roster.hasConsent('M1', 'bay-cp', 'behavioral-health')).toBe(false);

      // The file itself changes its answer: that is news, and newer than the API record.
      await importFile(roster, 'acme-aco', D3, [grant(false)]);
      await importFile(roster, 'acme-aco', '2024-03-04', [grant(true)]);
      expect(await roster.hasConsent('M1', 'bay-cp', 'behavioral-health')).toBe(true);
      const latest = await roster.latestConsent('M1', 'bay-cp', 'behavioral-health');
      expect(latest).toMatchObject({ granted: true, source: 'member-file' });
      expect((await roster.getMember('M1'))!.consents).toEqual([
        expect.objectContaining({ partnerId: 'bay-cp', category: 'behavioral-health', granted: true }),
      ]);

      await expect(
        roster.recordConsent('NOPE', { partnerId: 'bay-cp', category: 'substance-use', granted: true, source: 'api' }),
      ).rejects.toBeInstanceOf(RosterNotFoundError);
      await expect(
        roster.recordConsent('M1', { partnerId: 'bay-cp', category: 'mental' as never, granted: true, source: 'api' }),
      ).rejects.toThrow(/category/);
    });

    it('resolves ADT patients by identifier precedence, optionally by exact demographics', async () => {
      await importFile(roster, 'acme-aco', D1, [
        member('M1', {
          identifiers: [
            { system: MEDICAID, value: 'M1' },
            { system: MRN, value: 'X-1' },
          ],
        }),
        member('M2', {
          identifiers: [
            { system: MEDICAID, value: 'M2' },
            { system: 'urn:other', value: 'Y-2' },
          ],
        }),
        member('M3', { name: { family: "O'Brien", given: ['Mary', 'Ann'] }, birthDate: '1970-05-05', sex: 'female' }),
        member('M4', { name: { family: 'Twin', given: ['Sam'] }, birthDate: '2000-01-01', sex: 'male' }),
        member('M5', { name: { family: 'Twin', given: ['Sam'] }, birthDate: '2000-01-01', sex: 'male' }),
      ]);
      const both = [
        { system: MRN, value: 'X-1' },
        { system: 'urn:other', value: 'Y-2' },
      ];
      const precise = await another({ matching: { identifierPrecedence: ['urn:other', MRN] } });
      const r1 = await precise.resolve({ identifiers: both });
      expect(r1.kind === 'matched' && [r1.member.memberId, r1.by]).toEqual(['M2', 'identifier']);
      const r2 = await precise.resolve({ identifiers: [{ system: MEDICAID, value: 'M1' }] });
      expect(r2.kind).toBe('unmatched'); // Medicaid system not in this precedence list
      const any = await roster.resolve({ identifiers: both });
      expect(any.kind === 'matched' && any.member.memberId).toBe('M1');
      const member1 = any.kind === 'matched' ? any.member : undefined;
      expect(member1?.attributions.map((a) => a.role).sort()).toEqual(['aco', 'cp']);

      const patient = {
        identifiers: [{ system: MRN, value: 'unknown' }],
        family: ' o’brien ',
        given: 'mary',
        birthDate: '1970-05-05',
        sex: 'female',
      };
      expect((await roster.resolve(patient)).kind).toBe('unmatched'); // demographics off by default
      const demo = await another({ matching: { demographicMatch: true } });
      expect((await demo.resolve(patient)).kind).toBe('unmatched'); // ’ is not ' : exact means exact
      const r3 = await demo.resolve({ ...patient, family: " o'brien " });
      expect(r3.kind === 'matched' && [r3.member.memberId, r3.by]).toEqual(['M3', 'demographics']);
      const twins = await demo.resolve({ identifiers: [], family: 'Twin', given: 'Sam', birthDate: '2000-01-01', sex: 'male' });
      expect(twins.kind).toBe('unmatched'); // two candidates is no match
    });

    it('records unmatched events once, lists them, and resolves them after the import that brings the member', async () => {
      const resolver = await another({ matching: { identifierPrecedence: [MEDICAID, MRN] } });
      const at = new Date('2024-03-01T12:00:00Z');
      await resolver.recordUnmatched({
        messageId: 'msg-1',
        receivedAt: at,
        identifiers: [{ system: MRN, value: 'NEW-MRN' }],
        partnerId: 'mgh',
      });
      await resolver.recordUnmatched({
        messageId: 'msg-1',
        receivedAt: at,
        identifiers: [{ system: MRN, value: 'NEW-MRN' }],
        partnerId: 'mgh',
      });
      await resolver.recordUnmatched({ messageId: 'msg-2', receivedAt: at, identifiers: [{ system: 'urn:untrusted', value: 'M9' }] });
      await resolver.recordUnmatched({ messageId: 'msg-3', receivedAt: at, identifiers: [{ system: MRN, value: 'STILL-UNKNOWN' }] });
      const open = await resolver.listUnmatched({ resolved: false });
      expect(open.items.map((u) => u.messageId)).toEqual(['msg-3', 'msg-2', 'msg-1']);
      expect(open.items[2]).toMatchObject({
        partnerId: 'mgh',
        identifiers: [{ system: MRN, value: 'NEW-MRN' }],
        resolvedAt: null,
        memberId: null,
      });
      expect((await resolver.listUnmatched({ partners: ['mgh'] })).items.map((u) => u.messageId)).toEqual(['msg-1']);

      const r = await importFile(resolver, 'acme-aco', D1, [
        member('M9', {
          identifiers: [
            { system: MEDICAID, value: 'M9' },
            { system: MRN, value: 'NEW-MRN' },
            { system: 'urn:untrusted', value: 'M9' },
          ],
        }),
      ]);
      expect(r.resolvedUnmatched).toEqual([{ id: open.items[2].id, messageId: 'msg-1', memberId: 'M9' }]);
      const resolved = await resolver.listUnmatched({ resolved: true });
      expect(resolved.items).toHaveLength(1);
      expect(resolved.items[0]).toMatchObject({ messageId: 'msg-1', memberId: 'M9' });
      expect(resolved.items[0].resolvedAt).toBeInstanceOf(Date);
      // Resolved once: the next import returns nothing new.
      expect((await importFile(resolver, 'acme-aco', D2, [member('M9')])).resolvedUnmatched).toEqual([]);
      expect(await resolver.reResolveUnmatched()).toEqual([]);
    });

    it('keeps resolved unmatched events pending until they are marked routed, once each, seen by every connection', async () => {
      const resolver = await another({ matching: { identifierPrecedence: [MEDICAID] } });
      const at = new Date('2024-03-01T12:00:00Z');
      for (const id of ['M1', 'M2', 'M3', 'NOPE']) {
        await resolver.recordUnmatched({ messageId: `msg-${id}`, receivedAt: at, identifiers: [{ system: MEDICAID, value: id }] });
      }
      expect(await resolver.unroutedResolved()).toEqual([]);

      const r = await importFile(resolver, 'acme-aco', D1, [member('M1'), member('M2'), member('M3')]);
      expect(r.resolvedUnmatched.map((e) => e.messageId)).toEqual(['msg-M1', 'msg-M2', 'msg-M3']);
      const pending = await roster.unroutedResolved(); // another connection: the resolution is durable
      expect(pending).toEqual(r.resolvedUnmatched);
      expect(await resolver.unroutedResolved({ limit: 2 })).toEqual(pending.slice(0, 2));
      expect(await resolver.unroutedResolved({ after: pending[1].id })).toEqual(pending.slice(2));
      // Events resolved after the cut-off are left to whoever is routing them now.
      expect(await resolver.unroutedResolved({ resolvedBefore: new Date(Date.now() - 60_000) })).toEqual([]);
      await expect(resolver.unroutedResolved({ after: 'x' })).rejects.toThrow(/invalid id/);

      expect(await resolver.markUnmatchedRouted([pending[0].id, pending[1].id])).toBe(2);
      expect(await roster.markUnmatchedRouted([pending[0].id])).toBe(0);
      const [open] = (await resolver.listUnmatched({ resolved: false })).items;
      expect(await resolver.markUnmatchedRouted([open.id])).toBe(0); // unresolved: nothing to route yet
      expect(await resolver.markUnmatchedRouted([])).toBe(0);
      expect(await resolver.unroutedResolved()).toEqual([pending[2]]);

      const listed = (await resolver.listUnmatched({})).items;
      expect(listed.map((u) => [u.messageId, u.routedAt instanceof Date])).toEqual([
        ['msg-NOPE', false],
        ['msg-M3', false],
        ['msg-M2', true],
        ['msg-M1', true],
      ]);
    });

    it('converges after a crash mid-import: the same file again resumes the import and ends where a clean run ends', async () => {
      const day1 = ['M1', 'M2', 'M3', 'M4', 'M5', 'M6', 'M7', 'M8'].map((id) => member(id));
      const day2 = [
        member('M1', { attribution: { aco: 'acme-aco', cp: 'harbor-cp' } }),
        member('M2'),
        member('M3', { phone: '555-0003' }),
        member('M5'),
        member('M6', { attribution: { aco: 'acme-aco', cp: 'harbor-cp' } }),
        member('M9'),
        member('M10'),
      ];
      // Reference: a clean run on its own database.
      const clean = await another({}, await (await open()).openBackend());
      await importFile(clean, 'acme-aco', D1, day1);
      const expected = await importFile(clean, 'acme-aco', D2, day2);

      await importFile(roster, 'acme-aco', D1, day1);
      const dying = await another({}, crashingBackend(await h.openBackend(), 1));
      await expect(importFile(dying, 'acme-aco', D2, day2)).rejects.toThrow('simulated crash');
      const [left] = (await roster.listImports({ partner: 'acme-aco', status: 'in-progress' })).items;
      expect(left).toBeDefined();

      const restarted = await another();
      const rerun = await importFile(restarted, 'acme-aco', D2, day2);
      expect(rerun).toMatchObject({ status: 'applied', resumed: true, importId: left.id });
      expect({ ...rerun, importId: '', resolvedUnmatched: [] }).toEqual({
        ...expected,
        importId: '',
        resumed: true,
        resolvedUnmatched: [],
      });
      for (const id of ['M1', 'M3', 'M4', 'M6', 'M9']) {
        const strip = (list: Awaited<ReturnType<Roster['attributionHistory']>>) => list.map(({ importId: _i, ...a }) => a);
        expect(strip(await restarted.attributionHistory(id))).toEqual(strip(await clean.attributionHistory(id)));
      }
      expect(kinds(await allEvents(restarted, left.id))).toEqual(kinds(await allEvents(clean, expected.importId)));
      expect((await restarted.listImports({ partner: 'acme-aco' })).items.map((i) => i.status)).toEqual(['applied', 'applied']);
    });

    it('marks a file that fails to read as failed; the same file dropped again resumes; another file abandons it', async () => {
      async function* broken() {
        yield member('M1');
        yield member('M2');
        yield member('M3');
        yield member('M4');
        const err = new Error('line 6: not an 834 interchange (no ISA)');
        err.name = 'MemberFileError';
        throw err;
      }
      const failed = await roster.importMemberFile({
        partnerId: 'acme-aco',
        fileName: 'f.834',
        sha256: sha('f'),
        importDate: D1,
        items: broken(),
      });
      expect(failed).toMatchObject({ status: 'failed', error: 'line 6: not an 834 interchange (no ISA)', rows: 3, applied: 3 });
      expect((await roster.getImport(failed.importId))!).toMatchObject({
        status: 'failed',
        error: 'line 6: not an 834 interchange (no ISA)',
      });
      // A non-adapter error is named, never quoted.
      async function* oops() {
        yield member('M1');
        throw new TypeError('Cannot read MRN 12345 of undefined');
      }
      const other = await roster.importMemberFile({
        partnerId: 'acme-aco',
        fileName: 'g.csv',
        sha256: sha('g'),
        importDate: D1,
        items: oops(),
      });
      expect(other.error).toBe('the file could not be read (TypeError)');

      const again = await roster.importMemberFile({
        partnerId: 'acme-aco',
        fileName: 'f.834',
        sha256: sha('f'),
        importDate: D1,
        items: stream([member('M1'), member('M2')]),
      });
      expect(again).toMatchObject({ status: 'applied', resumed: true, importId: failed.importId });
    });

    it('keeps partners apart and serializes imports of one partner', async () => {
      const [a, b, c] = await Promise.all([
        importFile(roster, 'acme-aco', D1, [member('M1'), member('M2')]),
        importFile(roster, 'acme-aco', D2, [member('M1')]),
        importFile(roster, 'other-aco', D1, [member('M2', { attribution: { aco: 'other-aco' } })]),
      ]);
      expect([a.status, b.status, c.status]).toEqual(['applied', 'applied', 'applied']);
      // The D2 file ran after the D1 file (same partner): M2 terminated by it, kept by other-aco.
      expect(b.terminated).toBe(1);
      expect(await roster.attributedOn('M2', D2, 'aco')).toEqual(['other-aco']);
      expect(await roster.memberConcerns('M2', ['other-aco'])).toBe(true);
      expect(await roster.memberConcerns('M1', ['other-aco'])).toBe(false);
      expect(await roster.memberConcerns('M1', ['bay-cp'])).toBe(true);
    });

    it('selfRole attributes every member of a partner’s own roster to it', async () => {
      await importFile(roster, 'bay-cp', D1, [member('M1', { attribution: {} }), member('M2', { attribution: { aco: 'acme-aco' } })], {
        selfRole: 'cp',
      });
      expect(await roster.attributedOn('M1', D1, 'cp')).toEqual(['bay-cp']);
      expect(await roster.attributedOn('M2', D1, 'aco')).toEqual(['acme-aco']);
      expect(await roster.attributedOn('M2', D1, 'cp')).toEqual(['bay-cp']);
    });

    it('lists applied imports whose events still await their notices, oldest first; not failed, flagged or too recent ones', async () => {
      const a = await importFile(roster, 'acme-aco', D1, [member('M1'), member('M2')]);
      const fileOfB = [member('M3', { attribution: { aco: 'other-aco' } })];
      const b = await importFile(roster, 'other-aco', D1, fileOfB);
      async function* broken() {
        for (const id of ['M4', 'M5', 'M6', 'M7']) yield member(id, { attribution: { aco: 'third-aco' } });
        throw Object.assign(new Error('line 9: truncated'), { name: 'MemberFileError' });
      }
      // A failed import wrote events (one chunk) but is redone under the same id when its file comes back.
      const failed = await roster.importMemberFile({
        partnerId: 'third-aco',
        fileName: 'x.csv',
        sha256: sha('x'),
        importDate: D1,
        items: broken(),
      });
      expect(failed).toMatchObject({ status: 'failed', applied: 3 });
      expect(await allEvents(roster, failed.importId)).toHaveLength(3);

      expect(await roster.importsAwaitingNotice()).toEqual([a.importId, b.importId]);
      expect(await roster.importsAwaitingNotice({ limit: 1 })).toEqual([a.importId]);
      expect(await roster.importsAwaitingNotice({ finishedBefore: new Date(Date.now() - 60_000) })).toEqual([]);
      const eventsOfA = await allEvents(roster, a.importId);
      await roster.markDiffEventsNotified([eventsOfA[0].id]);
      expect(await roster.importsAwaitingNotice()).toEqual([a.importId, b.importId]);
      await roster.markDiffEventsNotified(eventsOfA.map((e) => e.id));
      expect(await roster.importsAwaitingNotice()).toEqual([b.importId]);
      // The same file again is a duplicate row pointing at the import that has the events.
      const again = await importFile(roster, 'other-aco', D1, fileOfB);
      expect(again).toMatchObject({ status: 'duplicate', duplicateOf: b.importId });
      expect(await roster.importsAwaitingNotice()).toEqual([b.importId]);
    });

    it('lists imports newest first with paging and scope, finds members by identifier, marks events notified', async () => {
      for (const d of [D1, D2, D3]) await importFile(roster, 'acme-aco', d, [member('M1', { phone: d })]);
      await importFile(roster, 'other-aco', D1, [member('M2', { attribution: { aco: 'other-aco' } })]);
      const first = await roster.listImports({ limit: 2 });
      expect(first.items.map((i) => [i.partnerId, i.importDate])).toEqual([
        ['other-aco', D1],
        ['acme-aco', D3],
      ]);
      const second = await roster.listImports({ limit: 2, cursor: first.next! });
      expect(second.items.map((i) => i.importDate)).toEqual([D2, D1]);
      expect(second.next).toBeNull();
      expect((await roster.listImports({ partners: ['other-aco'] })).items).toHaveLength(1);
      await expect(roster.listImports({ cursor: 'garbage' })).rejects.toThrow(/cursor/);

      expect(await roster.findMemberIds({ system: MEDICAID, value: 'M1' })).toEqual(['M1']);
      expect(await roster.findMemberIds({ value: 'M2' })).toEqual(['M2']);
      expect(await roster.findMemberIds({ system: MRN, value: 'M1' })).toEqual([]);

      const pending = await roster.listDiffEvents({ notified: false });
      expect(pending.items.length).toBe(4);
      expect(await roster.markDiffEventsNotified(pending.items.slice(0, 3).map((e) => e.id))).toBe(3);
      expect(await roster.markDiffEventsNotified(pending.items.slice(0, 3).map((e) => e.id))).toBe(0);
      expect((await roster.listDiffEvents({ notified: false })).items.map((e) => e.id)).toEqual([pending.items[3].id]);
      expect((await roster.listDiffEvents({ since: new Date(Date.now() + 60_000) })).items).toEqual([]);
      expect((await roster.listDiffEvents({ partners: [] })).items).toEqual([]);
    });
  });
}
