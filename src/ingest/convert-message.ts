import type { Bundle } from 'fhir/r4';
import { hl7v2AdtAdapter, MappingError, UnsupportedMessageError, type AdtConversion } from '../../adapters/hl7v2-adt/index.js';
import { Hl7Message, Hl7ParseError, describePosition } from '../hl7v2/index.js';
import type { MappingProfile } from '../mapping/profile-schema.js';

export type FailureKind = 'parse' | 'unsupported' | 'mapping' | 'internal';

export type ParsedOutcome =
  | { ok: true; conversion: AdtConversion }
  | { ok: false; reason: string; kind: FailureKind; hl7ErrorCode: string };

export type ConvertOutcome =
  | { ok: true; bundle: Bundle; warnings: string[]; controlId: string; event: string }
  | { ok: false; reason: string; controlId?: string; kind: FailureKind; hl7ErrorCode: string };

/**
 * Converts an already parsed message. Never throws: every failure becomes a reason naming the
 * problem and its location but no field values (safe for logs, stderr and NACKs).
 */
export function convertParsed(msg: Hl7Message, profile: MappingProfile): ParsedOutcome {
  try {
    return { ok: true, conversion: hl7v2AdtAdapter.convert(msg, profile) };
  } catch (e) {
    if (e instanceof UnsupportedMessageError) return { ok: false, kind: 'unsupported', reason: e.message, hl7ErrorCode: e.hl7ErrorCode };
    if (e instanceof MappingError) return { ok: false, kind: 'mapping', reason: `${e.message} (${e.location})`, hl7ErrorCode: '101' };
    if (e instanceof Hl7ParseError) return { ok: false, kind: 'parse', reason: e.message, hl7ErrorCode: '102' };
    return { ok: false, kind: 'internal', reason: `internal error while converting: ${(e as Error)?.message ?? String(e)}`, hl7ErrorCode: '207' };
  }
}

/** Parses and converts one HL7 v2 message (bytes or text). Never throws. */
export function convertHl7Message(bytes: Uint8Array | string, profile: MappingProfile): ConvertOutcome {
  let msg: Hl7Message;
  try {
    msg = Hl7Message.parse(bytes);
  } catch (e) {
    if (e instanceof Hl7ParseError) {
      const where = describePosition(e.position);
      return { ok: false, kind: 'parse', reason: where ? `${e.message} (${where})` : e.message, hl7ErrorCode: e.code === 'MISSING_FIELD' ? '101' : '102' };
    }
    return { ok: false, kind: 'internal', reason: 'internal error while parsing', hl7ErrorCode: '207' };
  }
  const r = convertParsed(msg, profile);
  if (!r.ok) return { ...r, controlId: msg.controlId };
  return { ok: true, bundle: r.conversion.bundle, warnings: [...msg.warnings, ...r.conversion.warnings], controlId: msg.controlId, event: r.conversion.event };
}
