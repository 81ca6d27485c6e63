import { afterEach, describe, expect, it } from 'vitest';
import { buildApi } from '../../../src/api/app.js';
import { silentLog } from '../../../src/observability/log.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { auth, harness, type Harness, KEYS, killDelivery, seedMessage } from './fixtures.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('GET /health', () => {
  it('answers ok without touching the store or Redis', async () => {
    h = await harness();
    await h.store.close(); // even with the store gone
    const res = await h.app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
    expect(h.ingest.calls).toEqual([]);
    h.close = () => h!.app.close();
  });
});

describe('GET /ready', () => {
  it('is 200 when the store and Redis answer', async () => {
    h = await harness();
    const res = await h.app.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ready', store: 'up', redis: 'up' });
  });

  it('is 503 naming Redis when Redis is down, and says ingest still works', async () => {
    h = await harness();
    h.ingest.redis = false;
    const res = await h.app.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(503);
    const body = res.json();
    expect(body).toMatchObject({ status: 'unavailable', store: 'up', redis: 'down' });
    expect(body.detail).toMatch(/Redis is down: ingest still stores and acknowledges/);
  });

  it('treats a throwing or hanging Redis check as down', async () => {
    h = await harness({ readyTimeoutMs: 50 });
    h.ingest.redisUp = () => Promise.reject(new Error('ECONNREFUSED'));
    expect((await h.app.inject({ method: 'GET', url: '/ready' })).json().redis).toBe('down');
    h.ingest.redisUp = () => new Promise<boolean>(() => {});
    const res = await h.app.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(503);
    expect(res.json().redis).toBe('down');
  });

  it('is 503 naming the store when it is down', async () => {
    h = await harness();
    await h.store.close();
    const res = await h.app.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ store: 'down', redis: 'up' });
    expect(res.json().detail).toMatch(/message store is down/);
    h.close = () => h!.app.close();
  });
});

describe('GET /metrics', () => {
  it('exposes every carebridge series in Prometheus text format, without a key', async () => {
    h = await harness();
    const { id, deliveryIds } = await seedMessage(h.store, { controlId: 'M1', partnerId: 'acme-aco' }, [{ destination: 'cp-hook' }]);
    expect(id).toBeTruthy();
    await killDelivery(h.store, deliveryIds[0]);
    h.metrics.messagesReceived.inc({ source: 'http-in', outcome: 'accepted' });
    h.metrics.messagesRejected.inc({ source: 'http-in', reason_kind: 'parse' });
    h.metrics.duplicates.inc({ source: 'http-in' });
    h.metrics.deliveryAttempts.inc({ destination: 'cp-hook', outcome: 'fatal-error' });
    h.metrics.deadLetters.inc({ destination: 'cp-hook' });
    h.metrics.deliveryLatency.observe({ destination: 'aco-hook' }, 0.2);

    const res = await h.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.body;
    for (const line of [
      'carebridge_messages_received_total{source="http-in",outcome="accepted"} 1',
      'carebridge_messages_rejected_total{source="http-in",reason_kind="parse"} 1',
      'carebridge_duplicates_total{source="http-in"} 1',
      'carebridge_delivery_attempts_total{destination="cp-hook",outcome="fatal-error"} 1',
      'carebridge_dead_letters_total{destination="cp-hook"} 1',
      'carebridge_delivery_latency_seconds_count{destination="aco-hook"} 1',
      'carebridge_queue_depth{destination="aco-hook",state="waiting"} 3',
      'carebridge_queue_depth{destination="aco-hook",state="delayed"} 1',
      'carebridge_queue_depth{destination="aco-hook",state="active"} 2',
      'carebridge_queue_up 1',
      'carebridge_dead_letters_stored{destination="cp-hook"} 1',
    ]) {
      expect(text).toContain(line);
    }
    expect(text).toContain('# TYPE carebridge_ack_latency_seconds histogram');
  });

  it('observes the ACK latency of HTTP ingest per source', async () => {
    h = await harness({ storeBackedIngest: false });
    await h.app.inject({
      method: 'POST',
      url: '/hl7/v2',
      headers: { ...auth(KEYS.aco), 'content-type': 'application/hl7-v2' },
      payload: 'MSH|^~\\&|A',
    });
    const text = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toContain('carebridge_ack_latency_seconds_count{source="http-in"} 1');
  });

  it('drops queue depths (queue_up 0) when Redis is down, and still answers', async () => {
    h = await harness();
    h.ingest.redis = false;
    const res = await h.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('carebridge_queue_up 0');
    expect(res.body).not.toContain('carebridge_queue_depth{');
  });
});

