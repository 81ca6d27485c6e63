import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODE_SYSTEM } from '../../../src/errors/catalogue.js';
import { parseIdentifier } from '../../../src/api/routes/messages.js';
import { auth, harness, type Harness, KEYS, killDelivery, seedMessage } from './fixtures.js';

const T0 = Date.parse('2024-03-01T00:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000);

describe('GET /api/messages', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
    await seedMessage(h.store, {
      controlId: 'A',
      partnerId: 'acme-aco',
      receivedAt: at(0),
      identifiers: [{ system: 'urn:acme:mrn', value: 'MRN-1' }],
    });
    await seedMessage(h.store, {
      controlId: 'B',
      partnerId: 'acme-aco',
      receivedAt: at(10),
      triggerEvent: 'A03',
      identifiers: [{ system: 'urn:other:mrn', value: 'MRN-1' }],
    });
    await seedMessage(h.store, { controlId: 'C', partnerId: 'bay-cp', receivedAt: at(20), sender: 'CERNER^BAY' });
    await seedMessage(h.store, { controlId: 'D', partnerId: 'bay-cp', receivedAt: at(30), status: 'rejected', statusReason: 'bad PID' });
  });
  afterAll(() => h.close());

  const ids = async (query: string) => {
    const res = await h.app.inject({ method: 'GET', url: `/api/messages${query}`, headers: auth(KEYS.admin) });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json().items as Array<{ controlId: string }>).map((m) => m.controlId);
  };

  it('lists newest first with summary fields', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/messages', headers: auth(KEYS.admin) });
    const body = res.json();
    expect(body.items.map((m: { controlId: string }) => m.controlId)).toEqual(['D', 'C', 'B', 'A']);
    expect(body.next).toBeNull();
    expect(body.items[3]).toMatchObject({
      controlId: 'A',
      receivedAt: at(0).toISOString(),
      sourceKind: 'http',
      sourceName: 'http-in',
      partnerId: 'acme-aco',
      sender: 'EPIC^ACME',
      messageType: 'ADT',
      triggerEvent: 'A01',
      status: 'received',
      duplicateCount: 0,
      replayOf: null,
    });
    // Summaries never carry the payload.
    expect(body.items[3]).not.toHaveProperty('raw');
    expect(body.items[3]).not.toHaveProperty('dedupeKey');
  });

  it.each([
    ['?controlId=B', ['B']],
    ['?identifier=urn:acme:mrn|MRN-1', ['A']],
    ['?identifier=MRN-1', ['B', 'A']],
    ['?identifier=|MRN-1', ['B', 'A']],
    ['?sender=CERNER%5EBAY', ['C']],
    ['?event=A03', ['B']],
    ['?event=ADT%5EA01', ['D', 'C', 'A']],
    ['?status=rejected', ['D']],
    ['?partner=bay-cp', ['D', 'C']],
    [`?from=${at(10).toISOString()}&to=${at(30).toISOString()}`, ['C', 'B']],
    ['?partner=acme-aco&event=A01', ['A']],
  ])('filters %s', async (query, expected) => {
    expect(await ids(query)).toEqual(expected);
  });

  it('pages with next until null', async () => {
    const seen: string[] = [];
    let url = '/api/messages?limit=3';
    for (;;) {
      const res = await h.app.inject({ method: 'GET', url, headers: auth(KEYS.admin) });
      const body = res.json();
      seen.push(...body.items.map((m: { controlId: string }) => m.controlId));
      if (!body.next) break;
      url = `/api/messages?limit=3&cursor=${encodeURIComponent(body.next)}`;
    }
    expect(seen).toEqual(['D', 'C', 'B', 'A']);
  });

  it.each([['?limit=0'], ['?limit=1001'], ['?status=lost'], ['?from=yesterday'], ['?cursor=not-a-cursor']])(
    'refuses %s with 400 OperationOutcome',
    async (query) => {
      const res = await h.app.inject({ method: 'GET', url: `/api/messages${query}`, headers: auth(KEYS.admin) });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'invalid' }] });
    },
  );
});

describe('parseIdentifier', () => {
  it('reads FHIR token syntax', () => {
    expect(parseIdentifier('urn:a|1')).toEqual({ system: 'urn:a', value: '1' });
    expect(parseIdentifier('1')).toEqual({ value: '1' });
    expect(parseIdentifier('|1')).toEqual({ value: '1' });
    expect(parseIdentifier('urn:a|1|2')).toEqual({ system: 'urn:a', value: '1|2' });
  });
});

