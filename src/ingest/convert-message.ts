import type { Bundle } from 'fhir/r4';
import { builtinAdapters } from '../conversion/builtin.js';
import { MappingError, UnsupportedMessageError } from '../conversion/errors.js';
import type { AdapterRegistry } from '../conversion/registry.js';
import type { Conversion } from '../conversion/types.js';
import { Hl7Message, Hl7ParseError, describePosition } from '../hl7v2/index.js';
import type { MappingProfile } from '../mapping/profile-schema.js';

export type FailureKind = 'parse' | 'unsupported' | 'mapping' | 'internal';

export type ParsedOutcome = { ok: true; conversion: Conversion } | { ok: false; reason: string; kind: FailureKind; hl7ErrorCode: string };

export type ConvertOutcome =
  | { ok: true; bundle: Bundle; warnings: string[]; controlId: string; event: string }
  | { ok: false; reason: string; controlId?: string; kind: FailureKind; hl7ErrorCode: string };

/** MSH-9.1^MSH-9.2 as written in reasons, e.g. `ORU^R01`. */
export function typeAndEvent(msg: Pick<Hl7Message, 'messageType' | 'triggerEvent'>): string {
  return msg.triggerEvent ? `${msg.messageType}^${msg.triggerEvent}` : msg.messageType;
}

/**
 * Converts an already parsed message with the adapter the registry has for it. Never throws:
 * every failure becomes a reason naming the problem and its location but no field values (safe
 * for logs, stderr and NACKs). `unsupported` (no adapter, or the adapter declined) reads
 * `no converter for ORU^R01[: why]`.
 */
export function convertParsed(msg: Hl7Message, profile: MappingProfile, registry: AdapterRegistry = builtinAdapters): ParsedOutcome {
  const adapter = registry.find(msg);
  if (!adapter) {
    const hl7ErrorCode = registry.handlesType(msg.messageType) ? '201' : '200';
    return { ok: false, kind: 'unsupported', reason: `no converter for ${typeAndEvent(msg)}`, hl7ErrorCode };
  }
  try {
    return { ok: true, conversion: adapter.convert(msg, profile) };
  } catch (e) {
    if (e instanceof UnsupportedMessageError)
      return {
        ok: false,
        kind: 'unsupported',
        reason: `no converter for ${typeAndEvent(msg)}: ${e.message}`,
        hl7ErrorCode: e.hl7ErrorCode,
      };
    if (e instanceof MappingError) return { ok: false, kind: 'mapping', reason: `${e.message} (${e.location})`, hl7ErrorCode: '101' };
    if (e instanceof Hl7ParseError) return { ok: false, kind: 'parse', reason: e.message, hl7ErrorCode: '102' };
    return {
      ok: false,
      kind: 'internal',
      reason: `internal error while converting: ${(e as Error)?.message ?? String(e)}`,
      hl7ErrorCode: '207',
    };
  }
}

/** Parses and converts one HL7 v2 message (bytes or text). Never throws. */
export function convertHl7Message(
  bytes: Uint8Array | string,
  profile: MappingProfile,
  registry: AdapterRegistry = builtinAdapters,
): ConvertOutcome {
  let msg: Hl7Message;
  try {
    msg = Hl7Message.parse(bytes);
  } catch (e) {
    if (e instanceof Hl7ParseError) {
      const where = describePosition(e.position);
      return {
        ok: false,
        kind: 'parse',
        reason: where ? `${e.message} (${where})` : e.message,
        hl7ErrorCode: e.code === 'MISSING_FIELD' ? '101' : '102',
      };
    }
    return { ok: false, kind: 'internal', reason: 'internal error while parsing', hl7ErrorCode: '207' };
  }
  const r = convertParsed(msg, profile, registry);
  if (!r.ok) return { ...r, controlId: msg.controlId };
  return {
    ok: true,
    bundle: r.conversion.bundle,
    warnings: [...msg.warnings, ...r.conversion.warnings],
    controlId: msg.controlId,
    event: r.conversion.event,
  };
}
