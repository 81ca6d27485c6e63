import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../../src/config/api-keys.js';
import { auth, harness, type Harness, KEYS, makeConfig, seedMessage } from './fixtures.js';

describe('API keys', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });
  afterAll(() => h.close());

  it('refuses a request without a key with 401 OperationOutcome and a Bearer challenge', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/messages' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(res.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login' }] });
  });

  it('refuses an unknown key with 401', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/messages', headers: auth('not-a-configured-key-123') });
    expect(res.statusCode).toBe(401);
    expect(res.json().issue[0].diagnostics).toBe('unknown API key');
  });

  it('accepts the key as a Bearer token or in X-API-Key', async () => {
    const bearer = await h.app.inject({ method: 'GET', url: '/api/messages', headers: auth(KEYS.admin) });
    const header = await h.app.inject({ method: 'GET', url: '/api/messages', headers: { 'x-api-key': KEYS.admin } });
    const lower = await h.app.inject({ method: 'GET', url: '/api/messages', headers: { authorization: `bearer ${KEYS.admin}` } });
    expect([bearer.statusCode, header.statusCode, lower.statusCode]).toEqual([200, 200, 200]);
  });

  it('does not accept a key in another scheme', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/messages', headers: { authorization: `Basic ${KEYS.admin}` } });
    expect(res.statusCode).toBe(401);
  });

  it('leaves /health, /ready, /metrics and /openapi.json open', async () => {
    for (const url of ['/health', '/ready', '/metrics', '/openapi.json']) {
      const res = await h.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
    }
  });

  it('checks the key before reading the body', async () => {
    // An unauthenticated caller gets 401, not 413: the body is never buffered.
    const res = await h.app.inject({
      method: 'POST',
      url: '/hl7/v2',
      headers: { 'content-type': 'application/hl7-v2' },
      payload: Buffer.alloc(h.config.server.http.bodyLimitBytes + 10, 0x41),
    });
    expect(res.statusCode).toBe(401);
    expect(h.ingest.calls.filter((c) => c.method === 'receiveHl7')).toHaveLength(0);
  });
});

describe('scrypt-hashed keys', () => {
  it('match (and keep matching from the cache)', async () => {
    const plain = 'a-human-chosen-key-for-scrypt';
    const config = makeConfig({ apiKeys: [{ id: 'ops', hash: hashApiKey(plain), partners: ['*'] }] });
    const h = await harness({ config });
    try {
      for (let i = 0; i < 2; i++) {
        const res = await h.app.inject({ method: 'GET', url: '/api/messages', headers: auth(plain) });
        expect(res.statusCode).toBe(200);
      }
    } finally {
      await h.close();
    }
  });
});

describe('partner scoping', () => {
  let h: Harness;
  let acoMsg: string;
  let cpMsg: string;
  let orphanMsg: string;
  beforeAll(async () => {
    h = await harness();
    acoMsg = (await seedMessage(h.store, { controlId: 'ACO-1', partnerId: 'acme-aco' })).id;
    cpMsg = (await seedMessage(h.store, { controlId: 'CP-1', partnerId: 'bay-cp' })).id;
    orphanMsg = (await seedMessage(h.store, { controlId: 'NONE-1', partnerId: null })).id;
  });
  afterAll(() => h.close());

  const search = async (key: string, query = '') => {
    const res = await h.app.inject({ method: 'GET', url: `/api/messages${query}`, headers: auth(key) });
    expect(res.statusCode).toBe(200);
    return (res.json().items as Array<{ controlId: string }>).map((m) => m.controlId).sort();
  };

  it('an admin key sees every message', async () => {
    expect(await search(KEYS.admin)).toEqual(['ACO-1', 'CP-1', 'NONE-1']);
  });

  it("a partner key sees only its partners' messages", async () => {
    expect(await search(KEYS.aco)).toEqual(['ACO-1']);
    expect(await search(KEYS.cp)).toEqual(['CP-1']);
    expect(await search(KEYS.both)).toEqual(['ACO-1', 'CP-1']);
  });

  it('asking for another partner by filter gives an empty page, not an error', async () => {
    expect(await search(KEYS.aco, '?partner=bay-cp')).toEqual([]);
  });

  it("another partner's message is a 404 on detail, exactly like a missing one", async () => {
    const other = await h.app.inject({ method: 'GET', url: `/api/messages/${cpMsg}`, headers: auth(KEYS.aco) });
    const missing = await h.app.inject({ method: 'GET', url: '/api/messages/01NOSUCHMESSAGE', headers: auth(KEYS.aco) });
    expect(other.statusCode).toBe(404);
    expect(other.json()).toEqual(missing.json());
    const own = await h.app.inject({ method: 'GET', url: `/api/messages/${acoMsg}`, headers: auth(KEYS.aco) });
    expect(own.statusCode).toBe(200);
  });

  it('a message without a partner is visible to admin keys only', async () => {
    const partner = await h.app.inject({ method: 'GET', url: `/api/messages/${orphanMsg}`, headers: auth(KEYS.both) });
    const admin = await h.app.inject({ method: 'GET', url: `/api/messages/${orphanMsg}`, headers: auth(KEYS.admin) });
    expect([partner.statusCode, admin.statusCode]).toEqual([404, 200]);
  });

  it("a partner key cannot replay another partner's message (404, the port is never called)", async () => {
    h.ingest.calls = [];
    const res = await h.app.inject({ method: 'POST', url: `/api/messages/${cpMsg}/replay`, headers: auth(KEYS.aco) });
    expect(res.statusCode).toBe(404);
    expect(h.ingest.calls).toEqual([]);
  });
});
