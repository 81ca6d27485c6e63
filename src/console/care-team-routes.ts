import type { FastifyPluginAsync } from 'fastify';
import { ApiError, forbidden, notFound } from '../api/api-error.js';
import { principalOf } from '../api/auth.js';
import { outcomeRef } from '../api/operation-outcome.js';
import { canSeePartner } from '../api/scope.js';
import { authErrors, SECURITY } from '../api/schemas.js';
import type { ApiDeps, Principal } from '../api/types.js';
import type { CarePlanSettings } from '../careplan/settings.js';
import type { RosterStore } from '../roster/store-types.js';
import { newMembers } from './new-members.js';
import { FOLLOW_UP_AUDIT, followUpSubject, partnerAdtDestination, worklistItem, type WorklistItem } from './worklist.js';

const str = { type: 'string' } as const;
const nullableStr = { type: ['string', 'null'] } as const;

const itemSchema = {
  type: 'object',
  properties: {
    messageId: str,
    kind: { type: 'string', enum: ['admit', 'ed-visit', 'discharge', 'transfer'] },
    event: str,
    at: str,
    patient: { type: 'object', properties: { name: str, birthDate: nullableStr, memberIds: { type: 'array', items: str } } },
    facility: nullableStr,
    carePlanId: nullableStr,
    dueDate: { ...str, description: 'Local date in the partner’s calendar' },
    dueAt: str,
    businessDays: { type: 'integer' },
    state: { type: 'string', enum: ['due', 'overdue', 'done'] },
    done: { type: ['object', 'null'], properties: { at: str, by: str, contactedBy: nullableStr } },
  },
} as const;

const partnerQuery = { partner: { type: 'string', maxLength: 64, description: 'Partner id; default: the key’s only partner' } } as const;

export interface CareTeamRouteDeps extends Pick<ApiDeps, 'config' | 'store' | 'careplans'> {
  roster?: RosterStore;
  settings: CarePlanSettings;
}

/** The partner a care-team page is for: `?partner=` (which the key must cover), else the key's only partner. */
function actingPartner(deps: CareTeamRouteDeps, who: Principal, requested: string | undefined): string {
  if (requested !== undefined) {
    if (!Object.hasOwn(deps.config.partners, requested)) throw new ApiError(400, 'invalid', 'unknown partner');
    if (!canSeePartner(who, requested)) throw forbidden('this API key may not act for that partner');
    return requested;
  }
  if (!who.admin && who.partners.length === 1) return who.partners[0]!;
  throw new ApiError(400, 'invalid', 'name the partner with ?partner=');
}

/** At most this many deliveries are read per worklist request, whatever the filter drops. */
const SCAN_FACTOR = 5;

