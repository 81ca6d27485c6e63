import type { Encounter, Patient, Resource } from 'fhir/r4';
import { messageBundle } from '../hl7v2-adt/convert.js';
import type { ConversionContext } from '../hl7v2-adt/context.js';
import { buildEncounter, hasVisit } from '../hl7v2-adt/encounter.js';
import type { Conversion } from '../../src/conversion/types.js';

// The message envelope the non-ADT HL7 v2 adapters (ORU, SIU, MDM) share: the ADT adapter's
// MessageHeader and Provenance around what the adapter built, in a FHIR message Bundle, plus
// the routing facts. One place, so the three adapters differ only in their clinical content.

export interface Envelope {
  adapterId: string;
  ctx: ConversionContext;
  /** What the message is about (MessageHeader.focus): the report, appointment or document. */
  focus: Resource;
  patient?: Patient;
  encounter?: Encounter;
  /** Provenance activity: CREATE for a new record (S12, T02, R01), UPDATE otherwise. */
  activity: 'CREATE' | 'UPDATE';
  /** The clinical time of the event (FHIR date/dateTime, local offset) for attribution. */
  when?: string;
}

export function messageConversion(e: Envelope): Conversion {
  const { ctx } = e;
  const msg = ctx.msg;
  const event = msg.triggerEvent;
  const { bundle, timestamp } = messageBundle(ctx, event, e.focus, e.activity);
  const loc = ctx.locate('location');
  const when = e.when ?? ctx.dateTime(ctx.value('recordedTime'), 'EVN-2') ?? timestamp;
  return {
    adapterId: e.adapterId,
    bundle,
    warnings: ctx.warnings,
    sender: msg.sender,
    messageType: msg.messageType,
    event,
    patient: e.patient,
    encounter: e.encounter,
    patientIdentifiers: e.patient?.identifier ?? [],
    patientClass: ctx.value('patientClass'),
    facilityCodes: [loc.seg?.get(loc.field, 1, 4, 1) ?? '', msg.msh.get(4, 1, 1)].filter(Boolean),
    hospitalService: ctx.value('hospitalService'),
    // FHIR dateTimes carry the local offset, so their first ten characters are the local date.
    eventDate: when && when.length >= 10 ? when.slice(0, 10) : undefined,
  };
}

/**
 * The visit a clinical message (ORU, MDM) refers to, from PV1 when it describes one. Its status
 * is `finished` with a discharge time and `unknown` otherwise: such a PV1 says which visit, not
 * where the visit stands, and a status guessed from the patient class would overwrite the ADT
 * feed's (see mappings/README.md).
 */
export function referencedVisit(ctx: ConversionContext, patient: Patient): Encounter | undefined {
  if (!hasVisit(ctx)) return undefined;
  const encounter = buildEncounter(ctx, patient, ctx.msg.triggerEvent);
  encounter.status = encounter.period?.end ? 'finished' : 'unknown';
  return encounter;
}
