import type { Conversion } from '../../src/conversion/types.js';
import type { Hl7Message } from '../../src/hl7v2/index.js';
import type { MappingProfile } from '../../src/mapping/profile-schema.js';
import { ConversionContext } from '../hl7v2-adt/context.js';
import { MappingError, UnsupportedMessageError } from '../hl7v2-adt/index.js';
import { buildPatient } from '../hl7v2-adt/patient.js';
import { messageConversion } from '../hl7v2-common/message-bundle.js';
import { buildAppointment } from './appointment.js';

/**
 * Scheduling events that are about one patient's appointment. S23/S24 (blocked and opened time
 * slots) and S25 (a query) have no patient appointment: they are not listed, so they are filtered.
 */
export const SIU_EVENTS = ['S12', 'S13', 'S14', 'S15', 'S16', 'S17', 'S18', 'S19', 'S20', 'S21', 'S22', 'S26'] as const;

/**
 * SIU^S12–S26 → FHIR message Bundle per the IG's SIU_S12 message map: the Appointment (SCH and
 * the AIS/AIG/AIL/AIP resources), the Patient (PID, PD1: the PCP) and the practitioners and
 * locations it names. No Encounter: a scheduled visit has not happened (see mappings/README.md).
 */
export function convertSiu(msg: Hl7Message, profile: MappingProfile): Conversion {
  const sch = msg.segment('SCH');
  if (!sch) throw new MappingError('SCH segment is missing', 'SCH');
  if (!msg.segment('PID')) throw new UnsupportedMessageError(`SIU^${msg.triggerEvent} without a patient (PID): nothing to route`, '201');
  const ctx = new ConversionContext(msg, profile);
  const patient = buildPatient(ctx);
  const appointment = buildAppointment(ctx, sch, patient);
  return messageConversion({
    adapterId: 'hl7v2-siu',
    ctx,
    focus: appointment,
    patient,
    activity: msg.triggerEvent === 'S12' ? 'CREATE' : 'UPDATE',
    // Attribution on the day the schedule changed (MSH-7): the partner attributed now is told now.
  });
}
