/**
 * FHIR R4 OperationOutcome: the one error shape of the whole HTTP API (FHIR clients understand it,
 * and HL7 v2 senders get it only when there is no ACK to give).
 */

export type IssueSeverity = 'fatal' | 'error' | 'warning' | 'information';
/** The subset of the FHIR issue-type value set carebridge uses. */
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
  /** The carebridge error code (CB_…), for programs: stable where the diagnostics text is not. */
  details?: { coding: { system: string; code: string }[] };
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
