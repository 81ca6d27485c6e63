import type { MessageAdapter } from '../../src/conversion/types.js';
import { convertMdm, MDM_EVENTS } from './convert.js';

export { convertMdm, MDM_EVENTS } from './convert.js';

/** HL7 v2 MDM^T01–T11 → FHIR R4 message Bundle (DocumentReference), as the registry sees it. */
export const hl7v2MdmAdapter: MessageAdapter = {
  id: 'hl7v2-mdm',
  handles: { types: ['MDM'], events: MDM_EVENTS },
  convert: convertMdm,
};
