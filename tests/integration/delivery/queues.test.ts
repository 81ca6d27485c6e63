/**
 * DeliveryQueues against a real redis-server (private instance for this file).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DeliveryQueues,
  UnknownDestinationError,
  type AttemptReport,
  type DeadLetterReport,
  type DeliveryProcessor,
  type DeliveryQueuesOptions,
} from '../../../src/delivery/queues.js';
import type { DeliveryJob, DeliveryOutcome } from '../../../src/delivery/types.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';
import { until } from './support/wait.js';

let redis: TestRedis;
const open: DeliveryQueues[] = [];
let prefixCounter = 0;

beforeAll(async () => {
  redis = await startTestRedis();
});
afterEach(async () => {
  for (const q of open.splice(0)) await q.close();
});
afterAll(async () => {
  await redis.cleanup();
});

const delivered: DeliveryOutcome = { kind: 'delivered', status: 200, durationMs: 1 };
const retry = (status = 503, retryAfterMs?: number): DeliveryOutcome => ({
  kind: 'retry',
  status,
  error: `HTTP ${status}`,
  retryAfterMs,
  durationMs: 1,
});
const fatal: DeliveryOutcome = { kind: 'fatal', status: 400, error: 'HTTP 400', durationMs: 1 };

function job(n: number, patientKey = '', seq = n, destinationId = 'dest-a'): DeliveryJob {
  return { deliveryId: `d${n}`, messageId: `m${n}`, destinationId, patientKey, seq };
}

interface Recorder {
  attempts: Array<{ id: string; report: AttemptReport }>;
  delivered: string[];
  dead: Array<{ id: string; report: DeadLetterReport }>;
  recovered: number;
}

/** Builds a DeliveryQueues on a fresh key prefix with recording hooks and fast backoff. */
function makeQueues(
  processor: DeliveryProcessor | undefined,
  overrides: Partial<DeliveryQueuesOptions> = {},
  prefix = `cbtest${++prefixCounter}`,
): { queues: DeliveryQueues; rec: Recorder; prefix: string } {
  const rec: Recorder = { attempts: [], delivered: [], dead: [], recovered: 0 };
  const queues = new DeliveryQueues({
    redisUrl: redis.url,
    prefix,
    destinations: [{ id: 'dest-a', concurrency: 4, maxAttempts: 5, backoff: { baseMs: 10, maxMs: 40 } }],
    processor,
    gatePollMs: 50,
    closeTimeoutMs: 3_000,
    hooks: {
      onAttempt: (j, report) => void rec.attempts.push({ id: j.deliveryId, report }),
      onDelivered: (j) => void rec.delivered.push(j.deliveryId),
      onDead: (j, report) => void rec.dead.push({ id: j.deliveryId, report }),
      onRedisRecovered: () => void rec.recovered++,
    },
    ...overrides,
  });
  open.push(queues);
  return { queues, rec, prefix };
}

