import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ERROR_CODE_SYSTEM } from '../../../src/errors/catalogue.js';
import { adt, auth, harness, type Harness, KEYS, makeConfig } from './fixtures.js';

const ACK_AA = 'MSH|^~\\&|CB|CB|EPIC|ACME|20240101120001||ACK^A01^ACK|ACKC1|P|2.5.1\rMSA|AA|C1\r';
const ACK_AE =
  'MSH|^~\\&|CB|CB|EPIC|ACME|20240101120001||ACK^A01^ACK|ACKC1|P|2.5.1\rMSA|AE|C1|Required field missing\rERR||PID^1^3|101^Required field missing^HL70357|E\r';

describe('POST /hl7/v2', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness({ storeBackedIngest: false });
  });
  afterAll(() => h.close());
  beforeEach(() => {
    h.ingest.calls = [];
    h.ingest.hl7Result = { ack: ACK_AA, outcome: 'accepted', messageIds: ['msg-1'], httpStatus: 200 };
  });

  const post = (headers: Record<string, string>, payload: string | Buffer, query = '') =>
    h.app.inject({ method: 'POST', url: `/hl7/v2${query}`, headers, payload });

  it.each([
    'application/hl7-v2',
    'application/hl7-v2; charset=utf-8',
    'x-application/hl7-v2+er7',
    'text/plain',
    'text/plain; charset=ISO-8859-1',
  ])('takes %s as raw bytes and answers the ACK as application/hl7-v2', async (type) => {
    const body = Buffer.from(adt('C1'), 'latin1');
    const res = await post({ ...auth(KEYS.aco), 'content-type': type }, body);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/hl7-v2');
    expect(res.body).toBe(ACK_AA);
    expect(res.headers.location).toBe('/api/messages/msg-1');
    const call = h.ingest.calls.find((c) => c.method === 'receiveHl7');
    expect(Buffer.isBuffer(call?.args[0])).toBe(true);
    expect((call?.args[0] as Buffer).equals(body)).toBe(true);
  });

  it('passes a rejection through: 400 with the AE ACK', async () => {
    h.ingest.hl7Result = { ack: ACK_AE, outcome: 'rejected', messageIds: ['msg-2'], httpStatus: 400 };
    const res = await post({ ...auth(KEYS.aco), 'content-type': 'application/hl7-v2' }, adt('C1'));
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toBe('application/hl7-v2');
    expect(res.body).toBe(ACK_AE);
  });

  it('passes a duplicate through: 200 with its ACK', async () => {
    h.ingest.hl7Result = { ack: ACK_AA, outcome: 'duplicate', messageIds: ['msg-1'], httpStatus: 200 };
    const res = await post({ ...auth(KEYS.aco), 'content-type': 'application/hl7-v2' }, adt('C1'));
    expect([res.statusCode, res.body]).toEqual([200, ACK_AA]);
  });

  it('answers 503 OperationOutcome (no ACK) when the store is unavailable', async () => {
    h.ingest.hl7Result = { ack: '', outcome: 'unavailable', messageIds: [], httpStatus: 503 };
    const res = await post({ ...auth(KEYS.aco), 'content-type': 'application/hl7-v2' }, adt('C1'));
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'transient' }] });
    expect(res.headers.location).toBeUndefined();
  });

  it('stamps the partner of a single-partner key and names the HTTP source', async () => {
    await post({ ...auth(KEYS.aco), 'content-type': 'application/hl7-v2' }, adt('C1'));
    expect(h.ingest.calls[0].args[1]).toEqual({ sourceName: 'http-in', partnerId: 'acme-aco', remoteAddress: '127.0.0.1' });
  });

  it('makes a multi-partner key say which partner posts', async () => {
    const missing = await post({ ...auth(KEYS.both), 'content-type': 'application/hl7-v2' }, adt('C1'));
    expect(missing.statusCode).toBe(400);
    expect(missing.json().issue[0].diagnostics).toMatch(/\?partner=/);
    const named = await post({ ...auth(KEYS.both), 'content-type': 'application/hl7-v2' }, adt('C1'), '?partner=bay-cp');
    expect(named.statusCode).toBe(200);
    expect(h.ingest.calls).toHaveLength(1);
    expect(h.ingest.calls[0].args[1]).toMatchObject({ partnerId: 'bay-cp' });
  });

  it('refuses a partner key posting for another partner', async () => {
    const res = await post({ ...auth(KEYS.aco), 'content-type': 'application/hl7-v2' }, adt('C1'), '?partner=bay-cp');
    expect(res.statusCode).toBe(403);
    expect(h.ingest.calls).toHaveLength(0);
  });

  it('lets an admin key post with or without a partner (the inbox then resolves it from MSH-3^MSH-4)', async () => {
    await post({ ...auth(KEYS.admin), 'content-type': 'application/hl7-v2' }, adt('C1'));
    await post({ ...auth(KEYS.admin), 'content-type': 'application/hl7-v2' }, adt('C1'), '?partner=acme-aco');
    expect(h.ingest.calls.map((c) => (c.args[1] as { partnerId?: string }).partnerId)).toEqual([undefined, 'acme-aco']);
    const unknown = await post({ ...auth(KEYS.admin), 'content-type': 'application/hl7-v2' }, adt('C1'), '?partner=nobody');
    expect(unknown.statusCode).toBe(400);
  });

  it('refuses JSON with 415 and an empty body with 400', async () => {
    const json = await post({ ...auth(KEYS.aco), 'content-type': 'application/json' }, '{"a":1}');
    expect(json.statusCode).toBe(415);
    expect(json.json().issue[0].code).toBe('not-supported');
    const empty = await post({ ...auth(KEYS.aco), 'content-type': 'application/hl7-v2' }, '');
    expect(empty.statusCode).toBe(400);
    expect(h.ingest.calls).toHaveLength(0);
  });
});

