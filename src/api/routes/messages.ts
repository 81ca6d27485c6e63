import type { FastifyPluginAsync } from 'fastify';
import type { MessageQuery, MessageStatus, MessageStore } from '../../store/types.js';
import { notFound } from '../api-error.js';
import { auditApiCall } from '../audit.js';
import { principalOf } from '../auth.js';
import { outcomeRef } from '../operation-outcome.js';
import { canSeePartner, partnerFilter } from '../scope.js';
import {
  authErrors,
  idParams,
  messageDetailSchema,
  messageQuerySchema,
  messageSummarySchema,
  pageOf,
  replayResponseSchema,
  SECURITY,
} from '../schemas.js';
import { messageDetailJson, messageSummaryJson } from '../serialize.js';
import type { ApiDeps, Principal } from '../types.js';

export interface MessageQueryString {
  controlId?: string;
  identifier?: string;
  sender?: string;
  event?: string;
  messageType?: string;
  status?: MessageStatus;
  partner?: string;
  from?: string;
  to?: string;
  limit?: number;
  cursor?: string;
}

/** FHIR token syntax: `system|value`, or a bare value matching any system. */
export function parseIdentifier(token: string): { system?: string; value: string } {
  const bar = token.indexOf('|');
  if (bar < 0) return { value: token };
  const system = token.slice(0, bar);
  return system ? { system, value: token.slice(bar + 1) } : { value: token.slice(bar + 1) };
}

export function toMessageQuery(q: MessageQueryString): MessageQuery {
  return {
    controlId: q.controlId,
    identifier: q.identifier !== undefined ? parseIdentifier(q.identifier) : undefined,
    sender: q.sender,
    event: q.event,
    messageType: q.messageType,
    status: q.status,
    partner: q.partner,
    from: q.from !== undefined ? new Date(q.from) : undefined,
    to: q.to !== undefined ? new Date(q.to) : undefined,
    limit: q.limit,
    cursor: q.cursor,
  };
}

/** Search, lineage and replay. A message of a partner the key does not cover is a 404. */
/** The search, from a query string or (the console: no patient identifier in any URL) a POST body. */
export async function searchMessagesFor(store: MessageStore, who: Principal, q: MessageQueryString) {
  const page = await store.searchMessages({ ...toMessageQuery(q), partners: partnerFilter(who) });
  return { items: page.items.map(messageSummaryJson), next: page.next };
}

export function messageRoutes(deps: Pick<ApiDeps, 'store' | 'ingest'>): FastifyPluginAsync {
  const { store, ingest } = deps;
  return async (scope) => {
    scope.get(
      '/api/messages',
      {
        schema: {
          summary: 'Search messages (newest first, paged)',
          tags: ['messages'],
          security: SECURITY,
          querystring: messageQuerySchema,
          response: { 200: pageOf(messageSummarySchema), ...authErrors },
        },
      },
      async (request) => {
        return searchMessagesFor(store, principalOf(request), request.query as MessageQueryString);
      },
    );

    scope.get(
      '/api/messages/:id',
      {
        schema: {
          summary: 'A message with its lineage: raw, FHIR, receipts, deliveries and attempts, replays',
          tags: ['messages'],
          security: SECURITY,
          params: idParams,
          response: { 200: messageDetailSchema, 404: outcomeRef, ...authErrors },
        },
      },
      async (request) => {
        const who = principalOf(request);
        const { id } = request.params as { id: string };
        const message = await store.getMessage(id);
        if (!message || !canSeePartner(who, message.partnerId)) throw notFound('message');
        // The raw message and its FHIR carry PHI: who opened which message, and when.
        await auditApiCall(store, request, who, { action: 'api.message.read', subjectType: 'message', subjectId: id });
        return messageDetailJson(message);
      },
    );

    scope.post(
      '/api/messages/:id/replay',
      {
        schema: {
          summary: 'Replay a message: convert again with current mappings; new deliveries link to the original',
          tags: ['messages'],
          security: SECURITY,
          params: idParams,
          response: { 202: replayResponseSchema, 404: outcomeRef, ...authErrors },
        },
      },
      async (request, reply) => {
        const who = principalOf(request);
        const { id } = request.params as { id: string };
        const message = await store.getMessage(id);
        if (!message || !canSeePartner(who, message.partnerId)) throw notFound('message');
        const replay = await ingest.replay(id, who.keyId);
        await auditApiCall(store, request, who, {
          action: 'api.message.replay',
          subjectType: 'message',
          subjectId: id,
          detail: { replayId: replay.id },
        });
        return reply.code(202).header('location', `/api/messages/${replay.id}`).send({ id: replay.id, replayOf: replay.replayOf });
      },
    );
  };
}
