import type { Conversion } from '../../src/conversion/types.js';
import type { Hl7Message } from '../../src/hl7v2/index.js';
import type { MappingProfile } from '../../src/mapping/profile-schema.js';
import { ConversionContext } from '../hl7v2-adt/context.js';
import { MappingError } from '../hl7v2-adt/index.js';
import { buildPatient } from '../hl7v2-adt/patient.js';
import { messageConversion, referencedVisit } from '../hl7v2-common/message-bundle.js';
import { buildDocumentReference } from './document.js';

export const MDM_EVENTS = ['T01', 'T02', 'T03', 'T04', 'T05', 'T06', 'T07', 'T08', 'T09', 'T10', 'T11'] as const;
// Original document notifications create a record; status changes, addenda, edits, replacements
// and cancels update one.
const CREATE_EVENTS = new Set(['T01', 'T02']);

/**
 * MDM^T01–T11 → FHIR message Bundle per the IG's MDM_T02 message map: a DocumentReference (TXA,
 * the OBX text as an attachment), the Patient, and the visit (PV1) it belongs to.
 */
export function convertMdm(msg: Hl7Message, profile: MappingProfile): Conversion {
  const txa = msg.segment('TXA');
  if (!txa) throw new MappingError('TXA segment is missing', 'TXA');
  const ctx = new ConversionContext(msg, profile);
  const patient = buildPatient(ctx);
  const encounter = referencedVisit(ctx, patient);
  const document = buildDocumentReference(ctx, txa, patient, encounter);
  return messageConversion({
    adapterId: 'hl7v2-mdm',
    ctx,
    focus: document,
    patient,
    encounter,
    activity: CREATE_EVENTS.has(msg.triggerEvent) ? 'CREATE' : 'UPDATE',
    when: document.date ?? encounter?.period?.end,
  });
}