describe('POST /fhir', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness({ storeBackedIngest: false });
  });
  afterAll(() => h.close());
  beforeEach(() => {
    h.ingest.calls = [];
  });

  const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { resourceType: 'Patient', id: 'p1' } }] };
  const post = (type: string, payload: unknown, key: string = KEYS.aco) =>
    h.app.inject({
      method: 'POST',
      url: '/fhir',
      headers: { ...auth(key), 'content-type': type },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });

  it.each(['application/fhir+json', 'application/fhir+json; fhirVersion=4.0', 'application/json'])(
    'takes %s and answers 201 OperationOutcome with Location',
    async (type) => {
      h.ingest.fhirResult = { outcome: 'accepted', messageId: 'fm-1', httpStatus: 201 };
      const res = await post(type, bundle);
      expect(res.statusCode).toBe(201);
      expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
      expect(res.headers.location).toBe('/api/messages/fm-1');
      expect(res.json()).toEqual({
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'information', code: 'informational', diagnostics: 'accepted as message fm-1' }],
      });
      expect(h.ingest.calls).toEqual([{ method: 'receiveFhir', args: [bundle, { sourceName: 'http-in', partnerId: 'acme-aco' }] }]);
    },
  );

  it('answers a duplicate with 200 naming the original', async () => {
    h.ingest.fhirResult = { outcome: 'duplicate', messageId: 'fm-1', httpStatus: 200 };
    const res = await post('application/fhir+json', bundle);
    expect(res.statusCode).toBe(200);
    expect(res.json().issue[0]).toMatchObject({ code: 'duplicate', diagnostics: 'already received as message fm-1' });
  });

  it('answers a rejection with 400 and one error issue per reason', async () => {
    h.ingest.fhirResult = {
      outcome: 'rejected',
      messageId: 'fm-2',
      httpStatus: 400,
      issues: ['Patient.birthDate: invalid date', 'no identifier system'],
    };
    const res = await post('application/fhir+json', bundle);
    expect(res.statusCode).toBe(400);
    expect(res.json().issue).toEqual([
      { severity: 'error', code: 'invalid', diagnostics: 'Patient.birthDate: invalid date' },
      { severity: 'error', code: 'invalid', diagnostics: 'no identifier system' },
      { severity: 'information', code: 'informational', diagnostics: 'stored as rejected message fm-2' },
    ]);
  });

  it('answers 503 when the store is unavailable', async () => {
    h.ingest.fhirResult = { outcome: 'unavailable', httpStatus: 503 };
    const res = await post('application/fhir+json', bundle);
    expect(res.statusCode).toBe(503);
    expect(res.json().issue[0].code).toBe('transient');
  });

  it('refuses broken JSON without quoting it back', async () => {
    const res = await post('application/fhir+json', '{"resourceType":"Patient","name":[{"family":"SECRETNAME"');
    expect(res.statusCode).toBe(400);
    expect(res.body).not.toContain('SECRETNAME');
    expect(res.json().issue[0]).toMatchObject({ code: 'invalid', diagnostics: 'request body is not valid JSON' });
    expect(h.ingest.calls).toHaveLength(0);
  });

  it.each([
    ['no resourceType', { type: 'transaction' }],
    ['an array', [{ resourceType: 'Patient' }]],
    ['an empty resourceType', { resourceType: '' }],
  ])('refuses %s with 400', async (_name, body) => {
    const res = await post('application/fhir+json', body);
    expect(res.statusCode).toBe(400);
    expect(h.ingest.calls).toHaveLength(0);
  });

  it('refuses HL7 text with 415', async () => {
    const res = await post('application/hl7-v2', adt('C1'));
    expect(res.statusCode).toBe(415);
  });
});

