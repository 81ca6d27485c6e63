/**
 * Queues + deliverers + stubs together: real Redis, real HTTP, injected failures. This is the
 * shape the gateway wires (its processor loads the payload from the store instead of a Map).
 */
import type { Bundle, FhirResource } from 'fhir/r4';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDeliverer } from '../../../src/delivery/deliverers/index.js';
import { DeliveryQueues, type AttemptReport } from '../../../src/delivery/queues.js';
import type { DeliveryJob, DestinationConfig } from '../../../src/delivery/types.js';
import { startFhirStub, type FhirStub } from '../../helpers/fhir-stub.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';
import { startWebhookStub, type WebhookStub } from '../../helpers/webhook-stub.js';
import { until } from './support/wait.js';

const secret = 'pipeline-secret';
let redis: TestRedis;
let hook: WebhookStub;
let fhir: FhirStub;
let queues: DeliveryQueues | undefined;
let prefixCounter = 0;

beforeAll(async () => {
  [redis, hook, fhir] = await Promise.all([startTestRedis(), startWebhookStub({ secret }), startFhirStub()]);
});
afterEach(async () => {
  await queues?.close();
  queues = undefined;
  hook.failures.clear();
  fhir.failures.clear();
});
afterAll(async () => {
  await Promise.all([redis.cleanup(), hook.close(), fhir.close()]);
});

function message(n: number): Bundle {
  const bundle: Bundle<FhirResource> = {
    resourceType: 'Bundle',
    id: `msg-${n}`,
    type: 'message',
    timestamp: '2026-01-02T03:04:05Z',
    entry: [
      {
        fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
        resource: {
          resourceType: 'MessageHeader',
          id: `mh-${n}`,
          eventCoding: { system: 'http://hl7.org/fhir/us/davinci-alerts/CodeSystem/notification-event', code: 'notification-admit' },
          source: { endpoint: 'urn:carebridge' },
        },
      },
    ],
  };
  return bundle as Bundle;
}

/** Stands in for the store: payloads and destination configs by id. */
function startPipeline(destinations: DestinationConfig[], payloads: Map<string, unknown>, maxAttempts = 6) {
  const deliver = createDeliverer();
  const byId = new Map(destinations.map((d) => [d.id, d]));
  const attempts: Array<{ id: string; report: AttemptReport }> = [];
  const delivered: string[] = [];
  const dead: string[] = [];
  queues = new DeliveryQueues({
    redisUrl: redis.url,
    prefix: `pipe${++prefixCounter}`,
    destinations: destinations.map((d) => ({ id: d.id, concurrency: 4, maxAttempts, backoff: { baseMs: 10, maxMs: 50 } })),
    processor: (job, ctx) => deliver(payloads.get(job.deliveryId), byId.get(job.destinationId)!, ctx),
    hooks: {
      onAttempt: (job, report) => void attempts.push({ id: job.deliveryId, report }),
      onDelivered: (job) => void delivered.push(job.deliveryId),
      onDead: (job) => void dead.push(job.deliveryId),
    },
    closeTimeoutMs: 3_000,
  });
  return { queues, attempts, delivered, dead };
}

const job = (n: number, destinationId: string, patientKey = '', seq = n): DeliveryJob => ({
  deliveryId: `dlv-${destinationId}-${n}`,
  messageId: `m${n}`,
  destinationId,
  patientKey,
  seq,
});

describe('delivery pipeline', () => {
  it('delivers every webhook exactly once per Idempotency-Key through 5xx, resets and timeouts', async () => {
    const dest: DestinationConfig = { id: 'hook', type: 'webhook', url: hook.url, secret, timeoutMs: 2_000 };
    hook.failNext(2, { kind: 'status', status: 503 });
    hook.failNext(1, { kind: 'reset' });
    hook.failNext(1, { kind: 'hang' });
    const jobs = Array.from({ length: 12 }, (_, i) => job(i + 1, 'hook', `patient-${i % 4}`));
    const payloads = new Map(jobs.map((j) => [j.deliveryId, { event: 'admit', n: j.seq }]));
    const p = startPipeline([dest], payloads);
    await p.queues.ready();
    for (const j of jobs) expect(await p.queues.enqueue(j)).toBe(true);

    await until(() => p.delivered.length === jobs.length, 'all webhooks delivered');
    for (const j of jobs) expect(hook.countsByKey.get(j.deliveryId)).toBe(1);
    expect(p.attempts.filter((a) => a.report.next === 'retry')).toHaveLength(4);
    expect(p.dead).toEqual([]);
  });

  it('keeps per-patient order at the receiver while retrying', async () => {
    const dest: DestinationConfig = { id: 'hook-order', type: 'webhook', url: hook.url, secret, timeoutMs: 2_000 };
    hook.failNext(3, { kind: 'status', status: 500 });
    const jobs = Array.from({ length: 8 }, (_, i) => job(i + 1, 'hook-order', 'same-patient'));
    const payloads = new Map(jobs.map((j) => [j.deliveryId, { seq: j.seq }]));
    const p = startPipeline([dest], payloads);
    await p.queues.ready();
    const before = hook.accepted.length;
    for (const j of jobs) await p.queues.enqueue(j);
    await until(() => p.delivered.length === jobs.length, 'ordered deliveries');
    expect(hook.accepted.slice(before).map((d) => (d.body as { seq: number }).seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('slows down on 429 from $process-message without spending attempts', async () => {
    const dest: DestinationConfig = { id: 'aco', type: 'fhir-messaging', baseUrl: fhir.baseUrl, timeoutMs: 2_000 };
    fhir.failNext(3, { kind: 'throttle', retryAfterSec: 0 });
    const payloads = new Map([[job(1, 'aco').deliveryId, message(1)]]);
    const p = startPipeline([dest], payloads, 1);
    await p.queues.ready();
    await p.queues.enqueue(job(1, 'aco'));
    await until(() => p.delivered.length === 1, 'message delivered');
    expect(p.attempts.map((a) => a.report.next)).toEqual(['throttled', 'throttled', 'throttled', 'done']);
    expect(fhir.messageCounts.get('msg-1')).toBe(1);
  });

  it('dead-letters a message the receiver refuses with 401, without retrying', async () => {
    const dest: DestinationConfig = { id: 'aco-auth', type: 'fhir-messaging', baseUrl: fhir.baseUrl, timeoutMs: 2_000 };
    fhir.failNext(1, { kind: 'status', status: 401 });
    const payloads = new Map([[job(2, 'aco-auth').deliveryId, message(2)]]);
    const p = startPipeline([dest], payloads);
    await p.queues.ready();
    await p.queues.enqueue(job(2, 'aco-auth'));
    await until(() => p.dead.length === 1, 'dead letter');
    expect(p.attempts).toHaveLength(1);
    expect(p.attempts[0].report.outcome).toMatchObject({ kind: 'fatal', status: 401 });
  });
});
