import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { histogramQuantile } from '../../../src/console/traffic-sampler.js';
import { configView } from '../../../src/console/config-view.js';
import { eventKind } from '../../../src/console/worklist.js';
import { auth, harness, type Harness, KEYS, makeConfig, seedMessage } from '../api/fixtures.js';

const OPERATOR_KEY = 'operator-key-0123456789abcdef';
const sha = (plain: string) => `sha256:${createHash('sha256').update(plain).digest('hex')}`;

function config() {
  const base = makeConfig();
  return makeConfig({
    apiKeys: [
      ...base.apiKeys.map((k) => ({ id: k.id, hash: k.hash, partners: k.partners })),
      { id: 'operator', hash: sha(OPERATOR_KEY), partners: ['*'], role: 'operator' },
    ],
  });
}

describe('console API', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness({ config: config() });
  });
  afterAll(() => h.close());

  const signIn = async (key: string) => {
    const res = await h.app.inject({ method: 'POST', url: '/console/session', payload: { key } });
    const cookie = String(res.headers['set-cookie']).split(';')[0]!;
    return { res, cookie, csrf: res.json().csrf as string };
  };

  it('signs in with a key: an httpOnly SameSite=Strict cookie, the role and a CSRF token', async () => {
    const { res, cookie, csrf } = await signIn(KEYS.cp);
    expect(res.statusCode).toBe(200);
    expect(res.headers['set-cookie']).toMatch(/^carebridge_session=[\w-]+; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(res.json()).toMatchObject({ keyId: 'cp-key', role: 'partner', partners: ['bay-cp'], carePartners: ['bay-cp'] });
    expect(csrf.length).toBeGreaterThan(20);
    const session = await h.app.inject({ method: 'GET', url: '/console/session', headers: { cookie } });
    expect(session.json().csrf).toBe(csrf);
    const bad = await h.app.inject({ method: 'POST', url: '/console/session', payload: { key: 'nope-not-a-key-0000' } });
    expect(bad.statusCode).toBe(401);
    expect(bad.headers['set-cookie']).toBeUndefined();
  });

  it('the session cookie stands in for the key on GET; every action needs the CSRF token', async () => {
    const { cookie, csrf } = await signIn(KEYS.admin);
    const { id } = await seedMessage(h.store, { controlId: 'CSRF-1' });
    expect((await h.app.inject({ method: 'GET', url: '/api/messages', headers: { cookie } })).statusCode).toBe(200);
    const without = await h.app.inject({ method: 'POST', url: `/api/messages/${id}/replay`, headers: { cookie } });
    expect(without.statusCode).toBe(403);
    const wrong = await h.app.inject({ method: 'POST', url: `/api/messages/${id}/replay`, headers: { cookie, 'x-csrf-token': 'guess' } });
    expect(wrong.statusCode).toBe(403);
    const right = await h.app.inject({ method: 'POST', url: `/api/messages/${id}/replay`, headers: { cookie, 'x-csrf-token': csrf } });
    expect(right.statusCode).toBe(202);
  });

  it('signing out ends the session on the server (the old cookie no longer works)', async () => {
    const { cookie, csrf } = await signIn(KEYS.admin);
    expect((await h.app.inject({ method: 'POST', url: '/console/session/sign-out', headers: { cookie } })).statusCode).toBe(403);
    const out = await h.app.inject({ method: 'POST', url: '/console/session/sign-out', headers: { cookie, 'x-csrf-token': csrf } });
    expect(out.statusCode).toBe(204);
    expect(out.headers['set-cookie']).toMatch(/Max-Age=0/);
    expect((await h.app.inject({ method: 'GET', url: '/api/messages', headers: { cookie } })).statusCode).toBe(401);
  });

  it('opening a message is audited (who, what, when)', async () => {
    const { id } = await seedMessage(h.store, { controlId: 'AUDIT-1' });
    expect((await h.app.inject({ method: 'GET', url: `/api/messages/${id}`, headers: auth(KEYS.admin) })).statusCode).toBe(200);
    const audit = await h.store.listAudit({ subjectType: 'message', subjectId: id });
    expect(audit.items.map((a) => [a.action, a.actor])).toEqual([['api.message.read', 'admin']]);
    expect(audit.items[0]!.at).toBeInstanceOf(Date);
  });

  it('searches by POST body (no identifier in a URL), scoped like GET /api/messages', async () => {
    await seedMessage(h.store, {
      controlId: 'POST-SEARCH-1',
      partnerId: 'acme-aco',
      identifiers: [{ system: 'urn:mrn', value: 'MRN-777' }],
    });
    const admin = await h.app.inject({
      method: 'POST',
      url: '/api/console/messages/search',
      headers: auth(KEYS.admin),
      payload: { identifier: 'MRN-777' },
    });
    expect(admin.json().items.map((m: { controlId: string }) => m.controlId)).toEqual(['POST-SEARCH-1']);
    const cp = await h.app.inject({
      method: 'POST',
      url: '/api/console/messages/search',
      headers: auth(KEYS.cp),
      payload: { identifier: 'MRN-777' },
    });
    expect(cp.json().items).toEqual([]);
  });

  it('operator pages: admin and operator keys only; an operator replays but never acts for a partner', async () => {
    for (const key of [KEYS.admin, OPERATOR_KEY]) {
      expect((await h.app.inject({ method: 'GET', url: '/api/console/overview', headers: auth(key) })).statusCode).toBe(200);
      expect((await h.app.inject({ method: 'GET', url: '/api/console/config', headers: auth(key) })).statusCode).toBe(200);
    }
    expect((await h.app.inject({ method: 'GET', url: '/api/console/overview', headers: auth(KEYS.cp) })).statusCode).toBe(403);
    const { id } = await seedMessage(h.store, { controlId: 'OPS-1' });
    expect((await h.app.inject({ method: 'POST', url: `/api/messages/${id}/replay`, headers: auth(OPERATOR_KEY) })).statusCode).toBe(202);
    const fhir = await h.app.inject({ method: 'POST', url: '/fhir', headers: auth(OPERATOR_KEY), payload: { resourceType: 'Patient' } });
    expect(fhir.statusCode).toBe(403);
    const ingest = await h.app.inject({
      method: 'POST',
      url: '/hl7/v2',
      headers: { ...auth(OPERATOR_KEY), 'content-type': 'application/hl7-v2' },
      payload: 'MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5.1',
    });
    expect(ingest.statusCode).toBe(403);
  });

  it('the overview has queue depths, dead letters and health per destination', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/console/overview', headers: auth(KEYS.admin) });
    const body = res.json();
    expect(body.health).toEqual({ store: 'up', redis: 'up', storeKind: 'sqlite' });
    expect(body.destinations.find((d: { id: string }) => d.id === 'aco-hook')).toMatchObject({
      queued: 3,
      retrying: 1,
      inFlight: 2,
      dead: 0,
      partner: 'acme-aco',
    });
    expect(Object.keys(body.traffic.sources)).toContain('http-in');
  });

  it('the configuration view leaves secrets out', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/console/config', headers: auth(KEYS.admin) });
    const text = res.body;
    expect(res.json().destinations[0]).toMatchObject({ id: 'aco-hook', secret: '(set)' });
    expect(text).not.toMatch(/"secret":"s"/);
    expect(text).not.toContain('sha256:');
  });

  it('worklist: a partner key gets its own partner, another partner is refused', async () => {
    const own = await h.app.inject({ method: 'GET', url: '/api/worklist', headers: auth(KEYS.cp) });
    expect(own.statusCode).toBe(200);
    expect(own.json()).toEqual({ partner: 'bay-cp', items: [], next: null });
    expect((await h.app.inject({ method: 'GET', url: '/api/worklist?partner=acme-aco', headers: auth(KEYS.cp) })).statusCode).toBe(403);
    expect((await h.app.inject({ method: 'GET', url: '/api/worklist', headers: auth(KEYS.admin) })).statusCode).toBe(400);
    const missing = await h.app.inject({ method: 'POST', url: '/api/worklist/nope/follow-up', headers: auth(KEYS.cp), payload: {} });
    expect(missing.statusCode).toBe(404);
  });
});