export function careTeamRoutes(deps: CareTeamRouteDeps): FastifyPluginAsync {
  const { config, store } = deps;
  return async (scope) => {
    scope.get(
      '/api/worklist',
      {
        schema: {
          summary:
            'A CP’s worklist: its attributed members’ admissions, ED visits, discharges and transfers, newest first, with follow-up due dates',
          description:
            'Follow-ups are due in business days of the CP’s calendar: a discharge per its transition-of-care plan (careplans.followUpBusinessDays), ' +
            'an ED visit the same business day, an admission or transfer the next. `state` filters: open (due or overdue), overdue, done, all. ' +
            'A page may hold fewer than `limit` rows when the filter drops some; follow `next`.',
          tags: ['worklist'],
          security: SECURITY,
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              ...partnerQuery,
              state: { type: 'string', enum: ['open', 'overdue', 'done', 'all'], default: 'all' },
              limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
              cursor: { type: 'string', maxLength: 200 },
            },
          },
          response: {
            200: { type: 'object', properties: { partner: str, items: { type: 'array', items: itemSchema }, next: nullableStr } },
            403: outcomeRef,
            ...authErrors,
          },
        },
      },
      async (request) => {
        const who = principalOf(request);
        const q = request.query as { partner?: string; state: 'open' | 'overdue' | 'done' | 'all'; limit: number; cursor?: string };
        const partner = actingPartner(deps, who, q.partner);
        const destination = partnerAdtDestination(config, partner);
        if (!destination) return { partner, items: [], next: null };
        const now = new Date();
        const items: WorklistItem[] = [];
        let cursor: string | null | undefined = q.cursor;
        let scanned = 0;
        while (items.length < q.limit && scanned < q.limit * SCAN_FACTOR) {
          const page = await store.listDeliveries({ destination, newestFirst: true, limit: Math.min(100, q.limit), cursor });
          for (const d of page.items) {
            scanned++;
            const message = await store.getMessage(d.messageId);
            const item = message ? await worklistItem(deps, partner, d, message, now) : undefined;
            if (!item) continue;
            if (q.state === 'open' && item.state === 'done') continue;
            if ((q.state === 'overdue' || q.state === 'done') && item.state !== q.state) continue;
            items.push(item);
          }
          cursor = page.next;
          if (!cursor) break;
        }
        return { partner, items, next: cursor ?? null };
      },
    );

    scope.post(
      '/api/worklist/:messageId/follow-up',
      {
        schema: {
          summary: 'The CP made the follow-up contact for this event: recorded with who (key, and the person named) and when',
          description: 'A discharge’s transition-of-care plan is completed too. Idempotent: the first record stands.',
          tags: ['worklist'],
          security: SECURITY,
          params: { type: 'object', required: ['messageId'], properties: { messageId: { type: 'string', minLength: 1, maxLength: 200 } } },
          querystring: { type: 'object', additionalProperties: false, properties: partnerQuery },
          body: {
            type: ['object', 'null'],
            additionalProperties: false,
            properties: {
              contactedBy: { type: 'string', maxLength: 100, description: 'Who made the contact (a staff name; no patient data)' },
            },
          },
          response: { 200: itemSchema, 403: outcomeRef, 404: outcomeRef, ...authErrors },
        },
      },
      async (request) => {
        const who = principalOf(request);
        const partner = actingPartner(deps, who, (request.query as { partner?: string }).partner);
        const { messageId } = request.params as { messageId: string };
        const contactedBy = (request.body as { contactedBy?: string } | null)?.contactedBy?.trim() || undefined;
        const destination = partnerAdtDestination(config, partner);
        const delivery = destination ? (await store.listDeliveries({ messageId, destination, limit: 1 })).items[0] : undefined;
        const message = delivery ? await store.getMessage(messageId) : null;
        const now = new Date();
        const item = delivery && message ? await worklistItem(deps, partner, delivery, message, now) : undefined;
        // An event the partner never received does not exist for it.
        if (!item) throw notFound('worklist event');
        if (item.done) return item;
        if (item.carePlanId && deps.careplans) {
          await deps.careplans
            .completeFollowUp(item.carePlanId, `${now.toISOString().slice(0, 19)}Z`, { actor: who.keyId, actingPartner: partner })
            .catch(() => undefined);
        }
        await store.recordAudit({
          at: now,
          actor: who.keyId,
          action: FOLLOW_UP_AUDIT.action,
          subjectType: FOLLOW_UP_AUDIT.subjectType,
          subjectId: followUpSubject(partner, messageId),
          detail: {
            partner,
            messageId,
            kind: item.kind,
            carePlanId: item.carePlanId,
            requestId: request.id,
            ...(contactedBy ? { contactedBy } : {}),
          },
        });
        return (await worklistItem(deps, partner, delivery!, message!, now))!;
      },
    );

    scope.get(
      '/api/console/new-members',
      {
        schema: {
          summary: 'Members newly assigned to a CP by the last roster file that changed its members',
          tags: ['worklist'],
          security: SECURITY,
          querystring: { type: 'object', additionalProperties: false, properties: partnerQuery },
          response: {
            200: {
              type: 'object',
              properties: {
                partner: str,
                import: {
                  type: ['object', 'null'],
                  properties: { id: str, partnerId: str, importDate: str, receivedAt: str },
                },
                items: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      memberId: str,
                      name: str,
                      birthDate: nullableStr,
                      since: nullableStr,
                      aco: nullableStr,
                      newMember: { type: 'boolean' },
                    },
                  },
                },
              },
            },
            403: outcomeRef,
            ...authErrors,
          },
        },
      },
      async (request) => {
        const who = principalOf(request);
        const partner = actingPartner(deps, who, (request.query as { partner?: string }).partner);
        if (!deps.roster) return { partner, import: null, items: [] };
        return { partner, ...(await newMembers(deps.roster, partner)) };
      },
    );
  };
}
