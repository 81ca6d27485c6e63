import type { Encounter } from 'fhir/r4';

/**
 * What each ADT trigger event means for the FHIR it produces (mappings/README.md, "ADT events").
 * The IG maps seven structures (ADT_A01, A02, A05, A06, A09, A11, A17); every other structure is
 * read with the same segment maps, so the table only says what differs per event.
 */
export interface EventRule {
  /** HL7 v2.5+ message structure (MSH-9.3) the event is sent in. */
  structure: string;
  /** How the message's PID groups relate. */
  kind: 'visit' | 'merge' | 'move' | 'link' | 'unlink' | 'swap' | 'allergy';
  /** Encounter.status forced by the event's meaning (else the IG's event/class maps decide). */
  status?: Encounter['status'];
  /** PV1-6 prior location is the `completed` one (transfers, swaps, their cancels). */
  priorCompleted?: boolean;
  /** PV1-11 temporary location (tracking) with this location status. */
  temporary?: 'planned' | 'active';
  /** PV1-42 pending location is added as `planned` (pending transfer). */
  pending?: boolean;
  /** Which identifiers the MRG segment retires (merge, move and change events). */
  retires?: { patient?: boolean; account?: boolean; visit?: boolean };
  /** The PV1-7 attending (A54/A55) or PV1-9 consulting (A61/A62) change starts at EVN-6/EVN-2. */
  participantChange?: 'attending' | 'consulting';
  /** Provenance activity: the receiver creates, updates or deletes what it holds. */
  activity?: 'CREATE' | 'UPDATE' | 'DELETE';
}

const visit = (structure: string, extra: Omit<EventRule, 'structure' | 'kind'> = {}): EventRule => ({ structure, kind: 'visit', ...extra });
const merge = (structure: string, retires: EventRule['retires'], kind: EventRule['kind'] = 'merge'): EventRule => ({
  structure,
  kind,
  retires,
});

/** Every ADT trigger A01–A62 defined in v2.3–v2.8.2 except A19 (a QRY) and A20 (no patient). */
export const ADT_EVENTS: Readonly<Record<string, EventRule>> = {
  A01: visit('ADT_A01', { activity: 'CREATE' }),
  A02: visit('ADT_A02', { priorCompleted: true }),
  A03: visit('ADT_A03'),
  A04: visit('ADT_A01', { activity: 'CREATE' }),
  A05: visit('ADT_A05', { activity: 'CREATE' }),
  A06: visit('ADT_A06'),
  A07: visit('ADT_A06'),
  A08: visit('ADT_A01'),
  A09: visit('ADT_A09', { temporary: 'planned' }),
  A10: visit('ADT_A09', { temporary: 'active' }),
  A11: visit('ADT_A09', { status: 'cancelled' }),
  A12: visit('ADT_A12', { priorCompleted: true }),
  A13: visit('ADT_A01', { status: 'in-progress' }),
  A14: visit('ADT_A05', { status: 'planned', activity: 'CREATE' }),
  A15: visit('ADT_A15', { pending: true }),
  A16: visit('ADT_A16'),
  A17: { structure: 'ADT_A17', kind: 'swap', priorCompleted: true },
  A18: merge('ADT_A18', { patient: true }),
  A21: visit('ADT_A21', { status: 'onleave' }),
  A22: visit('ADT_A21', { status: 'in-progress' }),
  A23: visit('ADT_A21', { status: 'entered-in-error', activity: 'DELETE' }),
  A24: { structure: 'ADT_A24', kind: 'link' },
  A25: visit('ADT_A21', { status: 'in-progress' }),
  A26: visit('ADT_A21', { status: 'in-progress' }),
  A27: visit('ADT_A21', { status: 'cancelled' }),
  A28: visit('ADT_A05', { activity: 'CREATE' }),
  A29: visit('ADT_A21', { activity: 'DELETE' }),
  A30: merge('ADT_A30', { patient: true }),
  A31: visit('ADT_A05'),
  A32: visit('ADT_A21'),
  A33: visit('ADT_A21'),
  A34: merge('ADT_A30', { patient: true }),
  A35: merge('ADT_A30', { account: true }),
  A36: merge('ADT_A30', { patient: true, account: true }),
  A37: { structure: 'ADT_A37', kind: 'unlink' },
  A38: visit('ADT_A38', { status: 'cancelled' }),
  A39: merge('ADT_A39', { patient: true }),
  A40: merge('ADT_A39', { patient: true }),
  A41: merge('ADT_A39', { account: true }),
  A42: merge('ADT_A39', { visit: true }),
  A43: merge('ADT_A43', {}, 'move'),
  A44: merge('ADT_A43', { account: true }, 'move'),
  A45: merge('ADT_A45', { visit: true }, 'move'),
  A46: merge('ADT_A30', { patient: true }),
  A47: merge('ADT_A30', { patient: true }),
  A48: merge('ADT_A30', { patient: true }),
  A49: merge('ADT_A30', { account: true }),
  A50: merge('ADT_A50', { visit: true }),
  A51: merge('ADT_A50', { visit: true }),
  A52: visit('ADT_A52', { status: 'in-progress' }),
  A53: visit('ADT_A52', { status: 'onleave' }),
  A54: visit('ADT_A54', { participantChange: 'attending' }),
  A55: visit('ADT_A54'),
  A60: { structure: 'ADT_A60', kind: 'allergy' },
  A61: visit('ADT_A61', { participantChange: 'consulting' }),
  A62: visit('ADT_A61'),
};

export const SUPPORTED_EVENTS: readonly string[] = Object.keys(ADT_EVENTS);

/** Events that are explicitly not converted, with the reason the message is filtered with. */
export const NOT_CONVERTED: Readonly<Record<string, string>> = {
  A19: 'ADT^A19 is a patient query (QRY/ADR), not a patient event',
  A20: 'ADT^A20 (bed status update) names a bed, not a patient; nothing to convert',
};
