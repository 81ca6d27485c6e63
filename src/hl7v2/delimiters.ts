import { Hl7ParseError } from './errors.js';

/** The five (v2.7+: six with truncation) delimiter characters declared by MSH-1 and MSH-2. */
export interface Delimiters {
  field: string;
  component: string;
  repetition: string;
  escape: string;
  subcomponent: string;
  /** v2.7 truncation character (5th encoding character), when declared. */
  truncation?: string;
}

export const DEFAULT_DELIMITERS: Readonly<Delimiters> = Object.freeze({
  field: '|',
  component: '^',
  repetition: '~',
  escape: '\\',
  subcomponent: '&',
});

/**
 * Reads delimiters from a header segment (MSH, FHS or BHS) starting at `start`.
 * The header is `XXX` + field separator + 1..5 encoding characters + field separator.
 */
export function readDelimiters(text: string, start: number): Delimiters {
  const field = text[start + 3];
  if (field === undefined || field === '\r' || field === '\n') {
    throw new Hl7ParseError('TRUNCATED_MSH', 'header segment ends before the field separator (MSH-1)', {
      segment: 1,
      offset: start + 3,
    });
  }
  if (/[A-Za-z0-9 ]/.test(field)) {
    throw new Hl7ParseError('BAD_DELIMITERS', `field separator (MSH-1) must be a special character`, {
      offset: start + 3,
    });
  }
  let end = start + 4;
  while (end < text.length && text[end] !== field && text[end] !== '\r' && text[end] !== '\n') end++;
  const enc = text.slice(start + 4, end);
  if (enc.length < 2) {
    throw new Hl7ParseError('TRUNCATED_MSH', 'encoding characters (MSH-2) missing or truncated', {
      segment: 1,
      field: 2,
      offset: start + 4,
    });
  }
  if (enc.length > 5) {
    throw new Hl7ParseError('BAD_DELIMITERS', `MSH-2 has ${enc.length} encoding characters; at most 5 are allowed`, {
      field: 2,
    });
  }
  const d: Delimiters = {
    field,
    component: enc[0],
    repetition: enc[1],
    // Some senders declare only ^~ (no escape, no subcomponent); use characters that never occur.
    escape: enc[2] ?? '\u0000',
    subcomponent: enc[3] ?? '\u0001',
  };
  if (enc.length === 5) d.truncation = enc[4];
  const all = [d.field, d.component, d.repetition, d.escape, d.subcomponent];
  if (new Set(all).size !== all.length) {
    throw new Hl7ParseError('BAD_DELIMITERS', 'delimiter characters in MSH-1/MSH-2 must all differ', { field: 2 });
  }
  return d;
}
