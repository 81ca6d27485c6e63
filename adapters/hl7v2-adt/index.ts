import type { Hl7Message } from '../../src/hl7v2/index.js';
import type { MappingProfile } from '../../src/mapping/profile-schema.js';
import { convertAdt, type AdtConversion } from './convert.js';

export { convertAdt, MappingError, SUPPORTED_EVENTS, UnsupportedMessageError, type AdtConversion } from './convert.js';

/** The adapter as the registry sees it. */
export const hl7v2AdtAdapter = {
  id: 'hl7v2-adt' as const,
  accepts: (msg: Hl7Message) => msg.messageType === 'ADT',
  convert: (msg: Hl7Message, profile: MappingProfile): AdtConversion => convertAdt(msg, profile),
};
