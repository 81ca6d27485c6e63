/**
 * A care-plan operation the caller cannot have: the message is safe to show (ids and rules, never
 * member data). The API maps `code` to an HTTP status.
 */
export type CarePlanErrorCode = 'invalid' | 'unprocessable' | 'not-found' | 'conflict' | 'forbidden';

export class CarePlanError extends Error {
  constructor(
    readonly code: CarePlanErrorCode,
    message: string,
    /** Per-problem details for an OperationOutcome (validation issues). */
    readonly issues: readonly string[] = [],
  ) {
    super(message);
    this.name = 'CarePlanError';
  }
}
