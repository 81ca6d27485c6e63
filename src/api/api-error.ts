import { codeForStatus, CodedError } from '../errors/catalogue.js';
import type { IssueCode } from '../errors/outcome.js';

/**
 * The API's errors are CodedErrors (src/errors/catalogue.ts): throw `new CodedError('CB_…', text)`.
 * ApiError is the older status-first form, kept so code written against it still compiles; its
 * code comes from the status, its issue type as given.
 * @deprecated use CodedError with a code from the catalogue
 */
export class ApiError extends CodedError {
  override readonly issueCode: IssueCode;
  constructor(statusCode: number, issueCode: IssueCode, message: string, headers: Record<string, string> = {}) {
    super(codeForStatus(statusCode), message, { status: statusCode, headers });
    this.issueCode = issueCode;
  }
}

export const notFound = (what: string) => new CodedError('CB_NOT_FOUND', `${what} not found`);
export const forbidden = (why: string) => new CodedError('CB_FORBIDDEN', why);
