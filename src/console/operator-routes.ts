import type { FastifyPluginAsync } from 'fastify';
import { forbidden } from '../api/api-error.js';
import { principalOf } from '../api/auth.js';
import { outcomeRef } from '../api/operation-outcome.js';
import { searchMessagesFor, type MessageQueryString } from '../api/routes/messages.js';
import { authErrors, messageQuerySchema, messageSummarySchema, pageOf, SECURITY } from '../api/schemas.js';
import type { ApiDeps, Principal } from '../api/types.js';
import type { QueueDepth } from '../observability/metrics.js';
import { notFound } from '../api/api-error.js';
import { canSeePartner } from '../api/scope.js';
import { configView } from './config-view.js';
import { analyzeMessage } from './message-analysis.js';
import { histogramQuantile, type TrafficSampler } from './traffic-sampler.js';

const num = { type: 'number' } as const;
const nullableNum = { type: ['number', 'null'] } as const;
const series = { type: 'array', items: num } as const;

const overviewSchema = {
  type: 'object',
  properties: {
    at: { type: 'string', format: 'date-time' },
    health: {
      type: 'object',
      properties: {
        store: { type: 'string', enum: ['up', 'down'] },
        redis: { type: 'string', enum: ['up', 'down'] },
        storeKind: { type: 'string' },
      },
    },
    messages: { type: 'object', additionalProperties: num, description: 'Stored messages by status' },
    traffic: {
      type: 'object',
      description: 'Per source, per sampling interval: received, ACKed (positive), rejected, filtered',
      properties: {
        intervalSeconds: num,
        t: { ...series, description: 'Interval ends, epoch seconds' },
        sources: {
          type: 'object',
          additionalProperties: { type: 'object', properties: { received: series, acked: series, rejected: series, filtered: series } },
        },
      },
    },
    destinations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          type: { type: 'string' },
          partner: { type: ['string', 'null'] },
          queued: { ...nullableNum, description: 'Waiting in the queue (null: Redis unreadable)' },
          inFlight: nullableNum,
          retrying: { ...nullableNum, description: 'Waiting for a retry (backoff)' },
          pending: { ...num, description: 'Pending or retrying in the store' },
          dead: num,
          latencyP50Seconds: { ...nullableNum, description: 'Receipt to confirmed delivery, since the gateway started' },
          latencyP95Seconds: nullableNum,
          delivered: { ...num, description: 'Confirmed deliveries since the gateway started' },
        },
      },
    },
  },
} as const;

export interface OperatorRouteDeps extends Pick<ApiDeps, 'config' | 'store' | 'ingest' | 'metrics' | 'sftpStatus'> {
  sampler: TrafficSampler;
  samplerIntervalMs: number;
}

/** Operator pages' data: admin and operator keys only (what a partner may not see does not exist for it). */
export function requireOperator(who: Principal): void {
  if (who.role === 'partner') throw forbidden('an admin or operator key is needed');
}

