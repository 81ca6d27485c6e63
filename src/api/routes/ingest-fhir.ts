import type { FastifyPluginAsync } from 'fastify';
import { principalOf } from '../auth.js';
import { resolveIngestTarget } from '../ingest-target.js';
import { CodedError } from '../../errors/catalogue.js';
import { operationOutcome, outcomeRef, type OutcomeIssue } from '../operation-outcome.js';
import { SECURITY } from '../schemas.js';
import type { ApiDeps, FhirIngestResult } from '../types.js';

export const FHIR_CONTENT_TYPES = ['application/fhir+json', 'application/json'];

const resourceBody = {
  type: 'object',
  description: 'A FHIR R4 resource or Bundle',
  required: ['resourceType'],
  properties: { resourceType: { type: 'string', minLength: 1 } },
  additionalProperties: true,
} as const;

const partnerQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { partner: { type: 'string', description: 'With a key covering several partners: which one posts' } },
} as const;

function outcomeIssues(result: FhirIngestResult): OutcomeIssue[] {
  const id = result.messageId;
  switch (result.outcome) {
    case 'accepted':
      return [{ severity: 'information', code: 'informational', diagnostics: `accepted as message ${id ?? '(unknown)'}` }];
    case 'duplicate':
      return [{ severity: 'information', code: 'duplicate', diagnostics: `already received as message ${id ?? '(unknown)'}` }];
    case 'rejected': {
      const issues: OutcomeIssue[] = (result.issues?.length ? result.issues : ['rejected']).map((text) => ({
        severity: 'error',
        code: 'invalid',
        diagnostics: text,
      }));
      if (id) issues.push({ severity: 'information', code: 'informational', diagnostics: `stored as rejected message ${id}` });
      return issues;
    }
    case 'unavailable':
      return new CodedError('CB_STORE_UNAVAILABLE').outcome().issue;
  }
}

/** POST /fhir: a Bundle or a single resource, answered with an OperationOutcome. */
export function fhirIngestRoutes(deps: Pick<ApiDeps, 'config' | 'ingest'>): FastifyPluginAsync {
  return async (scope) => {
    // JSON only on this route, with Fastify's own parser (it refuses __proto__ poisoning).
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(FHIR_CONTENT_TYPES, { parseAs: 'string' }, scope.getDefaultJsonParser('error', 'error'));

    scope.post(
      '/fhir',
      {
        schema: {
          summary: 'Receive a FHIR R4 Bundle or resource; answers an OperationOutcome',
          tags: ['ingest'],
          security: SECURITY,
          consumes: FHIR_CONTENT_TYPES,
          querystring: partnerQuery,
          body: resourceBody,
          response: {
            200: { ...outcomeRef, description: 'Duplicate: already stored (Location names the message)' },
            201: { ...outcomeRef, description: 'Stored (Location names the message)' },
            400: { ...outcomeRef, description: 'Rejected (still stored) or a bad request' },
            401: outcomeRef,
            403: outcomeRef,
            404: outcomeRef,
            413: outcomeRef,
            415: outcomeRef,
            429: outcomeRef,
            500: outcomeRef,
            503: { ...outcomeRef, description: 'Store unavailable: nothing stored; send again' },
          },
        },
      },
      async (request, reply) => {
        const who = principalOf(request);
        const { partner } = request.query as { partner?: string };
        const target = resolveIngestTarget(deps.config, who, partner);
        const result = await deps.ingest.receiveFhir(request.body, target);
        if (result.messageId) void reply.header('location', `/api/messages/${result.messageId}`);
        return reply
          .code(result.httpStatus as 200)
          .type('application/fhir+json')
          .send(operationOutcome(outcomeIssues(result)));
      },
    );
  };
}
