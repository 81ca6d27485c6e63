import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../../src/api/app.js';
import { silentLog } from '../../../src/observability/log.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { openRosterStore, type Roster } from '../../../src/roster/roster-store.js';
import type { ImportResult } from '../../../src/roster/store-types.js';
import { openStore } from '../../../src/store/open-store.js';
import type { MessageStore } from '../../../src/store/types.js';
import { FakeIngest, KEYS, auth, makeConfig } from './fixtures.js';
import { MEDICAID, MRN, importFile, member, rowError } from '../../integration/roster/fixtures.js';

// The /api/roster routes through Fastify inject, on a real in-memory roster and message store.
// Keys (from the API fixtures): admin (*), aco-key (acme-aco), cp-key (bay-cp), both-key.

describe('/api/roster', () => {
  let app: FastifyInstance;
  let store: MessageStore;
  let roster: Roster;
  let first: ImportResult;
  let second: ImportResult;
  let other: ImportResult;

  const get = (url: string, key: string = KEYS.admin) => app.inject({ method: 'GET', url, headers: auth(key) });

  beforeAll(async () => {
    store = await openStore('sqlite::memory:');
    roster = await openRosterStore('sqlite::memory:');
    app = buildApi({
      config: makeConfig(),
      store,
      ingest: new FakeIngest(store),
      log: silentLog,
      metrics: createMetrics({ defaultMetrics: false }),
      roster,
    });
    await app.ready();

    first = await importFile(roster, 'acme-aco', '2024-03-01', [
      member('M1', {
        identifiers: [
          { system: MEDICAID, value: 'M1', type: 'MA' },
          { system: MRN, value: 'X-1' },
        ],
      }),
      member('M2', { attribution: { aco: 'acme-aco', cp: 'harbor-cp' } }),
    ]);
    second = await importFile(roster, 'acme-aco', '2024-03-02', [
      member('M1', { attribution: { aco: 'acme-aco', cp: 'harbor-cp' }, line: 2 }),
      rowError(3, 'column DOB: not a date', 'M2'),
    ]);
    other = await importFile(roster, 'other-aco', '2024-03-01', [member('Z1', { attribution: { aco: 'other-aco' } })]);
    await roster.recordUnmatched({
      messageId: 'msg-acme',
      receivedAt: new Date('2024-03-01T10:00:00Z'),
      identifiers: [{ system: MRN, value: 'NOPE' }],
      partnerId: 'acme-aco',
    });
    await roster.recordUnmatched({
      messageId: 'msg-none',
      receivedAt: new Date('2024-03-01T11:00:00Z'),
      identifiers: [{ system: MRN, value: 'NOPE-2' }],
    });
  });

  afterAll(async () => {
    await app.close();
    await roster.close();
    await store.close();
  });

  it('needs an API key', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/roster/members/M1' });
    expect(res.statusCode).toBe(401);
  });

  it('returns a member with identifiers, current attributions and consents', async () => {
    const res = await get('/api/roster/members/M1');
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      memberId: 'M1',
      status: 'active',
      name: { family: 'FamilyM1', given: ['Given'] },
      birthDate: '1980-01-01',
    });
    expect(body.identifiers).toEqual(
      expect.arrayContaining([
        { system: MRN, value: 'X-1' },
        { system: MEDICAID, value: 'M1', type: 'MA' },
      ]),
    );
    expect(body.attributions.map((a: { role: string; partnerId: string }) => `${a.role}:${a.partnerId}`).sort()).toEqual([
      'aco:acme-aco',
      'cp:harbor-cp',
    ]);
    expect(body.consents).toEqual([]);
  });

  it('scopes members: a partner key sees members its partners attribute or are attributed to', async () => {
    expect((await get('/api/roster/members/M1', KEYS.aco)).statusCode).toBe(200);
    // bay-cp was M1's CP until 2024-03-01: history counts.
    expect((await get('/api/roster/members/M1', KEYS.cp)).statusCode).toBe(200);
    expect((await get('/api/roster/members/Z1', KEYS.aco)).statusCode).toBe(404);
    expect((await get('/api/roster/members/Z1/attributions', KEYS.cp)).statusCode).toBe(404);
    expect((await get('/api/roster/members/NOBODY')).statusCode).toBe(404);
  });

  it('finds members by identifier (system|value or any system), within scope', async () => {
    const bySystem = await get(`/api/roster/members?identifier=${encodeURIComponent(`${MRN}|X-1`)}`);
    expect(bySystem.json().items.map((m: { memberId: string }) => m.memberId)).toEqual(['M1']);
    expect((await get('/api/roster/members?identifier=Z1')).json().items.map((m: { memberId: string }) => m.memberId)).toEqual(['Z1']);
    expect((await get('/api/roster/members?identifier=Z1', KEYS.aco)).json().items).toEqual([]);
    expect((await get('/api/roster/members')).statusCode).toBe(400);
  });

  it('lists a member’s attribution history with dates and the file it came from', async () => {
    const res = await get('/api/roster/members/M1/attributions');
    const cp = res.json().items.filter((a: { role: string }) => a.role === 'cp');
    expect(cp).toEqual([
      { partnerId: 'bay-cp', role: 'cp', start: '2024-03-01', end: '2024-03-01', sourcePartnerId: 'acme-aco', importId: first.importId },
      { partnerId: 'harbor-cp', role: 'cp', start: '2024-03-02', end: null, sourcePartnerId: 'acme-aco', importId: second.importId },
    ]);
  });

  it('lists imports newest first, scoped to the key’s partners, and shows one with its errors by line', async () => {
    const all = (await get('/api/roster/imports')).json();
    expect(all.items.map((i: { id: string }) => i.id)).toEqual([other.importId, second.importId, first.importId]);
    const mine = (await get('/api/roster/imports', KEYS.aco)).json();
    expect(mine.items.map((i: { id: string }) => i.id)).toEqual([second.importId, first.importId]);
    expect((await get('/api/roster/imports', KEYS.cp)).json().items).toEqual([]);
    const paged = (await get('/api/roster/imports?limit=1')).json();
    expect(paged.items).toHaveLength(1);
    const page2 = (await get(`/api/roster/imports?limit=1&cursor=${paged.next}`)).json();
    expect(page2.items[0].id).toBe(second.importId);
    expect((await get('/api/roster/imports?status=duplicate')).json().items).toEqual([]);

    const detail = await get(`/api/roster/imports/${second.importId}`, KEYS.aco);
    expect(detail.statusCode).toBe(200);
    expect(detail.json()).toMatchObject({
      partnerId: 'acme-aco',
      status: 'applied',
      importDate: '2024-03-02',
      rows: 2,
      applied: 1,
      errors: 1,
      changed: 1,
      issues: [{ line: 3, kind: 'error', reason: 'column DOB: not a date' }],
    });
    expect((await get(`/api/roster/imports/${other.importId}`, KEYS.aco)).statusCode).toBe(404);
    expect((await get('/api/roster/imports/nope')).statusCode).toBe(404);
  });

  it('lists diff events in order, by partner concerned and since, scoped', async () => {
    const all = (await get('/api/roster/diff-events')).json().items;
    expect(all.map((e: { memberId: string; kind: string }) => `${e.memberId}:${e.kind}`)).toEqual([
      'M1:added',
      'M2:added',
      'M1:changed',
      'Z1:added',
    ]);
    const harbor = (await get('/api/roster/diff-events?partner=harbor-cp')).json().items;
    expect(harbor.map((e: { memberId: string; kind: string }) => `${e.memberId}:${e.kind}`)).toEqual(['M2:added', 'M1:changed']);
    expect(harbor[1].detail).toEqual({ cp: { from: 'bay-cp', to: 'harbor-cp' } });
    // bay-cp's key: M1 was its member, and then was not.
    const bay = (await get('/api/roster/diff-events', KEYS.cp)).json().items;
    expect(bay.map((e: { memberId: string; kind: string }) => `${e.memberId}:${e.kind}`)).toEqual(['M1:added', 'M1:changed']);
    expect((await get('/api/roster/diff-events?partner=other-aco', KEYS.cp)).json().items).toEqual([]);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await get(`/api/roster/diff-events?since=${future}`)).json().items).toEqual([]);
    expect((await get('/api/roster/diff-events?since=yesterday')).statusCode).toBe(400);
    const p1 = (await get('/api/roster/diff-events?limit=3')).json();
    const p2 = (await get(`/api/roster/diff-events?limit=3&cursor=${p1.next}`)).json();
    expect(p2.items.map((e: { memberId: string }) => e.memberId)).toEqual(['Z1']);
    expect((await get('/api/roster/diff-events?cursor=bad')).statusCode).toBe(400);
  });

  it('lists unmatched events: admins all, a partner key those its partner sent', async () => {
    expect((await get('/api/roster/unmatched')).json().items.map((u: { messageId: string }) => u.messageId)).toEqual([
      'msg-none',
      'msg-acme',
    ]);
    expect(
      (await get('/api/roster/unmatched?resolved=false', KEYS.aco)).json().items.map((u: { messageId: string }) => u.messageId),
    ).toEqual(['msg-acme']);
    expect((await get('/api/roster/unmatched', KEYS.cp)).json().items).toEqual([]);
    expect((await get('/api/roster/unmatched?resolved=true')).json().items).toEqual([]);
  });

  it('records consent from the API, audited, and routing sees it', async () => {
    const post = (key: string, memberId: string, body: unknown) =>
      app.inject({ method: 'POST', url: `/api/roster/members/${memberId}/consents`, headers: auth(key), payload: body as object });
    const res = await post(KEYS.admin, 'M2', { partnerId: 'harbor-cp', category: 'behavioral-health', granted: true });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ partnerId: 'harbor-cp', category: 'behavioral-health', granted: true, source: 'api' });
    expect(await roster.hasConsent('M2', 'harbor-cp', 'behavioral-health')).toBe(true);
    const audit = await store.listAudit({ subjectType: 'member', subjectId: 'M2' });
    expect(audit.items).toHaveLength(1);
    expect(audit.items[0]).toMatchObject({ actor: 'admin', action: 'api.roster.consent' });
    expect(audit.items[0].detail).toMatchObject({ partnerId: 'harbor-cp', category: 'behavioral-health', granted: true });

    // A partner key records consent for its own partner, on a member it can see.
    expect((await post(KEYS.cp, 'M1', { partnerId: 'bay-cp', category: 'substance-use', granted: false })).statusCode).toBe(201);
    expect((await post(KEYS.cp, 'M1', { partnerId: 'acme-aco', category: 'substance-use', granted: true })).statusCode).toBe(403);
    expect((await post(KEYS.cp, 'Z1', { partnerId: 'bay-cp', category: 'substance-use', granted: true })).statusCode).toBe(404);
    expect((await post(KEYS.admin, 'NOBODY', { partnerId: 'bay-cp', category: 'substance-use', granted: true })).statusCode).toBe(404);
    expect((await post(KEYS.admin, 'M1', { partnerId: 'bay-cp', category: 'mental', granted: true })).statusCode).toBe(400);
    expect((await post(KEYS.admin, 'M1', { partnerId: 'bay-cp', category: 'substance-use' })).statusCode).toBe(400);

    // Latest decision wins.
    await post(KEYS.admin, 'M2', {
      partnerId: 'harbor-cp',
      category: 'behavioral-health',
      granted: false,
      recordedAt: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(await roster.hasConsent('M2', 'harbor-cp', 'behavioral-health')).toBe(false);
    const m2 = (await get('/api/roster/members/M2')).json();
    expect(m2.consents).toEqual([
      expect.objectContaining({ partnerId: 'harbor-cp', category: 'behavioral-health', granted: false, source: 'api' }),
    ]);
  });

  it('publishes the roster routes in the OpenAPI document', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    for (const path of [
      '/api/roster/members',
      '/api/roster/members/{memberId}',
      '/api/roster/members/{memberId}/attributions',
      '/api/roster/members/{memberId}/consents',
      '/api/roster/imports',
      '/api/roster/imports/{id}',
      '/api/roster/diff-events',
      '/api/roster/unmatched',
    ]) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
  });

  it('is absent when the gateway has no roster', async () => {
    const bare = buildApi({
      config: makeConfig(),
      store,
      ingest: new FakeIngest(store),
      log: silentLog,
      metrics: createMetrics({ defaultMetrics: false }),
    });
    await bare.ready();
    try {
      expect((await bare.inject({ method: 'GET', url: '/api/roster/imports', headers: auth(KEYS.admin) })).statusCode).toBe(404);
    } finally {
      await bare.close();
    }
  });
});