describe('limits', () => {
  it('answers 413 OperationOutcome over server.http.bodyLimitBytes, on both ingest routes', async () => {
    const h = await harness({ config: makeConfig({ server: { http: { bodyLimitBytes: 2048 } } }), storeBackedIngest: false });
    try {
      const big = `${adt('C1')}\rNTE|1||${'x'.repeat(4096)}`;
      const hl7 = await h.app.inject({
        method: 'POST',
        url: '/hl7/v2',
        headers: { ...auth(KEYS.aco), 'content-type': 'application/hl7-v2' },
        payload: big,
      });
      expect(hl7.statusCode).toBe(413);
      expect(hl7.json()).toEqual({
        resourceType: 'OperationOutcome',
        issue: [
          {
            severity: 'error',
            code: 'too-long',
            details: { coding: [{ system: ERROR_CODE_SYSTEM, code: 'CB_BODY_TOO_LARGE' }] },
            diagnostics: 'request body is larger than the limit of 2048 bytes',
          },
        ],
      });
      const fhir = await h.app.inject({
        method: 'POST',
        url: '/fhir',
        headers: { ...auth(KEYS.aco), 'content-type': 'application/fhir+json' },
        payload: JSON.stringify({ resourceType: 'Patient', text: 'x'.repeat(4096) }),
      });
      expect(fhir.statusCode).toBe(413);
      const small = await h.app.inject({
        method: 'POST',
        url: '/hl7/v2',
        headers: { ...auth(KEYS.aco), 'content-type': 'application/hl7-v2' },
        payload: adt('C1'),
      });
      expect(small.statusCode).toBe(200);
      expect(h.ingest.calls.filter((c) => c.method === 'receiveHl7')).toHaveLength(1);
    } finally {
      await h.close();
    }
  });

  it('answers 429 with Retry-After past server.http.rateLimit, per client, leaving /health alone', async () => {
    // A long window: the test never depends on timing.
    const h = await harness({
      config: makeConfig({ server: { http: { rateLimit: { max: 3, timeWindowMs: 600_000 } } } }),
      storeBackedIngest: false,
    });
    try {
      const send = () =>
        h.app.inject({
          method: 'POST',
          url: '/hl7/v2',
          headers: { ...auth(KEYS.aco), 'content-type': 'application/hl7-v2' },
          payload: adt('C1'),
        });
      for (let i = 0; i < 3; i++) expect((await send()).statusCode).toBe(200);
      const limited = await send();
      expect(limited.statusCode).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(limited.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'throttled' }] });
      // The budget covers the API and unauthenticated guesses too, so key guessing is throttled.
      const api = await h.app.inject({ method: 'GET', url: '/api/messages', headers: auth('guess-guess-guess-guess') });
      expect(api.statusCode).toBe(429);
      // Another client has its own budget.
      const other = await h.app.inject({
        method: 'POST',
        url: '/hl7/v2',
        remoteAddress: '127.0.0.2',
        headers: { ...auth(KEYS.aco), 'content-type': 'application/hl7-v2' },
        payload: adt('C1'),
      });
      expect(other.statusCode).toBe(200);
      expect((await h.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
      expect(h.ingest.calls.filter((c) => c.method === 'receiveHl7')).toHaveLength(4);
    } finally {
      await h.close();
    }
  });

  it('answers 404 OperationOutcome when no HTTP source is configured', async () => {
    const h = await harness({ config: makeConfig({ sources: [] }), storeBackedIngest: false });
    try {
      const res = await h.app.inject({
        method: 'POST',
        url: '/hl7/v2',
        headers: { ...auth(KEYS.admin), 'content-type': 'application/hl7-v2' },
        payload: adt('C1'),
      });
      expect(res.statusCode).toBe(404);
      expect(res.json().issue[0]).toMatchObject({ code: 'not-supported' });
    } finally {
      await h.close();
    }
  });

  it("stamps the source's own partner, and refuses other partners' keys on it", async () => {
    const h = await harness({
      config: makeConfig({ sources: [{ id: 'aco-http', type: 'http', partner: 'acme-aco' }] }),
      storeBackedIngest: false,
    });
    try {
      const send = (key: string) =>
        h.app.inject({
          method: 'POST',
          url: '/hl7/v2',
          headers: { ...auth(key), 'content-type': 'application/hl7-v2' },
          payload: adt('C1'),
        });
      expect((await send(KEYS.admin)).statusCode).toBe(200);
      expect((await send(KEYS.both)).statusCode).toBe(200);
      expect((await send(KEYS.cp)).statusCode).toBe(403);
      expect(h.ingest.calls.map((c) => c.args[1])).toEqual([
        { sourceName: 'aco-http', partnerId: 'acme-aco', remoteAddress: '127.0.0.1' },
        { sourceName: 'aco-http', partnerId: 'acme-aco', remoteAddress: '127.0.0.1' },
      ]);
    } finally {
      await h.close();
    }
  });
});
