import type { IssueCode } from './operation-outcome.js';

/**
 * An error whose message is safe to show the caller (no PHI, no internals). Anything else that
 * reaches the error handler is answered with a generic text.
 */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly issueCode: IssueCode,
    message: string,
    /** Extra response headers, e.g. Retry-After. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const notFound = (what: string) => new ApiError(404, 'not-found', `${what} not found`);
export const forbidden = (why: string) => new ApiError(403, 'forbidden', why);
