// Care plans (issue 5): a CP submits its plans, the member's ACO signs them off, the CP marks
// follow-up contacts done; both see due/overdue lists and the weekly status file.
//
// Scoping follows the rest of the API: a plan exists for a key only when the key covers the plan's
// CP or ACO (else 404). Submitting and marking follow-ups are the CP's; signing is the ACO's (an
// admin key may do both, e.g. for a PCP office without its own key).
import type { CarePlan } from 'fhir/r4.js';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { partnerOrganization, signingPartnerOf } from '../../careplan/partners.js';
import { alreadyDecided, standingSignoff, type CarePlanService } from '../../careplan/service.js';
import { signoffStatusOf } from '../../careplan/signoff.js';
import type { CarePlanRecord, SignoffState } from '../../careplan/store/types.js';
import { NPI_SYSTEM } from '../../../adapters/careplan-csv/index.js';
import { CodedError } from '../../errors/catalogue.js';
import { forbidden, notFound } from '../api-error.js';
import { auditApiCall } from '../audit.js';
import { principalOf } from '../auth.js';
import { outcomeRef } from '../operation-outcome.js';
import { canSeePartner } from '../scope.js';
import { authErrors, SECURITY } from '../schemas.js';
import type { ApiDeps, Principal } from '../types.js';
import { FHIR_CONTENT_TYPES } from './ingest-fhir.js';

const str = { type: 'string' } as const;
const nullableStr = { type: ['string', 'null'] } as const;
const anyObject = { type: 'object', additionalProperties: true } as const;

const carePlanSummary = {
  type: 'object',
  properties: {
    id: str,
    kind: { type: 'string', enum: ['transition-of-care', 'cp-plan'] },
    memberId: nullableStr,
    cpPartner: str,
    acoPartner: nullableStr,
    pcpPartner: nullableStr,
    status: str,
    signoff: { type: ['string', 'null'], enum: ['pending', 'approved', 'rejected', null] },
    dueAt: nullableStr,
    createdAt: str,
    completedAt: nullableStr,
    updatedAt: str,
    version: { type: 'integer' },
    lastMessageId: nullableStr,
    carePlan: anyObject,
  },
} as const;

const carePlanDetail = {
  type: 'object',
  properties: {
    ...carePlanSummary.properties,
    signoffs: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: str,
          decision: str,
          method: str,
          planVersion: { type: 'integer' },
          decidedAt: str,
          recordedAt: str,
          provenance: anyObject,
        },
      },
    },
    followUp: {
      type: ['object', 'null'],
      properties: { completedAt: str, recordedAt: str, recordedBy: str },
    },
  },
} as const;

const submitResponse = {
  type: 'object',
  properties: { outcome: { type: 'string', enum: ['created', 'revised', 'unchanged'] }, messageId: str, carePlan: carePlanSummary },
} as const;

const signoffResponse = {
  type: 'object',
  properties: {
    outcome: { type: 'string', enum: ['recorded', 'duplicate'] },
    messageId: str,
    carePlan: carePlanSummary,
    provenance: anyObject,
  },
} as const;

const dueItem = {
  type: 'object',
  properties: {
    carePlanId: str,
    kind: str,
    obligation: { type: 'string', enum: ['follow-up', 'signoff'] },
    memberId: nullableStr,
    cpPartner: str,
    acoPartner: nullableStr,
    pcpPartner: nullableStr,
    signoff: nullableStr,
    dueAt: str,
    dueDate: str,
    state: { type: 'string', enum: ['due', 'overdue'] },
  },
} as const;

const page = (items: object) => ({ type: 'object', properties: { items: { type: 'array', items }, next: nullableStr } }) as const;

const partnerQuery = { partner: { type: 'string', maxLength: 64, description: 'Partner id; default: the key’s only partner' } } as const;
const pageQuery = {
  limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
  cursor: { type: 'string', maxLength: 200 },
} as const;
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[A-Za-z0-9\\-.]{1,64}$' } } } as const;