describe('createMetrics', () => {
  it('turns process metrics on by default, on its own registry', async () => {
    const a = createMetrics();
    const b = createMetrics({ defaultMetrics: false });
    expect(await a.metrics()).toContain('process_cpu_user_seconds_total');
    expect(await b.metrics()).not.toContain('process_cpu_user_seconds_total');
    a.duplicates.inc({ source: 's' });
    expect(await b.metrics()).not.toContain('carebridge_duplicates_total{source="s"}');
  });

  it('reads each scrape source once per scrape and leaves out one that hangs', async () => {
    const m = createMetrics({ defaultMetrics: false, scrapeTimeoutMs: 30 });
    let statsCalls = 0;
    m.observe({
      queueDepths: () => new Promise(() => {}),
      storeStats: async () => {
        statsCalls++;
        return {
          messagesByStatus: { received: 0, processed: 0, filtered: 0, rejected: 0, failed: 0 },
          duplicates: 0,
          deliveriesByStatus: { pending: 0, delivered: 0, 'failed-retrying': 0, dead: 2, withheld: 0, cancelled: 0 },
          deadByDestination: { x: 2 },
          pendingByDestination: { x: 5 },
        };
      },
    });
    const text = await m.metrics();
    expect(statsCalls).toBe(1);
    expect(text).toContain('carebridge_queue_up 0');
    expect(text).toContain('carebridge_dead_letters_stored{destination="x"} 2');
    expect(text).toContain('carebridge_deliveries_pending{destination="x"} 5');
  });
});

describe('GET /openapi.json', () => {
  it('documents every route with its schemas, and the key on every secured one', async () => {
    h = await harness();
    // Routes are registered by plugins during ready(): build a fresh app and watch them arrive.
    const app = buildApi({
      config: h.config,
      store: h.store,
      ingest: h.ingest,
      log: silentLog,
      metrics: createMetrics({ defaultMetrics: false }),
    });
    const routes: Array<{ method: string; url: string }> = [];
    app.addHook('onRoute', (r) => {
      // The console's static files are not API (hidden from the document).
      if ((r.schema as { hide?: boolean } | undefined)?.hide) return;
      for (const method of [r.method].flat()) if (method !== 'HEAD') routes.push({ method: method.toLowerCase(), url: r.url });
    });
    await app.ready();
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    await app.close();

    expect(doc.openapi).toMatch(/^3\./);
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method} ${path}`),
    );
    const registered = routes.map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`);
    expect(registered.length).toBeGreaterThanOrEqual(12);
    expect(documented.sort()).toEqual(registered.sort());

    const open = new Set([
      'get /health',
      'get /ready',
      'get /metrics',
      'get /openapi.json',
      'post /console/session',
      'get /console/session',
      'post /console/session/sign-out',
    ]);
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, { security?: unknown; responses: object }>>)) {
      for (const [method, op] of Object.entries(ops)) {
        const name = `${method} ${path}`;
        expect(Object.keys(op.responses), name).not.toHaveLength(0);
        if (open.has(name)) expect(op.security, name).toBeUndefined();
        else expect(op.security, name).toEqual([{ bearerAuth: [] }, { apiKeyHeader: [] }]);
      }
    }
    expect(doc.paths['/api/messages'].get.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['controlId', 'identifier', 'sender', 'event', 'status', 'partner', 'from', 'to', 'limit', 'cursor']),
    );
    expect(Object.keys(doc.paths['/fhir'].post.requestBody.content)).toEqual(['application/fhir+json', 'application/json']);
    expect(doc.components.schemas.OperationOutcome).toBeDefined();
  });
});
