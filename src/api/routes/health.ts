import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from '../types.js';

const readySchema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ready', 'unavailable'] },
    store: { type: 'string', enum: ['up', 'down'] },
    redis: { type: 'string', enum: ['up', 'down'] },
    detail: { type: 'string' },
  },
} as const;

/** Resolves true when `check` succeeds within `ms`; a hung dependency counts as down. */
async function upWithin(check: () => Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([check().then((v) => v !== false), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

function readyDetail(storeUp: boolean, redisUp: boolean): string {
  if (!storeUp && !redisUp) return 'message store and Redis are down: nothing can be received or delivered';
  if (!storeUp) return 'message store is down: ingest answers 503 and nothing is acknowledged';
  if (!redisUp) return 'Redis is down: ingest still stores and acknowledges; deliveries resume when Redis returns';
  return 'message store and Redis are up';
}

/** Liveness (no dependencies, so a slow database never gets the process restarted) and readiness. */
export function healthRoutes(deps: Pick<ApiDeps, 'store' | 'ingest' | 'readyTimeoutMs'>): FastifyPluginAsync {
  const timeoutMs = deps.readyTimeoutMs ?? 2_000;
  return async (scope) => {
    scope.get(
      '/health',
      {
        schema: {
          summary: 'Liveness: the process answers',
          tags: ['operations'],
          response: { 200: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } } },
        },
      },
      async () => ({ status: 'ok' }),
    );

    scope.get(
      '/ready',
      {
        schema: {
          summary: 'Readiness: the message store and Redis answer',
          tags: ['operations'],
          response: { 200: readySchema, 503: readySchema },
        },
      },
      async (_request, reply) => {
        const [storeUp, redisUp] = await Promise.all([
          upWithin(() => deps.store.ping(), timeoutMs),
          upWithin(() => deps.ingest.redisUp(), timeoutMs),
        ]);
        const ready = storeUp && redisUp;
        return reply.code(ready ? 200 : 503).send({
          status: ready ? 'ready' : 'unavailable',
          store: storeUp ? 'up' : 'down',
          redis: redisUp ? 'up' : 'down',
          detail: readyDetail(storeUp, redisUp),
        });
      },
    );
  };
}
