import { createServer } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deliverWebhook } from '../../../src/delivery/deliverers/webhook.js';
import { findFreePort } from '../../../src/delivery/free-port.js';
import type { WebhookDestination } from '../../../src/delivery/types.js';
import { closeServer, listenOnLoopback } from '../../helpers/fhir-stub.js';
import { startWebhookStub, type WebhookStub } from '../../helpers/webhook-stub.js';

const secret = 'test-secret-0123456789';
let stub: WebhookStub;
let destination: WebhookDestination;
const ctx = { deliveryId: 'delivery-42', attempt: 1 };
const payload = { resourceType: 'Bundle', type: 'message', id: 'b1' };

beforeAll(async () => {
  stub = await startWebhookStub({ secret });
  destination = { id: 'hook', type: 'webhook', url: stub.url, secret, timeoutMs: 10_000 };
});
beforeEach(() => {
  stub.failures.clear();
});
afterAll(async () => {
  await stub.close();
});

describe('webhook deliverer', () => {
  it('posts signed JSON with the delivery id as Idempotency-Key', async () => {
    const before = stub.accepted.length;
    const outcome = await deliverWebhook(payload, destination, ctx);
    expect(outcome).toMatchObject({ kind: 'delivered', status: 200 });
    const received = stub.accepted.slice(before);
    expect(received).toHaveLength(1);
    expect(received[0].idempotencyKey).toBe('delivery-42');
    expect(received[0].body).toEqual(payload);
    // Standard Webhooks headers; the id is the delivery id, as the Idempotency-Key.
    expect(received[0].headers['webhook-id']).toBe('delivery-42');
    expect(received[0].headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(received[0].headers['webhook-timestamp']).toMatch(/^\d+$/);
  });

  it('sends a string payload as already-serialized JSON', async () => {
    const before = stub.accepted.length;
    await deliverWebhook('{"a":1}', destination, ctx);
    expect(stub.accepted[before].body).toEqual({ a: 1 });
  });

  it('is refused by a receiver holding another secret (fatal 401)', async () => {
    const outcome = await deliverWebhook(payload, { ...destination, secret: 'wrong' }, ctx);
    expect(outcome).toMatchObject({ kind: 'fatal', status: 401 });
    expect(stub.rejectedSignatures.at(-1)).toBe('mismatch');
  });

  it('is refused when the timestamp is outside the receiver tolerance (replay)', async () => {
    const tenMinutesAgo = () => Date.now() - 600_000;
    const outcome = await deliverWebhook(payload, destination, ctx, tenMinutesAgo);
    expect(outcome).toMatchObject({ kind: 'fatal', status: 401 });
    expect(stub.rejectedSignatures.at(-1)).toBe('stale');
  });

  it.each([500, 502, 503, 408])('retries HTTP %i', async (status) => {
    stub.failNext(1, { kind: 'status', status });
    expect(await deliverWebhook(payload, destination, ctx)).toMatchObject({ kind: 'retry', status, error: `HTTP ${status}` });
  });

  it('retries 429 and passes Retry-After on', async () => {
    stub.failNext(1, { kind: 'throttle', retryAfterSec: 7 });
    expect(await deliverWebhook(payload, destination, ctx)).toMatchObject({ kind: 'retry', status: 429, retryAfterMs: 7000 });
  });

  it('passes Retry-After on for 503 too', async () => {
    stub.failNext(1, { kind: 'status', status: 503, headers: { 'retry-after': '3' } });
    expect(await deliverWebhook(payload, destination, ctx)).toMatchObject({ kind: 'retry', status: 503, retryAfterMs: 3000 });
  });

  it.each([400, 403, 404, 410, 422])('does not retry HTTP %i', async (status) => {
    stub.failNext(1, { kind: 'status', status });
    expect(await deliverWebhook(payload, destination, ctx)).toMatchObject({ kind: 'fatal', status });
  });

  it('retries a timeout', async () => {
    stub.failNext(1, { kind: 'hang' });
    // Only here a short timeout: a loaded machine must not time out the other tests' requests.
    expect(await deliverWebhook(payload, { ...destination, timeoutMs: 300 }, ctx)).toMatchObject({
      kind: 'retry',
      error: 'timeout after 300 ms',
    });
  });

  it('retries a connection reset', async () => {
    stub.failNext(1, { kind: 'reset' });
    const outcome = await deliverWebhook(payload, destination, ctx);
    expect(outcome.kind).toBe('retry');
    expect(outcome.error).toMatch(/connection reset|network error/);
  });

  it('retries a refused connection', async () => {
    const port = await findFreePort();
    const outcome = await deliverWebhook(payload, { ...destination, url: `http://127.0.0.1:${port}/hook` }, ctx);
    expect(outcome).toMatchObject({ kind: 'retry', error: 'connection refused' });
  });

  it('does not follow redirects', async () => {
    const redirecting = createServer((_req, res) => {
      res.writeHead(302, { location: stub.url });
      res.end();
    });
    const port = await listenOnLoopback(redirecting);
    try {
      const outcome = await deliverWebhook(payload, { ...destination, url: `http://127.0.0.1:${port}/` }, ctx);
      expect(outcome).toMatchObject({ kind: 'fatal', status: 302 });
    } finally {
      await closeServer(redirecting);
    }
  });
});
