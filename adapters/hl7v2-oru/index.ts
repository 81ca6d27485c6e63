import type { MessageAdapter } from '../../src/conversion/types.js';
import { convertOru, ORU_EVENTS } from './convert.js';

export { convertOru, ORU_EVENTS } from './convert.js';

/** HL7 v2 ORU^R01 → FHIR R4 message Bundle (DiagnosticReport + Observations), as the registry sees it. */
export const hl7v2OruAdapter: MessageAdapter = {
  id: 'hl7v2-oru',
  handles: { types: ['ORU'], events: ORU_EVENTS },
  convert: convertOru,
};
