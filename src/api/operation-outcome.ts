// The OperationOutcome types live with the error catalogue (src/errors); the API adds its schema.
export {
  errorOutcome,
  operationOutcome,
  type IssueCode,
  type IssueSeverity,
  type OperationOutcome,
  type OutcomeIssue,
} from '../errors/outcome.js';

export const operationOutcomeSchema = {
  $id: 'OperationOutcome',
  type: 'object',
  description: 'FHIR R4 OperationOutcome',
  required: ['resourceType', 'issue'],
  properties: {
    resourceType: { type: 'string', enum: ['OperationOutcome'] },
    issue: {
      type: 'array',
      items: {
        type: 'object',
        required: ['severity', 'code'],
        properties: {
          severity: { type: 'string', enum: ['fatal', 'error', 'warning', 'information'] },
          code: { type: 'string' },
          details: {
            type: 'object',
            properties: {
              coding: { type: 'array', items: { type: 'object', properties: { system: { type: 'string' }, code: { type: 'string' } } } },
            },
          },
          diagnostics: { type: 'string' },
        },
      },
    },
  },
} as const;

/** `$ref` to the shared schema, for route response maps. */
export const outcomeRef = { $ref: 'OperationOutcome#' } as const;
