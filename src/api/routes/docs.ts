import type { FastifyPluginAsync } from 'fastify';

/** GET /openapi.json: the document @fastify/swagger built from the route schemas. */
export const docsRoutes: FastifyPluginAsync = async (scope) => {
  scope.get('/openapi.json', { schema: { summary: 'This API as OpenAPI 3', tags: ['operations'] } }, async (_request, reply) =>
    reply.type('application/json').send(scope.swagger()),
  );
};
