import type { FastifyPluginAsync } from 'fastify';
import { RosterInputError } from '../../roster/errors.js';
import {
  CONSENT_CATEGORIES,
  DIFF_KINDS,
  IMPORT_STATUSES,
  type Attribution,
  type ConsentCategory,
  type ConsentRecord,
  type DiffEvent,
  type DiffKind,
  type ImportRecord,
  type ImportStatus,
  type Member,
  type RosterStore,
  type UnmatchedEvent,
} from '../../roster/store-types.js';
import { forbidden, notFound } from '../api-error.js';
import { auditApiCall } from '../audit.js';
import { principalOf } from '../auth.js';
import { outcomeRef } from '../operation-outcome.js';
import { canSeePartner, partnerFilter } from '../scope.js';
import { authErrors, pageOf, SECURITY } from '../schemas.js';
import type { ApiDeps, Principal } from '../types.js';
import { parseIdentifier } from './messages.js';

// The attribution roster over HTTP: members (by id or identifier), attribution history, file
// imports with their errors, diff events, unmatched ADT events, and consent recorded by people.
// Scoping follows the rest of the API: what a key may not see does not exist for it (404 or an
// empty page). A partner key sees a member its partners attribute or are attributed to, the
// imports of its partners' files, the diff events that concern its partners, and the unmatched
// events its partners sent.

const str = { type: 'string' } as const;
const nullableStr = { type: ['string', 'null'] } as const;
const date = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const int = { type: 'integer' } as const;
const pageParams = {
  limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
  cursor: { type: 'string', maxLength: 500 },
} as const;

const identifierSchema = { type: 'object', properties: { system: str, value: str, type: str } } as const;

export const attributionSchema = {
  type: 'object',
  properties: {
    partnerId: str,
    role: { type: 'string', enum: ['aco', 'cp', 'pcp'] },
    start: date,
    end: { ...nullableStr, description: 'Inclusive; null = open-ended' },
    sourcePartnerId: { ...nullableStr, description: 'Partner whose member file stated it' },
    importId: nullableStr,
  },
} as const;

const consentSchema = {
  type: 'object',
  properties: {
    partnerId: str,
    category: { type: 'string', enum: [...CONSENT_CATEGORIES] },
    granted: { type: 'boolean' },
    source: { ...str, description: 'member-file, api, fhir-consent' },
    recordedAt: dateTime,
  },
} as const;

export const memberSchema = {
  type: 'object',
  properties: {
    memberId: str,
    status: { type: 'string', enum: ['active', 'terminated'] },
    name: { type: 'object', properties: { family: str, given: { type: 'array', items: str } } },
    birthDate: str,
    sex: str,
    address: {
      type: 'object',
      properties: { line: { type: 'array', items: str }, city: str, state: str, postalCode: str },
    },
    phone: str,
    identifiers: { type: 'array', items: identifierSchema },
    attributions: { type: 'array', items: attributionSchema, description: 'Open today (history: /attributions)' },
    consents: { type: 'array', items: consentSchema, description: 'Latest decision per partner and category' },
  },
} as const;

/** The counters of an import (ImportCounts), in every report of one. */
export const importCountsProperties = {
  rows: int,
  applied: int,
  errors: int,
  warnings: int,
  added: int,
  changed: int,
  terminated: int,
} as const;

/** A row error or file warning: line, kind and a reason that names the column, never the value. */
export const importIssueSchema = {
  type: 'object',
  properties: { line: int, kind: { type: 'string', enum: ['error', 'warning'] }, reason: str },
} as const;

const importProperties = {
  id: str,
  partnerId: str,
  sourceId: nullableStr,
  fileName: str,
  sha256: str,
  receivedAt: dateTime,
  importDate: str,
  fileKind: { type: 'string', enum: ['full', 'changes'] },
  status: { type: 'string', enum: [...IMPORT_STATUSES] },
  duplicateOf: nullableStr,
  ...importCountsProperties,
  error: { ...nullableStr, description: 'Why the file failed (no values)' },
  startedAt: dateTime,
  finishedAt: { type: ['string', 'null'], format: 'date-time' },
} as const;

const importDetailSchema = {
  type: 'object',
  properties: {
    ...importProperties,
    issues: {
      type: 'array',
      description: 'Row errors and file warnings in line order (reasons name the column, never the value)',
      items: importIssueSchema,
    },
  },
} as const;

const diffEventSchema = {
  type: 'object',
  properties: {
    id: str,
    importId: str,
    partnerId: { ...str, description: 'Partner whose file produced it' },
    memberId: str,
    kind: { type: 'string', enum: [...DIFF_KINDS] },
    detail: { type: 'object', additionalProperties: true },
    partners: { type: 'array', items: str, description: 'Partners it concerns' },
    createdAt: dateTime,
    notified: { type: 'boolean' },
  },
} as const;

