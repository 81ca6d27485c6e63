import type { MessageAdapter } from '../../src/conversion/types.js';
import { convertSiu, SIU_EVENTS } from './convert.js';

export { convertSiu, SIU_EVENTS } from './convert.js';

/** HL7 v2 SIU^S12–S26 → FHIR R4 message Bundle (Appointment), as the registry sees it. */
export const hl7v2SiuAdapter: MessageAdapter = {
  id: 'hl7v2-siu',
  handles: { types: ['SIU'], events: SIU_EVENTS },
  convert: convertSiu,
};
