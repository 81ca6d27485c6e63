import type { MessageAdapter } from '../../src/conversion/types.js';
import { convertAdt, SUPPORTED_EVENTS } from './convert.js';

export { convertAdt, MappingError, SUPPORTED_EVENTS, UnsupportedMessageError, type AdtConversion } from './convert.js';

/** HL7 v2 ADT → FHIR R4 message Bundle (Patient, Encounter, …), as the registry sees it. */
export const hl7v2AdtAdapter: MessageAdapter = {
  id: 'hl7v2-adt',
  handles: { types: ['ADT'], events: SUPPORTED_EVENTS },
  convert: convertAdt,
};
