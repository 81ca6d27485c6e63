import type { Bundle } from 'fhir/r4';
import { hl7v2AdtAdapter, MappingError, UnsupportedMessageError } from '../../adapters/hl7v2-adt/index.js';
import { Hl7Message, Hl7ParseError, describePosition } from '../hl7v2/index.js';
import type { MappingProfile } from '../mapping/profile-schema.js';

export type ConvertOutcome =
  | { ok: true; bundle: Bundle; warnings: string[]; controlId: string; event: string }
  | { ok: false; reason: string; controlId?: string; kind: 'parse' | 'unsupported' | 'mapping' | 'internal'; hl7ErrorCode: string };

/**
 * Parses and converts one HL7 v2 message. Never throws: every failure becomes a reason that
 * names the problem and its location but no field values (safe for logs, stderr and NACKs).
 */
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
  const controlId = msg.controlId;
  try {
    const r = hl7v2AdtAdapter.convert(msg, profile);
    return { ok: true, bundle: r.bundle, warnings: [...msg.warnings, ...r.warnings], controlId, event: r.event };
  } catch (e) {
    if (e instanceof UnsupportedMessageError) return { ok: false, kind: 'unsupported', reason: e.message, controlId, hl7ErrorCode: e.hl7ErrorCode };
    if (e instanceof MappingError) return { ok: false, kind: 'mapping', reason: `${e.message} (${e.location})`, controlId, hl7ErrorCode: '101' };
    if (e instanceof Hl7ParseError) return { ok: false, kind: 'parse', reason: e.message, controlId, hl7ErrorCode: '102' };
    return { ok: false, kind: 'internal', reason: `internal error while converting: ${(e as Error)?.message ?? String(e)}`, controlId, hl7ErrorCode: '207' };
  }
}
