import type { MessageAdapter } from '../src/conversion/types.js';
import { hl7v2MdmAdapter } from './hl7v2-mdm/index.js';
import { hl7v2OruAdapter } from './hl7v2-oru/index.js';
import { hl7v2SiuAdapter } from './hl7v2-siu/index.js';

/** The clinical HL7 v2 adapters (results, scheduling, documents), for the built-in list. */
export const CLINICAL_ADAPTERS: readonly MessageAdapter[] = [hl7v2OruAdapter, hl7v2SiuAdapter, hl7v2MdmAdapter];
