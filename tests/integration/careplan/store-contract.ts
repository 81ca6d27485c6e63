// The care-plan store contract: run on SQLite (sqlite.test.ts) and on a real Postgres (postgres.test.ts).
import type { CarePlan, Provenance } from 'fhir/r4.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CarePlanStore, CarePlanWrite, SignoffRecord } from '../../../src/careplan/store/types.js';

export interface StoreHarness {
  store: CarePlanStore;
  /** A second store on the same database (another process or connection). */
  openPeer(): Promise<CarePlanStore>;
}

const T0 = Date.UTC(2024, 4, 1, 12);

export function plan(id: string, extra: Partial<CarePlan> = {}): CarePlan {
  return { resourceType: 'CarePlan', id, status: 'active', intent: 'plan', subject: { reference: 'Patient/p1' }, ...extra };
}

export function write(id: string, over: Partial<CarePlanWrite> = {}): CarePlanWrite {
  return {
    id,
    kind: 'cp-plan',
    memberId: 'M1',
    cpPartner: 'bay-cp',
    acoPartner: 'acme-aco',
    encounterRef: null,
    status: 'active',
    signoff: 'pending',
    dueAt: new Date(T0 + 30 * 86_400_000),
    createdAt: new Date(T0),
    completedAt: null,
    resource: plan(id),
    contentHash: 'h1',
    lastMessageId: null,
    ...over,
  };
}

function provenance(id: string, planId: string): Provenance {
  return {
    resourceType: 'Provenance',
    id,
    target: [{ reference: `CarePlan/${planId}/_history/1` }],
    recorded: '2024-05-02T10:00:00Z',
    agent: [{ who: { reference: 'Practitioner/x' } }],
  };
}

