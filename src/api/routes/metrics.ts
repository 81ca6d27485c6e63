import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from '../types.js';

/** GET /metrics, Prometheus text format. No key: it carries counts per configured id, no PHI. */
export function metricsRoutes(deps: Pick<ApiDeps, 'metrics'>): FastifyPluginAsync {
  return async (scope) => {
    scope.get(
      '/metrics',
      {
        schema: {
          summary: 'Prometheus metrics',
          tags: ['operations'],
          produces: ['text/plain'],
          response: { 200: { description: 'Prometheus text exposition format', type: 'string' } },
        },
      },
      async (_request, reply) => reply.type(deps.metrics.contentType).send(await deps.metrics.metrics()),
    );
  };
}