const errors = {
  403: outcomeRef,
  404: outcomeRef,
  409: outcomeRef,
  415: outcomeRef,
  422: outcomeRef,
  503: outcomeRef,
  ...authErrors,
} as const;

function summaryJson(r: CarePlanRecord) {
  return {
    id: r.id,
    kind: r.kind,
    memberId: r.memberId,
    cpPartner: r.cpPartner,
    acoPartner: r.acoPartner,
    pcpPartner: r.pcpPartner ?? null,
    status: r.status,
    signoff: r.signoff,
    dueAt: r.dueAt?.toISOString() ?? null,
    createdAt: r.createdAt.toISOString(),
    completedAt: r.completedAt?.toISOString() ?? null,
    updatedAt: r.updatedAt.toISOString(),
    version: r.version,
    lastMessageId: r.lastMessageId,
    carePlan: r.resource,
  };
}

const visible = (who: Principal, r: CarePlanRecord): boolean =>
  canSeePartner(who, r.cpPartner) || canSeePartner(who, r.acoPartner) || canSeePartner(who, r.pcpPartner);

/**
 * The partner a call acts for: `?partner=` (which the key must cover), else the key's only partner.
 * Admin keys must name one.
 */
function actingPartner(deps: Pick<ApiDeps, 'config'>, who: Principal, requested: string | undefined): string {
  if (requested !== undefined) {
    if (!Object.hasOwn(deps.config.partners, requested)) throw new CodedError('CB_PARTNER_UNKNOWN');
    if (!canSeePartner(who, requested)) throw forbidden('this API key may not act for that partner');
    return requested;
  }
  if (!who.admin && who.partners.length === 1) return who.partners[0]!;
  throw new CodedError('CB_PARTNER_REQUIRED');
}

/** The plan when this key may see it; a plan it may not see does not exist for it. */
async function visiblePlan(service: CarePlanService, who: Principal, id: string) {
  const detail = await service.get(id);
  if (!detail || !visible(who, detail.record)) throw notFound('care plan');
  return detail;
}

/** When a body names no time: now, as a FHIR instant (UTC). */
const nowInstant = () => `${new Date().toISOString().slice(0, 19)}Z`;

interface SignoffBody {
  decision: string;
  signedBy?: { npi?: string; reference?: string; display?: string };
  signedAt?: string;
  reason?: string;
  version?: number;
}

const DECISIONS: Record<string, 'approved' | 'rejected'> = {
  approved: 'approved',
  approve: 'approved',
  rejected: 'rejected',
  reject: 'rejected',
};