async function settle<T>(p: Promise<T>, ms = 2_000): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([p.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Latency quantiles per destination from the delivery-latency histogram. */
async function latencies(deps: OperatorRouteDeps): Promise<Map<string, { p50: number | null; p95: number | null; count: number }>> {
  const buckets = new Map<string, { le: number; count: number }[]>();
  for (const v of (await deps.metrics.deliveryLatency.get()).values) {
    if (!v.metricName?.endsWith('_bucket')) continue;
    const destination = String(v.labels.destination);
    const raw = (v.labels as Record<string, string | number | undefined>).le;
    const le = raw === '+Inf' ? Infinity : Number(raw);
    let list = buckets.get(destination);
    if (!list) buckets.set(destination, (list = []));
    list.push({ le, count: v.value });
  }
  const out = new Map<string, { p50: number | null; p95: number | null; count: number }>();
  for (const [destination, list] of buckets) {
    const count = Math.max(0, ...list.map((b) => b.count));
    out.set(destination, { p50: histogramQuantile(0.5, list), p95: histogramQuantile(0.95, list), count });
  }
  return out;
}

export function operatorRoutes(deps: OperatorRouteDeps): FastifyPluginAsync {
  const { config, store, ingest } = deps;
  return async (scope) => {
    scope.get(
      '/api/console/overview',
      {
        schema: {
          summary: 'Operator overview: health, traffic per source over time, each destination’s queue, dead letters and latency',
          tags: ['console'],
          security: SECURITY,
          response: { 200: overviewSchema, 403: outcomeRef, ...authErrors },
        },
      },
      async (request) => {
        requireOperator(principalOf(request));
        const [storeUp, redisUp, stats, depths, lat] = await Promise.all([
          settle(store.ping().then(() => true)),
          settle(ingest.redisUp()),
          settle(store.stats()),
          settle(ingest.queueDepths()),
          latencies(deps),
        ]);
        const traffic = deps.sampler.series(config.sources.filter((s) => s.type === 'mllp' || s.type === 'http').map((s) => s.id));
        return {
          at: new Date().toISOString(),
          health: { store: storeUp ? 'up' : 'down', redis: redisUp ? 'up' : 'down', storeKind: store.kind },
          messages: stats?.messagesByStatus ?? {},
          traffic: { intervalSeconds: deps.samplerIntervalMs / 1000, ...traffic },
          destinations: config.destinations.map((d) => {
            const q: QueueDepth | undefined = depths?.[d.id];
            const l = lat.get(d.id);
            return {
              id: d.id,
              type: d.type,
              partner: d.partner ?? null,
              queued: q ? q.waiting : null,
              inFlight: q ? q.active : null,
              retrying: q ? q.delayed : null,
              pending: stats?.pendingByDestination[d.id] ?? 0,
              dead: stats?.deadByDestination[d.id] ?? 0,
              latencyP50Seconds: l?.p50 ?? null,
              latencyP95Seconds: l?.p95 ?? null,
              delivered: l?.count ?? 0,
            };
          }),
        };
      },
    );

    scope.post(
      '/api/console/messages/search',
      {
        schema: {
          summary:
            'Search messages like GET /api/messages, with the criteria in the body (the console puts no patient identifier in a URL)',
          tags: ['console'],
          security: SECURITY,
          body: messageQuerySchema,
          response: { 200: pageOf(messageSummarySchema), ...authErrors },
        },
      },
      async (request) => searchMessagesFor(store, principalOf(request), (request.body ?? {}) as MessageQueryString),
    );

    scope.get(
      '/api/console/messages/:id/analysis',
      {
        schema: {
          summary: 'A message’s conversion warnings (converted again with the current mappings) and the route rules it matches now',
          tags: ['console'],
          security: SECURITY,
          params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 200 } } },
          response: {
            200: {
              type: 'object',
              properties: {
                warnings: { type: 'array', items: { type: 'string' } },
                conversionError: { type: ['string', 'null'] },
                routes: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      routeId: { type: 'string' },
                      destinations: { type: 'array', items: { type: 'string' } },
                      toAttributed: { type: ['string', 'null'] },
                    },
                  },
                },
              },
            },
            404: outcomeRef,
            ...authErrors,
          },
        },
      },
      async (request) => {
        const who = principalOf(request);
        const message = await store.getMessage((request.params as { id: string }).id);
        if (!message || !canSeePartner(who, message.partnerId)) throw notFound('message');
        return analyzeMessage(config, message);
      },
    );

    scope.get(
      '/api/console/config',
      {
        schema: {
          summary: 'The running configuration, read-only: partners, sources, destinations, routes (secrets left out)',
          tags: ['console'],
          security: SECURITY,
          response: {
            200: {
              type: 'object',
              properties: {
                partners: { type: 'array', items: { type: 'object', additionalProperties: true } },
                sources: { type: 'array', items: { type: 'object', additionalProperties: true } },
                destinations: { type: 'array', items: { type: 'object', additionalProperties: true } },
                routes: { type: 'array', items: { type: 'object', additionalProperties: true } },
              },
            },
            403: outcomeRef,
            ...authErrors,
          },
        },
      },
      async (request) => {
        requireOperator(principalOf(request));
        return configView(config);
      },
    );
  };
}