describe('DeliveryQueues', () => {
  it('enqueues, processes and reports a delivery', async () => {
    const seen: DeliveryJob[] = [];
    const { queues, rec } = makeQueues(async (j) => {
      seen.push(j);
      return delivered;
    });
    expect(await queues.ready()).toBe(true);
    expect(await queues.enqueue(job(1, 'patient-1', 7))).toBe(true);
    await until(() => rec.delivered.length === 1, 'delivery');
    expect(seen).toEqual([job(1, 'patient-1', 7)]);
    expect(rec.attempts).toEqual([
      { id: 'd1', report: { attempt: 1, outcome: delivered, next: 'done', sinceEnqueueMs: expect.any(Number) } },
    ]);
    await until(async () => (await queues.depth('dest-a')).active === 0, 'job to finish');
    expect(await queues.depth('dest-a')).toEqual({ waiting: 0, active: 0, delayed: 0, failed: 0 });
  });

  it('retries with backoff and then succeeds', async () => {
    let calls = 0;
    const { queues, rec } = makeQueues(async (_j, ctx) => {
      calls++;
      expect(ctx.attempt).toBe(calls);
      return calls < 3 ? retry(503) : delivered;
    });
    await queues.ready();
    await queues.enqueue(job(1));
    await until(() => rec.delivered.length === 1, 'delivery after retries');
    expect(rec.attempts.map((a) => [a.report.attempt, a.report.next])).toEqual([
      [1, 'retry'],
      [2, 'retry'],
      [3, 'done'],
    ]);
    expect(rec.dead).toEqual([]);
  });

  it('dead-letters after max attempts and reports it once', async () => {
    const { queues, rec } = makeQueues(async () => retry(500), {
      destinations: [{ id: 'dest-a', maxAttempts: 3, backoff: { baseMs: 5, maxMs: 10 } }],
    });
    await queues.ready();
    await queues.enqueue(job(1));
    await until(async () => (await queues.depth('dest-a')).failed === 1, 'dead letter');
    expect(rec.attempts.map((a) => a.report.next)).toEqual(['retry', 'retry', 'dead']);
    expect(rec.dead).toHaveLength(1);
    expect(rec.dead[0]).toMatchObject({ id: 'd1', report: { attempts: 3, reason: 'HTTP 500' } });
    expect(await queues.resubmit(job(1))).toBe('dead');
  });

  it('fails a fatal outcome without retrying', async () => {
    const { queues, rec } = makeQueues(async () => fatal);
    await queues.ready();
    await queues.enqueue(job(1));
    await until(() => rec.dead.length === 1, 'dead letter');
    expect(rec.attempts).toHaveLength(1);
    expect(rec.attempts[0].report.next).toBe('dead');
  });

  it('never creates a second job for the same delivery', async () => {
    const { queues: producer, prefix } = makeQueues(undefined);
    await producer.ready();
    expect(await producer.enqueue(job(1))).toBe(true);
    expect(await producer.enqueue(job(1))).toBe(true);
    expect(await producer.resubmit(job(1))).toBe('pending');
    expect((await producer.depth('dest-a')).waiting).toBe(1);

    const processed: string[] = [];
    const { queues: consumer, rec } = makeQueues(
      async (j) => {
        processed.push(j.deliveryId);
        return delivered;
      },
      {},
      prefix,
    );
    await until(() => rec.delivered.length === 1, 'delivery');
    await until(async () => (await consumer.depth('dest-a')).active === 0, 'completion');
    // After completion the job is retained: a post-crash resubmit learns it was delivered.
    expect(await producer.enqueue(job(1))).toBe(true);
    expect(await producer.resubmit(job(1))).toBe('delivered');
    expect(processed).toEqual(['d1']);
  });

  it('slows the destination on 429 without burning an attempt', async () => {
    let calls = 0;
    const { queues, rec } = makeQueues(async () => (++calls === 1 ? retry(429, 30) : delivered), {
      destinations: [{ id: 'dest-a', maxAttempts: 1 }],
    });
    await queues.ready();
    await queues.enqueue(job(1));
    await until(() => rec.delivered.length === 1, 'delivery after throttle');
    // maxAttempts is 1: a burned attempt would have been a dead letter.
    expect(rec.attempts.map((a) => [a.report.attempt, a.report.next])).toEqual([
      [1, 'throttled'],
      [1, 'done'],
    ]);
    expect(rec.dead).toEqual([]);
  });

  it('counts 429s as normal retries once maxThrottles is used up', async () => {
    const { queues, rec } = makeQueues(async () => retry(429, 5), {
      destinations: [{ id: 'dest-a', maxAttempts: 2, maxThrottles: 1, backoff: { baseMs: 5, maxMs: 5 } }],
    });
    await queues.ready();
    await queues.enqueue(job(1));
    await until(() => rec.dead.length === 1, 'dead letter');
    expect(rec.attempts.map((a) => a.report.next)).toEqual(['throttled', 'retry', 'dead']);
  });

  it('enqueues a burst from one turn (as after a group commit), with a duplicate, across destinations and in patient order', async () => {
    const destinations = [
      { id: 'dest-a', concurrency: 4, maxAttempts: 5, backoff: { baseMs: 10, maxMs: 40 } },
      { id: 'dest-b', concurrency: 4, maxAttempts: 5, backoff: { baseMs: 10, maxMs: 40 } },
    ];
    const { queues: producer, prefix } = makeQueues(undefined, { destinations });
    await producer.ready();
    // Out of seq order, a duplicate, unordered ones (no patient key) and a second destination.
    const jobs = [
      job(3, 'A', 3),
      job(1, 'A', 1),
      job(2, 'A', 2),
      job(1, 'A', 1),
      job(7),
      job(8),
      job(21, 'A', 1, 'dest-b'),
      job(22, 'A', 2, 'dest-b'),
    ];
    expect(await Promise.all(jobs.map((j) => producer.enqueue(j)))).toEqual(jobs.map(() => true));
    expect((await producer.depth('dest-a')).waiting).toBe(5);
    expect((await producer.depth('dest-b')).waiting).toBe(2);

    const order: Record<string, number[]> = {};
    const { rec } = makeQueues(
      async (j) => {
        if (j.patientKey) (order[`${j.destinationId}/${j.patientKey}`] ??= []).push(j.seq);
        return delivered;
      },
      { destinations },
      prefix,
    );
    await until(() => rec.delivered.length === 7, 'all deliveries');
    expect(order['dest-a/A']).toEqual([1, 2, 3]);
    expect(order['dest-b/A']).toEqual([1, 2]);
    expect(new Set(rec.delivered).size).toBe(7);
  });

  it('keeps per-patient order with concurrency and retries', async () => {
    const order: Record<string, number[]> = {};
    let firstFailures = 0;
    const processor: DeliveryProcessor = async (j) => {
      // The first message of patient A fails twice: later ones must wait for it.
      if (j.patientKey === 'A' && j.seq === 1 && firstFailures < 2) {
        firstFailures++;
        return retry(503);
      }
      (order[j.patientKey] ??= []).push(j.seq);
      return delivered;
    };
    const { queues: producer, prefix } = makeQueues(undefined);
    await producer.ready();
    // Enqueued out of order on purpose: seq decides, not arrival.
    const jobs = [job(3, 'A', 3), job(1, 'A', 1), job(2, 'A', 2), job(11, 'B', 1), job(4, 'A', 4), job(12, 'B', 2), job(5, 'A', 5)];
    for (const j of jobs) expect(await producer.enqueue(j)).toBe(true);
    const { rec } = makeQueues(processor, {}, prefix);
    await until(() => rec.delivered.length === jobs.length, 'all deliveries');
    expect(order.A).toEqual([1, 2, 3, 4, 5]);
    expect(order.B).toEqual([1, 2]);
    expect(firstFailures).toBe(2);
  });

  it('lets later messages of a patient flow on after a dead letter', async () => {
    const order: number[] = [];
    const { queues: producer, prefix } = makeQueues(undefined);
    await producer.ready();
    await producer.enqueue(job(1, 'A', 1));
    await producer.enqueue(job(2, 'A', 2));
    const { rec } = makeQueues(
      async (j) => {
        order.push(j.seq);
        return j.seq === 1 ? fatal : delivered;
      },
      {},
      prefix,
    );
    await until(() => rec.delivered.length === 1, 'second delivery');
    expect(order).toEqual([1, 2]);
    expect(rec.dead.map((d) => d.id)).toEqual(['d1']);
  });

  it('asks the store about earlier deliveries before sending', async () => {
    let pendingAnswers = 2;
    const asked: string[] = [];
    const { queues, rec } = makeQueues(async () => delivered, {
      hasPendingPredecessor: async (j) => {
        asked.push(j.deliveryId);
        return pendingAnswers-- > 0;
      },
    });
    await queues.ready();
    await queues.enqueue(job(1, 'A', 9));
    await until(() => rec.delivered.length === 1, 'delivery');
    expect(asked).toEqual(['d1', 'd1', 'd1']);
    expect(rec.attempts).toHaveLength(1); // parking is not an attempt
  });

  it('requeues a dead letter with fresh attempts', async () => {
    let calls = 0;
    const { queues, rec } = makeQueues(async () => (++calls === 1 ? fatal : delivered));
    await queues.ready();
    await queues.enqueue(job(1, 'A', 1));
    await until(() => rec.dead.length === 1, 'dead letter');
    expect(await queues.requeueDead(job(1, 'A', 1))).toBe(true);
    await until(() => rec.delivered.length === 1, 'delivery after requeue');
    await until(async () => (await queues.depth('dest-a')).active === 0, 'completion');
    expect(await queues.requeueDead(job(1, 'A', 1))).toBe(false); // delivered is not dead
  });

  it('treats a throwing processor as a retryable attempt', async () => {
    let calls = 0;
    const { queues, rec } = makeQueues(async () => {
      if (++calls === 1) throw new Error('store unavailable');
      return delivered;
    });
    await queues.ready();
    await queues.enqueue(job(1));
    await until(() => rec.delivered.length === 1, 'delivery');
    expect(rec.attempts[0].report).toMatchObject({
      next: 'retry',
      outcome: { kind: 'retry', error: 'processor error: store unavailable' },
    });
  });

  it('still reports a dead letter when bookkeeping fails on the last attempt', async () => {
    const dead: DeadLetterReport[] = [];
    const { queues } = makeQueues(async () => retry(500), {
      destinations: [{ id: 'dest-a', maxAttempts: 2, backoff: { baseMs: 5, maxMs: 5 } }],
      hooks: {
        onAttempt: () => {
          throw new Error('store write failed');
        },
        onDead: (_j, report) => void dead.push(report),
      },
    });
    await queues.ready();
    await queues.enqueue(job(1));
    await until(() => dead.length === 1, 'dead letter report');
    expect(dead[0]).toMatchObject({ attempts: 2, reason: 'store write failed' });
  });

  it('rejects unknown destinations loudly (a config bug, not an outage)', async () => {
    const { queues } = makeQueues(undefined);
    await expect(queues.enqueue(job(1, '', 1, 'nope'))).rejects.toBeInstanceOf(UnknownDestinationError);
  });
});

