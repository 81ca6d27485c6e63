import type { FastifyPluginAsync } from 'fastify';
import type { DeliveryRecord, DeliveryStatus, Page } from '../../store/types.js';
import { CodedError } from '../../errors/catalogue.js';
import { forbidden, notFound } from '../api-error.js';
import { auditApiCall } from '../audit.js';
import { principalOf } from '../auth.js';
import { outcomeRef } from '../operation-outcome.js';
import { canSeePartner, ownsDestination } from '../scope.js';
import { authErrors, deliveryQuerySchema, deliverySummarySchema, idParams, pageOf, requeueResponseSchema, SECURITY } from '../schemas.js';
import { deliverySummaryJson } from '../serialize.js';
import type { ApiDeps, Principal } from '../types.js';

interface DeliveryQueryString {
  destination?: string;
  status?: DeliveryStatus;
  messageId?: string;
  limit?: number;
  cursor?: string;
}

const EMPTY: Page<DeliveryRecord> = { items: [], next: null };

/**
 * Deliveries and dead-letter requeue. A partner key sees the deliveries of its own messages and
 * those to its own destinations; it requeues only its own destinations' dead letters.
 */
export function deliveryRoutes(deps: Pick<ApiDeps, 'config' | 'store' | 'ingest'>): FastifyPluginAsync {
  const { config, store, ingest } = deps;
  const destinationById = (id: string) => config.destinations.find((d) => d.id === id);

  async function messageVisible(who: Principal, messageId: string): Promise<boolean> {
    if (who.admin) return true;
    const message = await store.getMessage(messageId);
    return message !== null && canSeePartner(who, message.partnerId);
  }

  return async (scope) => {
    scope.get(
      '/api/deliveries',
      {
        schema: {
          summary: 'List deliveries (in creation order, paged)',
          description: 'Partner keys must filter by destination (their own) or messageId (a message they can see).',
          tags: ['deliveries'],
          security: SECURITY,
          querystring: deliveryQuerySchema,
          response: { 200: pageOf(deliverySummarySchema), 403: outcomeRef, ...authErrors },
        },
      },
      async (request) => {
        const who = principalOf(request);
        const q = request.query as DeliveryQueryString;
        let visible = who.admin;
        if (!visible && q.messageId !== undefined) visible = await messageVisible(who, q.messageId);
        else if (!visible && q.destination !== undefined) visible = ownsDestination(who, destinationById(q.destination));
        else if (!visible) throw forbidden('a partner API key lists deliveries by destination or messageId');
        const page = visible ? await store.listDeliveries(q) : EMPTY;
        return { items: page.items.map(deliverySummaryJson), next: page.next };
      },
    );

    scope.post(
      '/api/deliveries/:id/requeue',
      {
        schema: {
          summary: 'Requeue one dead letter',
          tags: ['deliveries'],
          security: SECURITY,
          params: idParams,
          response: { 200: requeueResponseSchema, 403: outcomeRef, 404: outcomeRef, 409: outcomeRef, ...authErrors },
        },
      },
      async (request) => {
        const who = principalOf(request);
        const { id } = request.params as { id: string };
        const delivery = await store.getDelivery(id);
        if (!delivery) throw notFound('delivery');
        if (!ownsDestination(who, destinationById(delivery.destination))) {
          // Seen through its own message: say why not; otherwise it does not exist for this key.
          if (await messageVisible(who, delivery.messageId)) {
            throw forbidden("requeueing needs an admin key or a key of the destination's partner");
          }
          throw notFound('delivery');
        }
        if (delivery.status !== 'dead') throw new CodedError('CB_DELIVERY_NOT_DEAD', `delivery is ${delivery.status}, not dead`);
        const requeued = await ingest.requeueDead({ deliveryId: id }, who.keyId);
        if (requeued.length === 0) throw new CodedError('CB_DELIVERY_NOT_DEAD', 'delivery is no longer dead');
        await auditApiCall(store, request, who, {
          action: 'api.delivery.requeue',
          subjectType: 'delivery',
          subjectId: id,
          detail: { destination: delivery.destination },
        });
        return { requeued };
      },
    );

    scope.post(
      '/api/destinations/:id/requeue-dead',
      {
        schema: {
          summary: "Requeue all of a destination's dead letters",
          tags: ['deliveries'],
          security: SECURITY,
          params: idParams,
          response: { 200: requeueResponseSchema, 403: outcomeRef, 404: outcomeRef, ...authErrors },
        },
      },
      async (request) => {
        const who = principalOf(request);
        const { id } = request.params as { id: string };
        const destination = destinationById(id);
        if (!destination) throw notFound('destination');
        if (!ownsDestination(who, destination)) {
          throw forbidden("requeueing needs an admin key or a key of the destination's partner");
        }
        const requeued = await ingest.requeueDead({ destination: id }, who.keyId);
        await auditApiCall(store, request, who, {
          action: 'api.destination.requeue-dead',
          subjectType: 'destination',
          subjectId: id,
          detail: { count: requeued.length },
        });
        return { requeued };
      },
    );
  };
}
