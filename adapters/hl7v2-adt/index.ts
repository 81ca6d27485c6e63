import type { MessageAdapter } from '../../src/conversion/types.js';
import { convertAdt } from './convert.js';

export { convertAdt, MappingError, SUPPORTED_EVENTS, UnsupportedMessageError, type AdtConversion } from './convert.js';

/** HL7 v2 ADT → FHIR R4 message Bundle (Patient, Encounter, …), as the registry sees it. */
export const hl7v2AdtAdapter: MessageAdapter = {
  id: 'hl7v2-adt',
  // No event list: for a trigger it does not convert, the adapter's own reason (e.g. A20 names a
  // bed, not a patient) becomes the filtered reason.
  handles: { types: ['ADT'] },
  convert: convertAdt,
};
