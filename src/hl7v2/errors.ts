/** Machine-readable reasons an HL7 v2 payload could not be read. */
export type Hl7ErrorCode =
  'EMPTY' | 'NO_MSH' | 'TRUNCATED_MSH' | 'BAD_DELIMITERS' | 'MISSING_FIELD' | 'BAD_SEGMENT' | 'CHARSET' | 'TOO_LARGE' | 'BAD_PATH';

/** Where in the payload a problem sits; all 1-based, for people reading ERR segments and logs. */
export interface Hl7Position {
  /** 1-based segment (line) number within the message. */
  segment?: number;
  segmentName?: string;
  field?: number;
  /** 0-based byte or character offset from the start of the payload. */
  offset?: number;
}

/**
 * The only error the parser throws. Messages never contain field values, so they are safe
 * to log and to return to a sender (no PHI).
 */
export class Hl7ParseError extends Error {
  override readonly name = 'Hl7ParseError';
  constructor(
    readonly code: Hl7ErrorCode,
    message: string,
    readonly position: Hl7Position = {},
  ) {
    super(message);
  }
}

export function describePosition(p: Hl7Position): string {
  const parts: string[] = [];
  if (p.segmentName) parts.push(p.field ? `${p.segmentName}-${p.field}` : p.segmentName);
  if (p.segment !== undefined) parts.push(`segment ${p.segment}`);
  if (p.offset !== undefined) parts.push(`offset ${p.offset}`);
  return parts.join(', ');
}