describe('console helpers', () => {
  it('classifies care-team events', () => {
    expect(eventKind('A03', undefined)).toBe('discharge');
    expect(eventKind('A01', { resourceType: 'Encounter', status: 'in-progress', class: { code: 'EMER' } })).toBe('ed-visit');
    expect(eventKind('A01', { resourceType: 'Encounter', status: 'in-progress', class: { code: 'IMP' } })).toBe('admit');
    expect(eventKind('A04', { resourceType: 'Encounter', status: 'in-progress', class: { code: 'AMB' } })).toBeUndefined();
    expect(eventKind('A02', undefined)).toBe('transfer');
    expect(eventKind('A08', undefined)).toBeUndefined();
  });

  it('takes quantiles from cumulative histogram buckets like histogram_quantile', () => {
    const buckets = [
      { le: 0.1, count: 50 },
      { le: 1, count: 90 },
      { le: 10, count: 100 },
      { le: Infinity, count: 100 },
    ];
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.1);
    expect(histogramQuantile(0.95, buckets)).toBeCloseTo(5.5);
    expect(histogramQuantile(0.5, [{ le: Infinity, count: 0 }])).toBeNull();
  });

  it('shows URLs without their credentials or query', () => {
    const view = configView(
      makeConfig({
        destinations: [{ id: 'd', type: 'webhook', url: 'https://user:pw@example.org/hook?token=abc', secret: 's' }],
      }),
    );
    expect(view.destinations[0]).toMatchObject({ url: 'https://example.org/hook', secret: '(set)' });
  });
});