describe('DeliveryQueues and Redis crashes', () => {
  it('keeps pending jobs across SIGKILL and restart of Redis, and completes them', async () => {
    const { queues: producer, prefix } = makeQueues(undefined);
    await producer.ready();
    const jobs = Array.from({ length: 20 }, (_, i) => job(i + 1, `p${i % 3}`, i + 1));
    for (const j of jobs) expect(await producer.enqueue(j)).toBe(true);

    await redis.crash();
    await redis.restart();
    await until(() => producer.isRedisUp(), 'producer reconnect');

    const counts = new Map<string, number>();
    const { rec } = makeQueues(
      async (j) => {
        counts.set(j.deliveryId, (counts.get(j.deliveryId) ?? 0) + 1);
        return delivered;
      },
      {},
      prefix,
    );
    await until(() => rec.delivered.length === jobs.length, 'all deliveries after restart');
    expect([...counts.keys()].sort()).toEqual(jobs.map((j) => j.deliveryId).sort());
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });

  it('finishes work that was in flight when Redis was killed', async () => {
    const counts = new Map<string, number>();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { queues, rec } = makeQueues(
      async (j) => {
        counts.set(j.deliveryId, (counts.get(j.deliveryId) ?? 0) + 1);
        await gate;
        return delivered;
      },
      {
        workerTuning: { lockDurationMs: 1_000, stalledIntervalMs: 500 },
      },
    );
    await queues.ready();
    for (let i = 1; i <= 6; i++) await queues.enqueue(job(i));
    await until(() => counts.size >= 4, 'jobs in flight'); // concurrency 4

    await redis.crash();
    release();
    await redis.restart();
    await until(() => new Set(rec.delivered).size === 6, 'all deliveries', 60_000);
    // At-least-once: every delivery was attempted, some perhaps twice (idempotent destinations).
    expect([...counts.keys()].sort()).toEqual(['d1', 'd2', 'd3', 'd4', 'd5', 'd6']);
  });

  it('returns false from enqueue while Redis is down, then recovers', async () => {
    const { queues, rec } = makeQueues(async () => delivered);
    await queues.ready();
    await redis.crash();
    await until(() => !queues.isRedisUp(), 'outage noticed');
    expect(await queues.enqueue(job(1))).toBe(false);
    expect(await queues.resubmit(job(1))).toBe('redis-down');

    await redis.restart();
    await until(() => rec.recovered === 1, 'recovery hook');
    expect(await queues.resubmit(job(1))).toBe('enqueued');
    await until(() => rec.delivered.length === 1, 'delivery after recovery');
  });

  it('returns false from enqueue when Redis hangs instead of dying', async () => {
    const { queues } = makeQueues(undefined, { enqueueTimeoutMs: 200 });
    await queues.ready();
    process.kill(redis.server.pid, 'SIGSTOP');
    try {
      expect(await queues.enqueue(job(1))).toBe(false);
    } finally {
      process.kill(redis.server.pid, 'SIGCONT');
    }
  });
});