const unmatchedSchema = {
  type: 'object',
  properties: {
    id: str,
    messageId: str,
    partnerId: nullableStr,
    receivedAt: dateTime,
    recordedAt: dateTime,
    identifiers: { type: 'array', items: identifierSchema },
    resolvedAt: { type: ['string', 'null'], format: 'date-time' },
    memberId: nullableStr,
  },
} as const;

const memberParams = {
  type: 'object',
  required: ['memberId'],
  properties: { memberId: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;

const iso = (d: Date) => d.toISOString();

export function attributionJson(a: Attribution) {
  return {
    partnerId: a.partnerId,
    role: a.role,
    start: a.start,
    end: a.end ?? null,
    sourcePartnerId: a.sourcePartnerId ?? null,
    importId: a.importId ?? null,
  };
}

const consentJson = (c: ConsentRecord) => ({ ...c, recordedAt: iso(c.recordedAt) });

export function memberJson(m: Member) {
  return { ...m, attributions: m.attributions.map(attributionJson), consents: m.consents.map(consentJson) };
}

function importJson(i: ImportRecord) {
  return { ...i, receivedAt: iso(i.receivedAt), startedAt: iso(i.startedAt), finishedAt: i.finishedAt ? iso(i.finishedAt) : null };
}

const diffEventJson = (e: DiffEvent) => ({ ...e, createdAt: iso(e.createdAt) });

function unmatchedJson(u: UnmatchedEvent) {
  return { ...u, receivedAt: iso(u.receivedAt), recordedAt: iso(u.recordedAt), resolvedAt: u.resolvedAt ? iso(u.resolvedAt) : null };
}

function sinceDate(since: string | undefined): Date | undefined {
  if (since === undefined) return undefined;
  const d = new Date(since);
  if (Number.isNaN(d.getTime())) throw new RosterInputError('since must be a date-time');
  return d;
}

/** Roster routes; registered by buildApi when the gateway has a roster. */
export function rosterRoutes(deps: Pick<ApiDeps, 'store'> & { roster: RosterStore }): FastifyPluginAsync {
  const { roster, store } = deps;

  async function memberVisible(who: Principal, memberId: string): Promise<boolean> {
    return who.admin || roster.memberConcerns(memberId, who.partners);
  }

  return async (scope) => {
    scope.get(
      '/api/roster/members',
      {
        schema: {
          summary: 'Find roster members by identifier',
          tags: ['roster'],
          security: SECURITY,
          querystring: {
            type: 'object',
            additionalProperties: false,
            required: ['identifier'],
            properties: { identifier: { ...str, minLength: 1, description: '`system|value`, or `value` for any system' } },
          },
          response: { 200: { type: 'object', properties: { items: { type: 'array', items: memberSchema } } }, ...authErrors },
        },
      },
      async (request) => {
        const who = principalOf(request);
        const { identifier } = request.query as { identifier: string };
        const ids = (await roster.findMemberIds(parseIdentifier(identifier))).slice(0, 50);
        const items: ReturnType<typeof memberJson>[] = [];
        for (const id of ids) {
          if (!(await memberVisible(who, id))) continue;
          const m = await roster.getMember(id);
          if (m) items.push(memberJson(m));
        }
        return { items };
      },
    );

    scope.get(
      '/api/roster/members/:memberId',
      {
        schema: {
          summary: 'A roster member: identifiers, demographics, current attributions, latest consents',
          tags: ['roster'],
          security: SECURITY,
          params: memberParams,
          response: { 200: memberSchema, 404: outcomeRef, ...authErrors },
        },
      },
      async (request) => {
        const who = principalOf(request);
        const { memberId } = request.params as { memberId: string };
        const m = (await memberVisible(who, memberId)) ? await roster.getMember(memberId) : null;
        if (!m) throw notFound('member');
        return memberJson(m);
      },
    );

    scope.get(
      '/api/roster/members/:memberId/attributions',
      {
        schema: {
          summary: "A member's attribution history (every ACO, CP and PCP assignment with its dates and file)",
          tags: ['roster'],
          security: SECURITY,
          params: memberParams,
          response: {
            200: { type: 'object', properties: { items: { type: 'array', items: attributionSchema } } },
            404: outcomeRef,
            ...authErrors,
          },
        },
      },
      async (request) => {
        const who = principalOf(request);
        const { memberId } = request.params as { memberId: string };
        const history = (await memberVisible(who, memberId)) ? await roster.attributionHistory(memberId) : null;
        // A member with no attribution at all is visible to admin keys only (memberVisible is false for others).
        if (!history || (history.length === 0 && !(await roster.getMember(memberId)))) throw notFound('member');
        return { items: history.map(attributionJson) };
      },
    );

    scope.post(
      '/api/roster/members/:memberId/consents',
      {
        schema: {
          summary: "Record a member's consent decision for a partner (the latest decision wins)",
          tags: ['roster'],
          security: SECURITY,
          params: memberParams,
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['partnerId', 'category', 'granted'],
            properties: {
              partnerId: { ...str, minLength: 1, maxLength: 64 },
              category: { type: 'string', enum: [...CONSENT_CATEGORIES] },
              granted: { type: 'boolean' },
              recordedAt: { ...dateTime, description: 'When the member decided; default now' },
            },
          },
          response: { 201: consentSchema, 403: outcomeRef, 404: outcomeRef, ...authErrors },
        },
      },
      async (request, reply) => {
        const who = principalOf(request);
        const { memberId } = request.params as { memberId: string };
        const body = request.body as { partnerId: string; category: ConsentCategory; granted: boolean; recordedAt?: string };
        if (!(await memberVisible(who, memberId))) throw notFound('member');
        if (!canSeePartner(who, body.partnerId)) throw forbidden("recording consent needs an admin key or a key of the consent's partner");
        const recordedAt = body.recordedAt !== undefined ? new Date(body.recordedAt) : undefined;
        const consent = await roster.recordConsent(memberId, {
          partnerId: body.partnerId,
          category: body.category,
          granted: body.granted,
          source: 'api',
          recordedAt,
          actor: who.keyId,
        });
        await auditApiCall(store, request, who, {
          action: 'api.roster.consent',
          subjectType: 'member',
          subjectId: memberId,
          detail: { partnerId: consent.partnerId, category: consent.category, granted: consent.granted },
        });
        return reply.code(201).send(consentJson(consent));
      },
    );

    scope.get(
      '/api/roster/imports',
      {
        schema: {
          summary: 'Member-file imports, newest first',
          tags: ['roster'],
          security: SECURITY,
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { partner: str, status: { type: 'string', enum: [...IMPORT_STATUSES] }, ...pageParams },
          },
          response: { 200: pageOf({ type: 'object', properties: importProperties }), ...authErrors },
        },
      },
      async (request) => {
        const who = principalOf(request);
        const q = request.query as { partner?: string; status?: ImportStatus; limit?: number; cursor?: string };
        const page = await roster.listImports({ ...q, partners: partnerFilter(who) });
        return { items: page.items.map(importJson), next: page.next };
      },
    );

    scope.get(
      '/api/roster/imports/:id',
      {
        schema: {
          summary: 'One import: rows, applied, errors and warnings with line numbers',
          tags: ['roster'],
          security: SECURITY,
          params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 200 } } },
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { issueLimit: { type: 'integer', minimum: 0, maximum: 10_000, default: 1000 } },
          },
          response: { 200: importDetailSchema, 404: outcomeRef, ...authErrors },
        },
      },
      async (request) => {
        const who = principalOf(request);
        const { id } = request.params as { id: string };
        const { issueLimit } = request.query as { issueLimit?: number };
        const detail = await roster.getImport(id, { issueLimit });
        if (!detail || !canSeePartner(who, detail.partnerId)) throw notFound('import');
        return { ...importJson(detail), issues: detail.issues };
      },
    );

    scope.get(
      '/api/roster/diff-events',
      {
        schema: {
          summary: 'Roster changes (added, changed, terminated) in the order they happened',
          tags: ['roster'],
          security: SECURITY,
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              partner: { ...str, description: 'Events concerning this partner (its file, or it is the old/new ACO/CP)' },
              since: { ...dateTime, description: 'created at or after' },
              kind: { type: 'string', enum: [...DIFF_KINDS] },
              importId: str,
              notified: { type: 'boolean' },
              ...pageParams,
            },
          },
          response: { 200: pageOf(diffEventSchema), ...authErrors },
        },
      },
      async (request) => {
        const who = principalOf(request);
        const q = request.query as {
          partner?: string;
          since?: string;
          kind?: DiffKind;
          importId?: string;
          notified?: boolean;
          limit?: number;
          cursor?: string;
        };
        const page = await roster.listDiffEvents({ ...q, since: sinceDate(q.since), partners: partnerFilter(who) });
        return { items: page.items.map(diffEventJson), next: page.next };
      },
    );

    scope.get(
      '/api/roster/unmatched',
      {
        schema: {
          summary: 'ADT events whose patient matched no roster member (newest first); re-resolved after each import',
          tags: ['roster'],
          security: SECURITY,
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { resolved: { type: 'boolean' }, ...pageParams },
          },
          response: { 200: pageOf(unmatchedSchema), ...authErrors },
        },
      },
      async (request) => {
        const who = principalOf(request);
        const q = request.query as { resolved?: boolean; limit?: number; cursor?: string };
        const page = await roster.listUnmatched({ ...q, partners: partnerFilter(who) });
        return { items: page.items.map(unmatchedJson), next: page.next };
      },
    );
  };
}
