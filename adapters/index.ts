import type { MessageAdapter } from '../src/conversion/types.js';
import { CLINICAL_ADAPTERS } from './clinical.js';
import { hl7v2AdtAdapter } from './hl7v2-adt/index.js';

/**
 * The built-in HL7 v2 adapters, in the order the registry asks them (the first that handles a
 * message's type and event converts it). The engine reaches them only through
 * `src/conversion/builtin.ts`; see `adapters/README.md` to add one.
 */
export const BUILTIN_ADAPTERS: readonly MessageAdapter[] = [hl7v2AdtAdapter, ...CLINICAL_ADAPTERS];
