// The error catalogue: every error carebridge shows a caller has a code here, and the code decides
// the HTTP status and the OperationOutcome issue type, in this one table (as Fastify's lib/errors.js
// keeps all of its FST_ERR_* codes in one file). A CodedError carries its OperationOutcome (as
// Medplum's OperationOutcomeError does), so whoever catches it can answer without a mapping of its own.
//
// Texts are shown to callers as they are: ids and rules, never PHI, never a configured secret.
import { operationOutcome, type IssueCode, type OperationOutcome } from './outcome.js';

interface ErrorSpec {
  status: number;
  issue: IssueCode;
  /** The default text, when the thrower has nothing more precise (and safe) to say. */
  text: string;
}

export const ERRORS = {
  // ---- requests ---------------------------------------------------------------------------------
  CB_REQUEST_INVALID: { status: 400, issue: 'invalid', text: 'bad request' },
  CB_BODY_NOT_JSON: { status: 400, issue: 'invalid', text: 'request body is not valid JSON' },
  CB_BODY_EMPTY: { status: 400, issue: 'invalid', text: 'request body is empty' },
  CB_BODY_TOO_LARGE: { status: 413, issue: 'too-long', text: 'request body too large' },
  CB_LENGTH_REQUIRED: { status: 411, issue: 'invalid', text: 'content-length required' },
  CB_UNSUPPORTED_MEDIA_TYPE: { status: 415, issue: 'not-supported', text: 'unsupported content type' },
  CB_NOT_ACCEPTABLE: { status: 406, issue: 'not-supported', text: 'not acceptable' },
  CB_METHOD_NOT_ALLOWED: { status: 405, issue: 'not-supported', text: 'method not allowed' },
  CB_ROUTE_NOT_FOUND: { status: 404, issue: 'not-found', text: 'no such route' },
  CB_REQUEST_TIMEOUT: { status: 408, issue: 'transient', text: 'request timeout' },
  CB_REQUEST_REFUSED: { status: 400, issue: 'invalid', text: 'request refused' },
  CB_RATE_LIMITED: { status: 429, issue: 'throttled', text: 'too many requests' },
  // ---- who may do what --------------------------------------------------------------------------
  CB_UNAUTHENTICATED: { status: 401, issue: 'login', text: 'authentication required' },
  CB_FORBIDDEN: { status: 403, issue: 'forbidden', text: 'forbidden' },
  CB_PARTNER_UNKNOWN: { status: 400, issue: 'invalid', text: 'unknown partner' },
  CB_PARTNER_REQUIRED: { status: 400, issue: 'invalid', text: 'name the partner with ?partner=' },
  CB_SENDER_NOT_PARTNER: { status: 400, issue: 'invalid', text: 'this source belongs to another partner' },
  // ---- resources ------------------------------------------------------------------------------
  CB_NOT_FOUND: { status: 404, issue: 'not-found', text: 'not found' },
  CB_CONFLICT: { status: 409, issue: 'conflict', text: 'conflict' },
  CB_INPUT_INVALID: { status: 400, issue: 'invalid', text: 'invalid input' },
  CB_DELIVERY_NOT_DEAD: { status: 409, issue: 'conflict', text: 'delivery is not dead' },
  CB_INGEST_NOT_CONFIGURED: { status: 404, issue: 'not-supported', text: 'HTTP ingest is not configured (add a source of type http)' },
  // ---- care plans (CarePlanError codes, see toCodedError) --------------------------------------
  CB_CAREPLAN_INVALID: { status: 400, issue: 'invalid', text: 'the care plan request is not valid' },
  CB_CAREPLAN_UNPROCESSABLE: { status: 422, issue: 'processing', text: 'the care plan cannot be processed' },
  CB_CAREPLAN_NOT_FOUND: { status: 404, issue: 'not-found', text: 'care plan not found' },
  CB_CAREPLAN_CONFLICT: { status: 409, issue: 'conflict', text: 'the care plan is in another state' },
  CB_CAREPLAN_FORBIDDEN: { status: 403, issue: 'forbidden', text: 'not allowed for this partner' },
  CB_CAREPLAN_NO_DECISION: { status: 422, issue: 'processing', text: 'the CarePlan carries no sign-off decision' },
  // ---- configuration and the service --------------------------------------------------------
  CB_CONFIG_INVALID: { status: 400, issue: 'invalid', text: 'the configuration is not valid' },
  CB_UNAVAILABLE: { status: 503, issue: 'transient', text: 'service unavailable' },
  CB_STORE_UNAVAILABLE: { status: 503, issue: 'transient', text: 'message store unavailable: nothing was stored, send again' },
  CB_INTERNAL: { status: 500, issue: 'exception', text: 'internal error' },
} as const satisfies Record<`CB_${string}`, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** The CodeSystem of the codes above, in OperationOutcome.issue.details. */
export const ERROR_CODE_SYSTEM = 'https://carebridge.example.org/fhir/CodeSystem/error';

export interface CodedErrorOptions {
  /** Per-problem texts (validation issues), appended to the diagnostics. */
  details?: readonly string[];
  /** Extra response headers, e.g. Retry-After, WWW-Authenticate. */
  headers?: Record<string, string>;
  /**
   * Only for a status a Fastify plugin chose that has no code of its own (a 418, a rate limiter's
   * 403 ban): the code still says what kind of error it is.
   */
  status?: number;
  cause?: unknown;
}

/** An error whose code, status, issue type and text are safe to show the caller. */
export class CodedError extends Error {
  readonly statusCode: number;
  readonly issueCode: IssueCode;
  readonly details: readonly string[];
  readonly headers: Record<string, string>;

  constructor(
    readonly code: ErrorCode,
    message: string = ERRORS[code].text,
    options: CodedErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CodedError';
    this.statusCode = options.status ?? ERRORS[code].status;
    this.issueCode = ERRORS[code].issue;
    this.details = options.details ?? [];
    this.headers = options.headers ?? {};
  }

  /** What the caller is told: the message and its details, in one line. */
  get diagnostics(): string {
    return this.details.length ? `${this.message}: ${this.details.join('; ')}` : this.message;
  }

  outcome(diagnostics: string = this.diagnostics): OperationOutcome {
    return operationOutcome({
      severity: 'error',
      code: this.issueCode,
      details: { coding: [{ system: ERROR_CODE_SYSTEM, code: this.code }] },
      diagnostics,
    });
  }
}

/** The catalogue's code for a bare HTTP status (errors from Fastify and its plugins). */
export function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'CB_REQUEST_INVALID';
    case 401:
      return 'CB_UNAUTHENTICATED';
    case 403:
      return 'CB_FORBIDDEN';
    case 404:
      return 'CB_NOT_FOUND';
    case 405:
      return 'CB_METHOD_NOT_ALLOWED';
    case 406:
      return 'CB_NOT_ACCEPTABLE';
    case 408:
      return 'CB_REQUEST_TIMEOUT';
    case 409:
      return 'CB_CONFLICT';
    case 411:
      return 'CB_LENGTH_REQUIRED';
    case 413:
      return 'CB_BODY_TOO_LARGE';
    case 415:
      return 'CB_UNSUPPORTED_MEDIA_TYPE';
    case 429:
      return 'CB_RATE_LIMITED';
    case 503:
      return 'CB_UNAVAILABLE';
    default:
      return status < 500 ? 'CB_REQUEST_REFUSED' : 'CB_INTERNAL';
  }
}
