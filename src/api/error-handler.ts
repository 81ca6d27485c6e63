import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CarePlanError, type CarePlanErrorCode } from '../careplan/errors.js';
import { ConfigError } from '../config/errors.js';
import { codeForStatus, CodedError, type ErrorCode } from '../errors/catalogue.js';
import { NotFoundError, StoreInputError } from '../store/errors.js';
import { errorOutcome, type IssueCode } from './operation-outcome.js';

const CAREPLAN_CODES: Record<CarePlanErrorCode, ErrorCode> = {
  invalid: 'CB_CAREPLAN_INVALID',
  unprocessable: 'CB_CAREPLAN_UNPROCESSABLE',
  'not-found': 'CB_CAREPLAN_NOT_FOUND',
  conflict: 'CB_CAREPLAN_CONFLICT',
  forbidden: 'CB_CAREPLAN_FORBIDDEN',
};

/**
 * Any thrown value as a CodedError of the catalogue. Domain errors whose messages are written to be
 * shown keep them; errors whose message may carry input (a JSON parse error quotes the body) or
 * internals get the catalogue's text.
 */
export function toCodedError(error: unknown, bodyLimitBytes: number): CodedError {
  if (error instanceof CodedError) return error;
  if (error instanceof CarePlanError) return new CodedError(CAREPLAN_CODES[error.code], error.message, { details: error.issues });
  if (error instanceof ConfigError) return new CodedError('CB_CONFIG_INVALID', error.message);
  if (error instanceof NotFoundError) return new CodedError('CB_NOT_FOUND');
  // Store input messages are written to be shown ("invalid cursor", "limit must be ...").
  if (error instanceof StoreInputError) return new CodedError('CB_INPUT_INVALID', error.message);
  const e = error as Partial<FastifyError>;
  // Ajv messages name the field and the rule, not the value sent.
  if (e.validation) return new CodedError('CB_REQUEST_INVALID', e.message ?? 'invalid request');
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new CodedError('CB_BODY_TOO_LARGE', `request body is larger than the limit of ${bodyLimitBytes} bytes`);
  }
  if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) return new CodedError('CB_BODY_NOT_JSON');
  if (e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return new CodedError('CB_BODY_EMPTY');
  const status = typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 500;
  const code = codeForStatus(status);
  if (code === 'CB_INTERNAL') return new CodedError(code);
  return new CodedError(code, undefined, { status });
}

/** The status, issue type and text an error is answered with (for tests and logs). */
export function mapError(error: unknown, bodyLimitBytes: number): { errorCode: ErrorCode; status: number; code: string; text: string } {
  const coded = toCodedError(error, bodyLimitBytes);
  return { errorCode: coded.code, status: coded.statusCode, code: coded.issueCode, text: coded.diagnostics };
}

/**
 * Every error becomes an OperationOutcome: no stack, no message of an unexpected error, no PHI.
 * The log gets ids (request id, route, status, error class/code) at warn/error; the full error
 * (its message may quote a payload) only at debug.
 */
export function installErrorHandling(app: FastifyInstance, bodyLimitBytes: number): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const coded = toCodedError(error, bodyLimitBytes);
    const e = error as Partial<FastifyError>;
    const ids = {
      route: request.routeOptions.url,
      method: request.method,
      statusCode: coded.statusCode,
      errorCode: coded.code,
      errorName: e.name,
      ...(e.code !== undefined && e.code !== coded.code ? { cause: e.code } : {}),
    };
    if (coded.statusCode >= 500) request.log.error(ids, 'request failed');
    else request.log.info(ids, 'request refused');
    request.log.debug({ err: error }, 'error detail');
    const text = coded.code === 'CB_INTERNAL' ? `internal error (request ${request.id})` : coded.diagnostics;
    if (Object.keys(coded.headers).length) void reply.headers(coded.headers);
    return reply.code(coded.statusCode).type('application/fhir+json').send(coded.outcome(text));
  });

  app.setNotFoundHandler((request, reply) =>
    // The path, never the query string: that may carry identifiers.
    reply
      .code(404)
      .type('application/fhir+json')
      .send(new CodedError('CB_ROUTE_NOT_FOUND').outcome(`no such route: ${request.method} ${pathOf(request.url)}`)),
  );
}

/** The URL's path, without the query string, cut short (it is echoed back to the caller). */
function pathOf(url: string): string {
  const path = url.split('?')[0];
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}

/**
 * Errors Fastify raises before routing (Fastify's `frameworkErrors` option): they bypass the error
 * handler, so they are answered here, as OperationOutcomes that do not echo the URL.
 */
export function frameworkErrorHandler(error: Partial<FastifyError>, _request: FastifyRequest, reply: FastifyReply): void {
  const [status, code, text]: [number, IssueCode, string] =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? [414, 'too-long', 'URL is too long: a path segment is over the limit']
      : error.code === 'FST_ERR_BAD_URL'
        ? [400, 'invalid', 'the URL is not a valid URL (bad percent-encoding)']
        : [400, 'invalid', 'bad request'];
  void reply.code(status).type('application/fhir+json').send(errorOutcome(code, text));
}
