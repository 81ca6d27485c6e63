import type { Bundle, Encounter, Identifier, Patient } from 'fhir/r4';
import type { Hl7Message } from '../hl7v2/index.js';
import type { MappingProfile } from '../mapping/profile-schema.js';

/**
 * What the router needs to know about a converted message, whatever its type. Values are as
 * sent (v2 codes, not mapped FHIR codes) so route rules match on what integrators see in feeds.
 */
export interface RoutingFacts {
  /** MSH-3^MSH-4 namespace ids. */
  sender: string;
  /** MSH-9.1, e.g. ADT, ORU, SIU, MDM. */
  messageType: string;
  /** MSH-9.2, e.g. A01, R01, S12, T02 ('' when absent). */
  event: string;
  /** Every identifier of the message's patient, for the message index and roster matching. */
  patientIdentifiers: Identifier[];
  /** PV1-2 as sent ('' when the message has no visit). */
  patientClass: string;
  /** Facility codes the event happened at (PV1-3.4, MSH-4), for sensitivity policy. */
  facilityCodes: string[];
  /** PV1-10 hospital service as sent ('' when absent). */
  hospitalService: string;
  /** Local date of the event, YYYY-MM-DD, for roster attribution on that date. */
  eventDate: string | undefined;
}

/**
 * The one result every HL7 v2 adapter returns: a FHIR R4 message Bundle, warnings (never with
 * field values), and the routing facts. Empty members may be left `undefined` (JSON omits them).
 */
export interface Conversion extends RoutingFacts {
  /** Id of the adapter that produced it (e.g. `hl7v2-adt`). */
  adapterId: string;
  bundle: Bundle;
  warnings: string[];
  /** The message's patient (roster matching, unmatched-event demographics), when it has one. */
  patient?: Patient;
  /** The visit the message is about, when it has one (transition of care, Da Vinci notifications). */
  encounter?: Encounter;
}

/** One HL7 v2 adapter as the registry sees it. */
export interface MessageAdapter {
  /** Stable id, e.g. `hl7v2-adt`; shown in reasons and metrics. */
  readonly id: string;
  /**
   * Which messages it converts: message types (MSH-9.1) and, when given, only these trigger
   * events (MSH-9.2). Structures (MSH-9.3) need no entry: adapters read segments, not groups.
   */
  readonly handles: { readonly types: readonly string[]; readonly events?: readonly string[] };
  /**
   * Converts one parsed message. Throws `UnsupportedMessageError` for a message it cannot take
   * after all (filtered, not NACKed) and `MappingError` for data that would map wrongly (NACKed).
   */
  convert(msg: Hl7Message, profile: MappingProfile): Conversion;
}