export function carePlanRoutes(deps: Pick<ApiDeps, 'config' | 'store'> & { careplans: CarePlanService }): FastifyPluginAsync {
  const { careplans: service, store } = deps;

  /** Sign-off through the API operation or a FHIR update: the plan's ACO or its PCP's organization (or an admin). */
  async function signoff(request: FastifyRequest, id: string, body: SignoffBody, method: 'api' | 'fhir') {
    const who = principalOf(request);
    const { record } = await visiblePlan(service, who, id);
    const signers = [record.acoPartner, record.pcpPartner].filter((p): p is string => p !== null && p !== undefined);
    const acting = who.admin ? undefined : signers.find((p) => who.partners.includes(p));
    if (!who.admin && !acting) throw forbidden("only the care plan's ACO or its PCP's organization signs it off");
    const onBehalf = acting ?? record.acoPartner ?? record.pcpPartner;
    const decision = DECISIONS[body.decision.toLowerCase()];
    if (!decision) throw new CodedError('CB_REQUEST_INVALID', 'decision must be approved or rejected');
    const signer = body.signedBy;
    const signerRef = signer?.npi
      ? {
          type: 'Practitioner',
          identifier: { system: NPI_SYSTEM, value: signer.npi },
          ...(signer.display ? { display: signer.display } : {}),
        }
      : signer?.reference
        ? { reference: signer.reference, ...(signer.display ? { display: signer.display } : {}) }
        : partnerOrganization(onBehalf!, deps.config.partners[onBehalf!]?.name);
    const result = await service.recordSignoff(id, {
      decision,
      who: signerRef,
      when: body.signedAt ?? nowInstant(),
      method,
      ...(body.reason !== undefined ? { reason: body.reason } : {}),
      ...(body.version !== undefined ? { version: body.version } : {}),
      ...(acting ? { actingPartner: acting } : {}),
    });
    if (result.outcome === 'recorded') {
      await auditApiCall(store, request, who, {
        action: 'api.careplan.signoff',
        subjectType: 'careplan',
        subjectId: id,
        detail: { decision, method, version: record.version, messageId: result.messageId },
      });
    }
    return result;
  }

  return async (scope) => {
    // FHIR JSON as well as plain JSON, with Fastify's own (prototype-poisoning-safe) parser.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(FHIR_CONTENT_TYPES, { parseAs: 'string' }, scope.getDefaultJsonParser('error', 'error'));

    scope.post(
      '/api/careplans',
      {
        schema: {
          summary: 'A CP submits a care plan (FHIR CarePlan) for sign-off by the member’s ACO',
          description:
            'The subject must identify the member: subject.identifier, or a contained Patient with identifiers. ' +
            '201 for a new plan, 200 for a revision (back to pending sign-off) or an unchanged resubmission.',
          tags: ['careplans'],
          security: SECURITY,
          consumes: FHIR_CONTENT_TYPES,
          querystring: { type: 'object', additionalProperties: false, properties: partnerQuery },
          body: {
            type: 'object',
            required: ['resourceType'],
            properties: { resourceType: { type: 'string' } },
            additionalProperties: true,
          },
          response: { 200: submitResponse, 201: submitResponse, ...errors },
        },
      },
      async (request, reply) => {
        const who = principalOf(request);
        const partner = actingPartner(deps, who, (request.query as { partner?: string }).partner);
        const result = await service.submitCarePlan(partner, request.body);
        if (result.outcome !== 'unchanged') {
          await auditApiCall(store, request, who, {
            action: 'api.careplan.submit',
            subjectType: 'careplan',
            subjectId: result.record.id,
            detail: { outcome: result.outcome, version: result.record.version, messageId: result.messageId },
          });
        }
        void reply.header('location', `/api/careplans/${result.record.id}`);
        return reply
          .code(result.outcome === 'created' ? 201 : 200)
          .send({ outcome: result.outcome, messageId: result.messageId, carePlan: summaryJson(result.record) });
      },
    );

    scope.get(
      '/api/careplans',
      {
        schema: {
          summary: 'List care plans (creation order, paged)',
          description: '`status` is the sign-off state. Partner keys see the plans of their partners (as CP or ACO).',
          tags: ['careplans'],
          security: SECURITY,
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              partner: { type: 'string', maxLength: 64 },
              role: { type: 'string', enum: ['cp', 'aco'] },
              status: { type: 'string', enum: ['pending', 'approved', 'rejected'] },
              kind: { type: 'string', enum: ['transition-of-care', 'cp-plan'] },
              member: { type: 'string', maxLength: 200 },
              ...pageQuery,
            },
          },
          response: { 200: page(carePlanSummary), ...errors },
        },
      },
      async (request) => {
        const who = principalOf(request);
        const q = request.query as {
          partner?: string;
          role?: 'cp' | 'aco';
          status?: SignoffState;
          kind?: CarePlanRecord['kind'];
          member?: string;
          limit?: number;
          cursor?: string;
        };
        if (q.partner !== undefined && !canSeePartner(who, q.partner)) return { items: [], next: null };
        const result = await service.list({
          partner: q.partner,
          role: q.role,
          signoff: q.status,
          kind: q.kind,
          memberId: q.member,
          limit: q.limit,
          cursor: q.cursor,
          ...(who.admin ? {} : { partners: who.partners }),
        });
        return { items: result.items.map(summaryJson), next: result.next };
      },
    );

    scope.get(
      '/api/careplans/due',
      {
        schema: {
          summary: 'A partner’s open follow-ups and unsigned care plans, by due date',
          description: 'As CP: follow-up contacts not yet made and its plans awaiting sign-off; as ACO: plans it has to sign.',
          tags: ['careplans'],
          security: SECURITY,
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { ...partnerQuery, overdue: { type: 'boolean', description: 'Only overdue ones' }, ...pageQuery },
          },
          response: { 200: page(dueItem), ...errors },
        },
      },
      async (request) => {
        const who = principalOf(request);
        const q = request.query as { partner?: string; overdue?: boolean; limit?: number; cursor?: string };
        const partner = actingPartner(deps, who, q.partner);
        return service.dueList(partner, new Date(), { limit: q.limit, cursor: q.cursor, overdueOnly: q.overdue });
      },
    );

    scope.get(
      '/api/careplans/status-file',
      {
        schema: {
          summary: 'The weekly status file of a CP, as of now (CSV)',
          description:
            'Columns: section, member_id, care_plan_id, created_date, signoff_status, signed_date, due_date, state, days_overdue.',
          tags: ['careplans'],
          security: SECURITY,
          produces: ['text/csv'],
          querystring: { type: 'object', additionalProperties: false, properties: partnerQuery },
          response: { 200: { type: 'string' }, ...errors },
        },
      },
      async (request, reply) => {
        const who = principalOf(request);
        const partner = actingPartner(deps, who, (request.query as { partner?: string }).partner);
        if (deps.config.partners[partner]?.kind !== 'cp')
          throw new CodedError('CB_REQUEST_INVALID', 'the status file is made for community partners (kind cp)');
        const csv = await service.weeklyStatus(partner, new Date());
        const day = new Date().toISOString().slice(0, 10);
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="careplan-status-${partner}-${day}.csv"`)
          .send(csv);
      },
    );

    scope.get(
      '/api/careplans/:id',
      {
        schema: {
          summary: 'One care plan with its sign-off Provenances and follow-up',
          tags: ['careplans'],
          security: SECURITY,
          params: idParams,
          response: { 200: carePlanDetail, ...errors },
        },
      },
      async (request) => {
        const who = principalOf(request);
        const { record, signoffs, followUp } = await visiblePlan(service, who, (request.params as { id: string }).id);
        return {
          ...summaryJson(record),
          signoffs: signoffs.map((s) => ({
            id: s.id,
            decision: s.decision,
            method: s.method,
            planVersion: s.planVersion,
            decidedAt: s.decidedAt.toISOString(),
            recordedAt: s.recordedAt.toISOString(),
            provenance: s.provenance,
          })),
          followUp: followUp
            ? {
                completedAt: followUp.completedAt.toISOString(),
                recordedAt: followUp.recordedAt.toISOString(),
                recordedBy: followUp.recordedBy,
              }
            : null,
        };
      },
    );

    scope.post(
      '/api/careplans/:id/signoff',
      {
        schema: {
          summary: 'The ACO approves or rejects a CP care plan (PCP sign-off)',
          description:
            'signedBy: the PCP by NPI (or any Practitioner/PractitionerRole/Organization reference); default the ACO. ' +
            'signedAt: when the PCP decided (FHIR instant); default now. version: the plan version signed (409 when revised since).',
          tags: ['careplans'],
          security: SECURITY,
          params: idParams,
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['decision'],
            properties: {
              decision: { type: 'string', enum: ['approved', 'rejected', 'approve', 'reject'] },
              signedBy: {
                type: 'object',
                additionalProperties: false,
                properties: {
                  npi: { type: 'string', pattern: '^\\d{10}$' },
                  reference: { type: 'string', maxLength: 300 },
                  display: { type: 'string', maxLength: 200 },
                },
              },
              signedAt: { type: 'string', maxLength: 40 },
              reason: { type: 'string', minLength: 1, maxLength: 4000 },
              version: { type: 'integer', minimum: 1 },
            },
          },
          response: { 200: signoffResponse, ...errors },
        },
      },
      async (request) => {
        const r = await signoff(request, (request.params as { id: string }).id, request.body as SignoffBody, 'api');
        return { outcome: r.outcome, messageId: r.messageId, carePlan: summaryJson(r.record), provenance: r.provenance };
      },
    );

    scope.post(
      '/api/careplans/:id/follow-up',
      {
        schema: {
          summary: 'The CP made the follow-up contact of a transition-of-care plan',
          tags: ['careplans'],
          security: SECURITY,
          description: 'Body (optional, JSON): { "completedAt": FHIR instant }; default now.',
          params: idParams,
          response: { 200: carePlanSummary, ...errors },
        },
      },
      async (request) => {
        const who = principalOf(request);
        const id = (request.params as { id: string }).id;
        const { record } = await visiblePlan(service, who, id);
        if (!who.admin && !who.partners.includes(record.cpPartner)) throw forbidden('only the care plan’s CP records its follow-up');
        // The body is optional (no schema: Fastify would refuse an empty one).
        const body = (request.body ?? {}) as { completedAt?: unknown };
        if (typeof body !== 'object' || Array.isArray(body) || (body.completedAt !== undefined && typeof body.completedAt !== 'string')) {
          throw new CodedError('CB_REQUEST_INVALID', 'body must be { "completedAt": "<FHIR instant>" } or empty');
        }
        const done = await service.completeFollowUp(id, (body.completedAt as string | undefined) ?? nowInstant(), {
          actor: who.keyId,
          ...(who.admin ? {} : { actingPartner: record.cpPartner }),
        });
        if (!record.completedAt) {
          await auditApiCall(store, request, who, { action: 'api.careplan.follow-up', subjectType: 'careplan', subjectId: id });
        }
        return summaryJson(done);
      },
    );

    scope.put(
      '/fhir/CarePlan/:id',
      {
        schema: {
          summary: 'FHIR update of a CP care plan carrying the ACO’s sign-off',
          description:
            'The body is the CarePlan with meta.tag (system https://carebridge.example.org/fhir/CodeSystem/careplan-signoff-status) ' +
            'approved or rejected; the newest note is taken as the reason. Other changes are not applied: the CP owns the plan.',
          tags: ['careplans'],
          security: SECURITY,
          consumes: FHIR_CONTENT_TYPES,
          params: idParams,
          body: {
            type: 'object',
            required: ['resourceType'],
            properties: { resourceType: { type: 'string', enum: ['CarePlan'] } },
            additionalProperties: true,
          },
          response: { 200: anyObject, ...errors },
        },
      },
      async (request, reply) => {
        const id = (request.params as { id: string }).id;
        const body = request.body as CarePlan;
        if (body.id !== undefined && body.id !== id) throw new CodedError('CB_REQUEST_INVALID', 'CarePlan.id does not match the URL');
        const state = signoffStatusOf(body);
        if (state === 'pending')
          throw new CodedError('CB_CAREPLAN_NO_DECISION', 'the CarePlan carries no sign-off decision (meta.tag approved or rejected)');
        // PUT is idempotent: the decision the plan already carries is not recorded again. But the
        // other signer (ACO or PCP's organization) putting it did not decide: told who did, as on POST.
        const who = principalOf(request);
        const current = await visiblePlan(service, who, id);
        if (current.record.signoff === state) {
          const standing = standingSignoff(current.signoffs);
          const decidedBy = standing ? signingPartnerOf(standing.provenance) : undefined;
          if (!who.admin && decidedBy !== undefined && !who.partners.includes(decidedBy)) throw alreadyDecided(state, current.signoffs);
          return reply.type('application/fhir+json').send(current.record.resource);
        }
        const note = [...(body.note ?? [])].reverse().find((n) => n.text)?.text;
        const version = body.meta?.versionId !== undefined && /^\d+$/.test(body.meta.versionId) ? Number(body.meta.versionId) : undefined;
        const r = await signoff(
          request,
          id,
          { decision: state, ...(note ? { reason: note } : {}), ...(version ? { version } : {}) },
          'fhir',
        );
        return reply.type('application/fhir+json').send(r.record.resource);
      },
    );
  };
}
