import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError, StoreInputError } from '../store/errors.js';
import { ApiError } from './api-error.js';
import { errorOutcome, type IssueCode } from './operation-outcome.js';

interface Mapped {
  status: number;
  code: IssueCode;
  text: string;
  headers?: Record<string, string>;
}

// Texts for errors whose own message may carry input (a JSON parse error quotes the body).
const GENERIC: Record<number, [IssueCode, string]> = {
  400: ['invalid', 'bad request'],
  401: ['login', 'authentication required'],
  403: ['forbidden', 'forbidden'],
  404: ['not-found', 'not found'],
  405: ['not-supported', 'method not allowed'],
  406: ['not-supported', 'not acceptable'],
  408: ['transient', 'request timeout'],
  409: ['conflict', 'conflict'],
  411: ['invalid', 'content-length required'],
  413: ['too-long', 'request body too large'],
  415: ['not-supported', 'unsupported content type'],
  429: ['throttled', 'too many requests'],
  503: ['transient', 'service unavailable'],
};

export function mapError(error: unknown, bodyLimitBytes: number): Mapped {
  if (error instanceof ApiError) {
    return { status: error.statusCode, code: error.issueCode, text: error.message, headers: error.headers };
  }
  if (error instanceof NotFoundError) return { status: 404, code: 'not-found', text: 'not found' };
  // Store input messages are written to be shown ("invalid cursor", "limit must be ...").
  if (error instanceof StoreInputError) return { status: 400, code: 'invalid', text: error.message };
  const e = error as Partial<FastifyError>;
  if (e.validation) {
    // Ajv messages name the field and the rule, not the value sent.
    return { status: 400, code: 'invalid', text: e.message ?? 'invalid request' };
  }
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, code: 'too-long', text: `request body is larger than the limit of ${bodyLimitBytes} bytes` };
  }
  if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) {
    return { status: 400, code: 'invalid', text: 'request body is not valid JSON' };
  }
  if (e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return { status: 400, code: 'invalid', text: 'request body is empty' };
  const status = typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 500;
  const generic = GENERIC[status];
  if (generic) return { status, code: generic[0], text: generic[1] };
  if (status < 500) return { status, code: 'invalid', text: 'request refused' };
  return { status: 500, code: 'exception', text: 'internal error' };
}

/**
 * Every error becomes an OperationOutcome: no stack, no message of an unexpected error, no PHI.
 * The log gets ids (request id, route, status, error class/code) at warn/error; the full error
 * (its message may quote a payload) only at debug.
 */
export function installErrorHandling(app: FastifyInstance, bodyLimitBytes: number): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const mapped = mapError(error, bodyLimitBytes);
    const e = error as Partial<FastifyError>;
    const ids = {
      route: request.routeOptions.url,
      method: request.method,
      statusCode: mapped.status,
      errorName: e.name,
      errorCode: e.code,
    };
    if (mapped.status >= 500) request.log.error(ids, 'request failed');
    else request.log.info(ids, 'request refused');
    request.log.debug({ err: error }, 'error detail');
    const text = mapped.status === 500 ? `internal error (request ${request.id})` : mapped.text;
    if (mapped.headers) void reply.headers(mapped.headers);
    return reply.code(mapped.status).type('application/fhir+json').send(errorOutcome(mapped.code, text));
  });

  app.setNotFoundHandler((request, reply) =>
    // The path, never the query string: that may carry identifiers.
    reply.code(404).type('application/fhir+json').send(errorOutcome('not-found', `no such route: ${request.method} ${pathOf(request.url)}`)),
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
