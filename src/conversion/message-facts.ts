import type { Hl7Message } from '../hl7v2/index.js';
import type { RoutingFacts } from './types.js';

/**
 * The routing facts of a message no adapter converted, read from the v2 message itself (as an
 * adapter would: values as sent), so passthrough routes match on them and the sensitivity policy
 * still sees the facility and service. No patient identifiers: without a mapping profile there is
 * no identifier system, so roster matching needs a conversion.
 */
export function routingFactsOf(msg: Hl7Message): RoutingFacts {
  const pv1 = msg.segment('PV1');
  return {
    sender: msg.sender,
    messageType: msg.messageType,
    event: msg.triggerEvent,
    patientIdentifiers: [],
    patientClass: pv1?.get(2, 1, 1) ?? '',
    facilityCodes: [pv1?.get(3, 1, 4, 1) ?? '', msg.msh.get(4, 1, 1)].filter(Boolean),
    hospitalService: pv1?.get(10, 1, 1) ?? '',
    eventDate: undefined,
  };
}
