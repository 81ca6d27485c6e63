import type { FastifyPluginAsync } from 'fastify';
import { principalOf } from '../api/auth.js';
import { outcomeRef } from '../api/operation-outcome.js';
import { parseIdentifier } from '../api/routes/messages.js';
import { attributionJson, attributionSchema, memberJson, memberSchema } from '../api/routes/roster.js';
import { authErrors, SECURITY } from '../api/schemas.js';
import type { RosterStore } from '../roster/store-types.js';

/**
 * The roster page's member lookup: the identifier in the body (never in a URL) and the member with
 * the attribution history in one answer, so the member id is not in a URL either. Scoped like
 * GET /api/roster/members: a member a key may not see does not exist for it.
 */
export function memberLookupRoutes(roster: RosterStore): FastifyPluginAsync {
  return async (scope) => {
    scope.post(
      '/api/console/roster/member',
      {
        schema: {
          summary: 'Find a roster member by identifier (in the body), with the attribution history',
          tags: ['console'],
          security: SECURITY,
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['identifier'],
            properties: {
              identifier: { type: 'string', minLength: 1, maxLength: 300, description: '`system|value`, or `value` for any system' },
            },
          },
          response: {
            200: {
              type: 'object',
              properties: {
                member: { anyOf: [memberSchema, { type: 'null' }] },
                attributions: { type: 'array', items: attributionSchema },
              },
            },
            404: outcomeRef,
            ...authErrors,
          },
        },
      },
      async (request) => {
        const who = principalOf(request);
        const { identifier } = request.body as { identifier: string };
        for (const id of (await roster.findMemberIds(parseIdentifier(identifier))).slice(0, 50)) {
          if (!who.admin && !(await roster.memberConcerns(id, who.partners))) continue;
          const member = await roster.getMember(id);
          if (!member) continue;
          return { member: memberJson(member), attributions: (await roster.attributionHistory(id)).map(attributionJson) };
        }
        return { member: null, attributions: [] };
      },
    );
  };
}
