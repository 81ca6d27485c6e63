/**
 * FHIR R4 OperationOutcome: the one error shape of the whole HTTP API (FHIR clients understand it,
 * and HL7 v2 senders get it only when there is no ACK to give).
 */

export type IssueSeverity = 'fatal' | 'error' | 'warning' | 'information';
/** The subset of the FHIR issue-type value set the API uses. */
export type IssueCode =
  | 'invalid'
  | 'security'
  | 'login'
  | 'forbidden'
  | 'not-found'
  | 'not-supported'
  | 'too-long'
  | 'throttled'
  | 'conflict'
  | 'transient'
  | 'exception'
  | 'processing'
  | 'duplicate'
  | 'informational';

export interface OutcomeIssue {
  severity: IssueSeverity;
  code: IssueCode;
  /** For people; never PHI. */
  diagnostics?: string;
}

export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  issue: OutcomeIssue[];
}

export function operationOutcome(issues: OutcomeIssue | OutcomeIssue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: Array.isArray(issues) ? issues : [issues] };
}

export function errorOutcome(code: IssueCode, diagnostics: string): OperationOutcome {
  return operationOutcome({ severity: 'error', code, diagnostics });
}

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
          diagnostics: { type: 'string' },
        },
      },
    },
  },
} as const;

/** `$ref` to the shared schema, for route response maps. */
export const outcomeRef = { $ref: 'OperationOutcome#' } as const;