describe('GET /api/messages/:id (lineage)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });
  afterAll(() => h.close());

  it('shows raw, FHIR, receipts, each delivery with its attempts, and replays', async () => {
    const { id, deliveryIds } = await seedMessage(
      h.store,
      { controlId: 'L1', partnerId: 'acme-aco', identifiers: [{ system: 'urn:acme:mrn', value: 'MRN-9' }] },
      [{ destination: 'aco-hook' }, { destination: 'cp-hook' }],
    );
    await h.store.recordAttempt(deliveryIds[0], {
      startedAt: at(1),
      durationMs: 30,
      outcome: 'retryable-error',
      httpStatus: 503,
      error: 'HTTP 503',
    });
    await h.store.recordAttempt(deliveryIds[0], { startedAt: at(2), durationMs: 20, outcome: 'success', httpStatus: 200 });
    await h.store.markDelivered(deliveryIds[0], at(2));
    await killDelivery(h.store, deliveryIds[1]);
    const replay = await h.store.createReplay(id);

    const res = await h.app.inject({ method: 'GET', url: `/api/messages/${id}`, headers: auth(KEYS.aco) });
    expect(res.statusCode).toBe(200);
    const m = res.json();
    expect(m).toMatchObject({
      id,
      controlId: 'L1',
      status: 'processed',
      rawEncoding: 'utf-8',
      fhir: { resourceType: 'Bundle', type: 'message' },
      identifiers: [{ system: 'urn:acme:mrn', value: 'MRN-9' }],
      receipts: [{ duplicate: false, sourceKind: 'http', sourceName: 'http-in' }],
      replays: [{ id: replay.id, replayOf: id, sourceKind: 'replay' }],
    });
    expect(m.raw).toMatch(/^MSH\|\^~\\&\|EPIC\|ACME\|.*\rPID\|/);
    expect(m.deliveries).toHaveLength(2);
    const [delivered, dead] = m.deliveries;
    expect(delivered).toMatchObject({
      id: deliveryIds[0],
      destination: 'aco-hook',
      status: 'delivered',
      attempts: 2,
      payload: '{"hello":"world"}',
    });
    expect(delivered.attemptLog.map((a: { outcome: string; httpStatus: number }) => [a.outcome, a.httpStatus])).toEqual([
      ['retryable-error', 503],
      ['success', 200],
    ]);
    expect(delivered.deliveredAt).toBe(at(2).toISOString());
    expect(dead).toMatchObject({ destination: 'cp-hook', status: 'dead', lastError: 'gone', attempts: 1 });
  });

  it('gives raw bytes that are not UTF-8 as base64, losslessly', async () => {
    const raw = Buffer.concat([Buffer.from('MSH|^~\\&|X|Y\rPID|1||||M'), Buffer.from([0xfc, 0x6c, 0x6c, 0x65, 0x72])]);
    const { id } = await seedMessage(h.store, { controlId: 'L2', partnerId: 'acme-aco', raw });
    const m = (await h.app.inject({ method: 'GET', url: `/api/messages/${id}`, headers: auth(KEYS.admin) })).json();
    expect(m.rawEncoding).toBe('base64');
    expect(Buffer.from(m.raw, 'base64').equals(raw)).toBe(true);
    expect(m.fhir).toBeNull();
  });

  it('answers 404 OperationOutcome for an unknown id', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/messages/nope', headers: auth(KEYS.admin) });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'error',
          code: 'not-found',
          details: { coding: [{ system: ERROR_CODE_SYSTEM, code: 'CB_NOT_FOUND' }] },
          diagnostics: 'message not found',
        },
      ],
    });
  });
});

describe('POST /api/messages/:id/replay', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });
  afterAll(() => h.close());

  it('calls the port with the key id as actor, answers 202 {id, replayOf} and audits', async () => {
    const { id } = await seedMessage(h.store, { controlId: 'R1', partnerId: 'acme-aco' });
    const res = await h.app.inject({ method: 'POST', url: `/api/messages/${id}/replay`, headers: auth(KEYS.aco) });
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body.replayOf).toBe(id);
    expect(body.id).not.toBe(id);
    expect(res.headers.location).toBe(`/api/messages/${body.id}`);
    expect(h.ingest.calls.filter((c) => c.method === 'replay')).toEqual([{ method: 'replay', args: [id, 'aco-key'] }]);

    const audit = await h.store.listAudit({ subjectType: 'message', subjectId: id });
    expect(audit.items).toHaveLength(1);
    expect(audit.items[0]).toMatchObject({ actor: 'aco-key', action: 'api.message.replay', detail: { replayId: body.id } });

    // The replay is part of the original's lineage.
    const lineage = (await h.app.inject({ method: 'GET', url: `/api/messages/${id}`, headers: auth(KEYS.aco) })).json();
    expect(lineage.replays.map((r: { id: string }) => r.id)).toEqual([body.id]);
  });

  it('answers 404 for an unknown message without calling the port', async () => {
    h.ingest.calls = [];
    const res = await h.app.inject({ method: 'POST', url: '/api/messages/nope/replay', headers: auth(KEYS.admin) });
    expect(res.statusCode).toBe(404);
    expect(h.ingest.calls.filter((c) => c.method === 'replay')).toEqual([]);
  });
});
