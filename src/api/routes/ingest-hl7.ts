import type { FastifyPluginAsync } from 'fastify';
import { CodedError } from '../../errors/catalogue.js';
import { principalOf } from '../auth.js';
import { resolveIngestTarget } from '../ingest-target.js';
import { outcomeRef } from '../operation-outcome.js';
import { SECURITY } from '../schemas.js';
import type { ApiDeps } from '../types.js';

export const HL7_CONTENT_TYPES = ['application/hl7-v2', 'x-application/hl7-v2+er7', 'text/plain'];
const ACK_TYPE = 'application/hl7-v2';

const partnerQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { partner: { type: 'string', description: 'With a key covering several partners: which one posts' } },
} as const;

const ackResponse = (description: string) => ({
  description,
  content: { [ACK_TYPE]: { schema: { type: 'string' } }, 'application/fhir+json': { schema: outcomeRef } },
});

/**
 * POST /hl7/v2: one HL7 v2 message or a batch, answered with the ACK the inbox built after the
 * commit. Only HL7 media types are parsed here (JSON gets 415), as raw bytes: the inbox reads the
 * encoding from MSH-18 and stores exactly what was sent.
 */
export function hl7IngestRoutes(deps: Pick<ApiDeps, 'config' | 'ingest' | 'metrics'>): FastifyPluginAsync {
  return async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(HL7_CONTENT_TYPES, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

    scope.post(
      '/hl7/v2',
      {
        schema: {
          summary: 'Receive HL7 v2 (a message or an FHS/BHS batch); answers the ACK',
          tags: ['ingest'],
          security: SECURITY,
          consumes: HL7_CONTENT_TYPES,
          querystring: partnerQuery,
          // Description only: the body is a Buffer, which a `type: string` schema would refuse.
          body: { description: 'HL7 v2 ER7 text (segments separated by CR)' },
          response: {
            200: ackResponse('Stored: ACK AA/CA (accepted or duplicate)'),
            400: ackResponse('Rejected and stored: ACK AE/AR with ERR; or a bad request (OperationOutcome)'),
            401: outcomeRef,
            403: outcomeRef,
            404: outcomeRef,
            413: outcomeRef,
            415: outcomeRef,
            429: outcomeRef,
            500: outcomeRef,
            503: { ...outcomeRef, description: 'Store unavailable: nothing stored, no ACK; send again' },
          },
        },
      },
      async (request, reply) => {
        const who = principalOf(request);
        const { partner } = request.query as { partner?: string };
        const target = resolveIngestTarget(deps.config, who, partner);
        const body = request.body as Buffer | undefined;
        if (!body || body.length === 0) throw new CodedError('CB_BODY_EMPTY');
        const result = await deps.ingest.receiveHl7(body, { ...target, remoteAddress: request.ip });
        if (result.messageIds.length === 1) void reply.header('location', `/api/messages/${result.messageIds[0]}`);
        if (result.outcome === 'unavailable' || (result.ack === '' && result.httpStatus >= 500)) {
          return reply
            .code((result.httpStatus >= 500 ? result.httpStatus : 503) as 503)
            .type('application/fhir+json')
            .send(new CodedError('CB_STORE_UNAVAILABLE').outcome());
        }
        // HTTP has no "ACK not wanted" (MSH-15/16 NE): the status says it, the body is empty.
        deps.metrics.ackLatency.observe({ source: target.sourceName }, reply.elapsedTime / 1000);
        return reply
          .code(result.httpStatus as 200)
          .type(ACK_TYPE)
          .send(result.ack);
      },
    );
  };
}
