import type { Hl7Message } from '../hl7v2/index.js';
import { typeAndEvent } from './convert-message.js';

/**
 * A source's `accept` policy: what a strict partner agreed to send on it. Without one, every
 * well-formed message is accepted (and filtered when nothing converts or routes it).
 */
export interface AcceptPolicy {
  /** MSH-9.1 values; absent: any type. */
  types?: readonly string[];
  /** MSH-9.2 values; absent: any event. */
  events?: readonly string[];
}

export interface Refusal {
  reason: string;
  /** HL7 table 0357: 200 unsupported message type, 201 unsupported event code. */
  hl7ErrorCode: '200' | '201';
}

/** Why the source refuses this message (AR/CR), or undefined when it accepts it. */
export function refusalOf(
  policy: AcceptPolicy | undefined,
  msg: Pick<Hl7Message, 'messageType' | 'triggerEvent'>,
  sourceName: string,
): Refusal | undefined {
  if (!policy) return undefined;
  const typeOk = !policy.types?.length || policy.types.includes(msg.messageType);
  const eventOk = !policy.events?.length || policy.events.includes(msg.triggerEvent);
  if (typeOk && eventOk) return undefined;
  return {
    reason: `${typeAndEvent(msg)} is not accepted on source ${sourceName} (accepts ${describe(policy)})`,
    hl7ErrorCode: typeOk ? '201' : '200',
  };
}

/** `ADT^A01 ADT^A03`, `ADT`, `any type^A01`. */
function describe(policy: AcceptPolicy): string {
  const types = policy.types?.length ? policy.types : undefined;
  const events = policy.events?.length ? policy.events : undefined;
  if (types && events) return types.flatMap((t) => events.map((e) => `${t}^${e}`)).join(' ');
  if (types) return types.join(' ');
  return `events ${events!.join(' ')}`;
}