export function describeCarePlanStoreContract(name: string, open: () => Promise<StoreHarness>): void {
  describe(`care-plan store contract (${name})`, () => {
    let h: StoreHarness;
    let store: CarePlanStore;
    const peers: CarePlanStore[] = [];

    beforeEach(async () => {
      h = await open();
      store = h.store;
    });

    afterEach(async () => {
      for (const p of peers.splice(0)) await p.close();
      await store.close();
    });

    it('inserts at version 1 and reads back every column', async () => {
      const saved = await store.save(write('a'), 0);
      expect(saved).not.toBeNull();
      expect(saved!.version).toBe(1);
      const got = await store.get('a');
      expect(got).toMatchObject({
        id: 'a',
        kind: 'cp-plan',
        memberId: 'M1',
        cpPartner: 'bay-cp',
        acoPartner: 'acme-aco',
        status: 'active',
        signoff: 'pending',
        contentHash: 'h1',
        lastMessageId: null,
        completedAt: null,
        version: 1,
        pcpPartner: null,
      });
      expect(got!.dueAt!.getTime()).toBe(T0 + 30 * 86_400_000);
      expect(got!.createdAt.getTime()).toBe(T0);
      expect(got!.resource).toEqual(plan('a'));
      expect(await store.get('missing')).toBeNull();
    });

    it('updates only from the expected version (optimistic concurrency)', async () => {
      await store.save(write('a'), 0);
      expect(await store.save(write('a'), 0)).toBeNull(); // insert of an existing id
      const v2 = await store.save(write('a', { signoff: 'approved', completedAt: new Date(T0 + 1000) }), 1);
      expect(v2!.version).toBe(2);
      expect(v2!.signoff).toBe('approved');
      expect(await store.save(write('a', { signoff: 'rejected' }), 1)).toBeNull(); // stale
      expect((await store.get('a'))!.signoff).toBe('approved');
    });

    it('one of two concurrent writers of the same version wins, also across connections', async () => {
      await store.save(write('a'), 0);
      const peer = await h.openPeer();
      peers.push(peer);
      const results = await Promise.all([store.save(write('a', { status: 'draft' }), 1), peer.save(write('a', { status: 'revoked' }), 1)]);
      expect(results.filter((r) => r !== null)).toHaveLength(1);
      expect((await peer.get('a'))!.version).toBe(2);
    });

    it('refuses a resource whose id differs from the row', async () => {
      await expect(store.save(write('a', { resource: plan('b') }), 0)).rejects.toThrow(/resource id/);
    });

    it('stores sign-offs with the plan in one transaction, once per Provenance id', async () => {
      await store.save(write('a'), 0);
      const s: SignoffRecord = {
        id: 'prov-1',
        carePlanId: 'a',
        planVersion: 1,
        decision: 'approved',
        method: 'api',
        decidedAt: new Date(T0 + 1000),
        recordedAt: new Date(T0 + 2000),
        provenance: provenance('prov-1', 'a'),
      };
      await store.save(write('a', { signoff: 'approved' }), 1, { signoff: s });
      // The same decision again (a resent file): kept once, the first record stays.
      await store.save(write('a', { signoff: 'approved' }), 2, { signoff: { ...s, method: 'file' } });
      const list = await store.listSignoffs('a');
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({ id: 'prov-1', carePlanId: 'a', planVersion: 1, decision: 'approved', method: 'api' });
      expect(list[0]!.decidedAt.getTime()).toBe(T0 + 1000);
      expect(list[0]!.provenance).toEqual(provenance('prov-1', 'a'));
    });

    it('a sign-off is not stored when the plan save conflicts', async () => {
      await store.save(write('a'), 0);
      const s: SignoffRecord = {
        id: 'prov-2',
        carePlanId: 'a',
        planVersion: 1,
        decision: 'rejected',
        method: 'file',
        decidedAt: new Date(T0),
        recordedAt: new Date(T0),
        provenance: provenance('prov-2', 'a'),
      };
      expect(await store.save(write('a'), 5, { signoff: s })).toBeNull();
      expect(await store.listSignoffs('a')).toEqual([]);
    });

    it('records one follow-up completion per plan', async () => {
      await store.save(write('t', { kind: 'transition-of-care', signoff: null, acoPartner: null }), 0);
      const f = { carePlanId: 't', completedAt: new Date(T0 + 5000), recordedAt: new Date(T0 + 6000), recordedBy: 'cp-key' };
      await store.save(write('t', { kind: 'transition-of-care', signoff: null, acoPartner: null, completedAt: f.completedAt }), 1, {
        followUp: f,
      });
      await store.save(write('t', { kind: 'transition-of-care', signoff: null, acoPartner: null }), 2, {
        followUp: { ...f, recordedBy: 'other' },
      });
      expect(await store.getFollowUp('t')).toEqual(f);
      expect(await store.getFollowUp('a')).toBeNull();
    });

    it('lists by partner, side, kind, sign-off state and member, paged in creation order', async () => {
      for (let i = 0; i < 5; i++) await store.save(write(`p${i}`, { memberId: `M${i % 2}` }), 0);
      await store.save(write('other', { cpPartner: 'x-cp', acoPartner: 'y-aco' }), 0);
      await store.save(write('toc', { kind: 'transition-of-care', signoff: null, acoPartner: null }), 0);
      const first = await store.list({ partner: 'bay-cp', limit: 2 });
      expect(first.items.map((r) => r.id)).toEqual(['p0', 'p1']);
      const second = await store.list({ partner: 'bay-cp', limit: 2, cursor: first.next });
      expect(second.items.map((r) => r.id)).toEqual(['p2', 'p3']);
      const rest = await store.list({ partner: 'bay-cp', limit: 10, cursor: second.next });
      expect(rest.items.map((r) => r.id)).toEqual(['p4', 'toc']);
      expect(rest.next).toBeNull();
      expect((await store.list({ partner: 'acme-aco', role: 'aco' })).items).toHaveLength(5);
      expect((await store.list({ partner: 'acme-aco', role: 'cp' })).items).toHaveLength(0);
      expect((await store.list({ kind: 'transition-of-care' })).items.map((r) => r.id)).toEqual(['toc']);
      expect((await store.list({ memberId: 'M1', kind: 'cp-plan' })).items.map((r) => r.id)).toEqual(['p1', 'p3', 'other']);
      expect((await store.list({ partners: ['y-aco'] })).items.map((r) => r.id)).toEqual(['other']);
      expect((await store.list({ partners: [] })).items).toEqual([]);
      await store.save(write('p0', { signoff: 'approved' }), 1);
      expect((await store.list({ signoff: 'approved' })).items.map((r) => r.id)).toEqual(['p0']);
      await expect(store.list({ cursor: 'garbage' })).rejects.toThrow(/cursor/);
      await expect(store.list({ limit: 0 })).rejects.toThrow(/limit/);
    });

    it('lists open obligations by due date, with a due-before filter and paging', async () => {
      const day = 86_400_000;
      await store.save(write('late', { dueAt: new Date(T0 + 1 * day) }), 0);
      await store.save(write('soon', { dueAt: new Date(T0 + 3 * day) }), 0);
      await store.save(write('done', { dueAt: new Date(T0 + 2 * day), completedAt: new Date(T0) }), 0);
      await store.save(write('nodue', { dueAt: null }), 0);
      await store.save(write('tie', { dueAt: new Date(T0 + 3 * day) }), 0);
      await store.save(write('elsewhere', { cpPartner: 'x-cp', acoPartner: 'y-aco', dueAt: new Date(T0) }), 0);
      const all = await store.listOpen({ partner: 'bay-cp' });
      expect(all.items.map((r) => r.id)).toEqual(['late', 'soon', 'tie']);
      const p1 = await store.listOpen({ partner: 'acme-aco', limit: 2 });
      expect(p1.items.map((r) => r.id)).toEqual(['late', 'soon']);
      const p2 = await store.listOpen({ partner: 'acme-aco', limit: 2, cursor: p1.next });
      expect(p2.items.map((r) => r.id)).toEqual(['tie']);
      expect(p2.next).toBeNull();
      expect((await store.listOpen({ partner: 'bay-cp', dueBefore: new Date(T0 + 2 * day) })).items.map((r) => r.id)).toEqual(['late']);
      expect((await store.listOpen({ partner: 'bay-cp', role: 'aco' })).items).toEqual([]);
    });

    it('keeps the PCP’s organization and finds its plans on the signing side', async () => {
      await store.save(write('a', { pcpPartner: 'river-health' }), 0);
      await store.save(write('b'), 0);
      await store.save(write('c', { acoPartner: 'y-aco', pcpPartner: 'river-health', dueAt: new Date(T0) }), 0);
      expect((await store.get('a'))!.pcpPartner).toBe('river-health');
      expect((await store.list({ partner: 'river-health' })).items.map((r) => r.id)).toEqual(['a', 'c']);
      expect((await store.list({ partner: 'river-health', role: 'aco' })).items.map((r) => r.id)).toEqual(['a', 'c']);
      expect((await store.list({ partner: 'river-health', role: 'cp' })).items).toEqual([]);
      expect((await store.list({ partners: ['river-health'] })).items.map((r) => r.id)).toEqual(['a', 'c']);
      expect((await store.listOpen({ partner: 'river-health' })).items.map((r) => r.id)).toEqual(['c', 'a']);
      expect((await store.listOpen({ partner: 'river-health', role: 'aco' })).items.map((r) => r.id)).toEqual(['c', 'a']);
      // A revision may drop it (the member's PCP changed).
      await store.save(write('a', { pcpPartner: null }), 1);
      expect((await store.get('a'))!.pcpPartner).toBeNull();
      expect((await store.list({ partner: 'river-health' })).items.map((r) => r.id)).toEqual(['c']);
    });

    it('sets the last message without a new version', async () => {
      await store.save(write('a'), 0);
      await store.setLastMessage('a', 'MSG1');
      const got = await store.get('a');
      expect(got!.lastMessageId).toBe('MSG1');
      expect(got!.version).toBe(1);
    });

    it('records a file once per partner, name and hash', async () => {
      const f = {
        partnerId: 'bay-cp',
        fileName: 'plans.csv',
        sha256: 'ab'.repeat(32),
        kind: 'careplans' as const,
        rows: 3,
        applied: 2,
        errors: 1,
        recordedAt: new Date(T0),
      };
      expect(await store.getFile('bay-cp', 'plans.csv', f.sha256)).toBeNull();
      expect(await store.recordFile(f)).toBe(true);
      expect(await store.recordFile({ ...f, applied: 3 })).toBe(false);
      expect(await store.getFile('bay-cp', 'plans.csv', f.sha256)).toEqual(f);
      expect(await store.recordFile({ ...f, sha256: 'cd'.repeat(32) })).toBe(true);
    });

    it('answers ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
