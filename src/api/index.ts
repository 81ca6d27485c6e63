export { buildApi } from './app.js';
export { ApiError } from './api-error.js';
export { CodedError, ERRORS, type ErrorCode } from '../errors/catalogue.js';
export { operationOutcome, errorOutcome, type OperationOutcome, type OutcomeIssue } from './operation-outcome.js';
export type * from './types.js';
