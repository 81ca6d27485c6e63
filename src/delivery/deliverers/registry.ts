/**
 * The destination types carebridge can deliver to. Adding one is writing its module (see
 * module.ts and any of these) and adding it to this list: the config schema, the config check, the
 * producers' rendering and the outbox all follow from it.
 */
import { PAYLOAD_KIND_NAMES, type Payload, type PayloadKind, type Rendered } from '../payloads.js';
import type { DelivererDependencies, DeliveryContext, DeliveryOutcome } from '../types.js';
import { fhirDestination } from './fhir.js';
import { fhirMessagingDestination } from './fhir-messaging.js';
import type { DestinationModule } from './module.js';
import { mllpDestination } from './mllp.js';
import { sftpDestination } from './sftp.js';
import { webhookDestination } from './webhook.js';

export const DESTINATION_MODULES = [
  webhookDestination,
  fhirDestination,
  fhirMessagingDestination,
  mllpDestination,
  sftpDestination,
] as const;

type AnyModule = (typeof DESTINATION_MODULES)[number];
export type DestinationType = AnyModule['type'];
/** What a deliverer is given for a destination, whatever its type (`type` says which). */
export type RuntimeDestination = ReturnType<AnyModule['toRuntime']>;

export const DESTINATION_TYPES: readonly DestinationType[] = DESTINATION_MODULES.map((m) => m.type);

// Seen from outside, a module takes any config and runtime destination of its own type.
const byType = new Map<string, DestinationModule>(DESTINATION_MODULES.map((m) => [m.type, m as unknown as DestinationModule]));

/** The module of a destination type; undefined for a type no module declares. */
export function destinationModule(type: string | undefined): DestinationModule | undefined {
  return type === undefined ? undefined : byType.get(type);
}

export function accepts(type: string | undefined, kind: PayloadKind): boolean {
  return destinationModule(type)?.accepts.includes(kind) ?? false;
}

/** HL7 v2 is all it sends: a FHIR route's deliveries to it carry the raw message too. */
export function sendsRawOnly(type: string | undefined): boolean {
  return destinationModule(type)?.rawOnly ?? false;
}

/** The types that take a kind, for problems that say what to use instead. */
export function typesAccepting(kind: PayloadKind): string[] {
  return DESTINATION_MODULES.filter((m) => (m.accepts as readonly PayloadKind[]).includes(kind)).map((m) => m.type);
}

/** The text to store on a delivery to a destination of this type, or why it gets nothing. */
export function renderFor(type: string | undefined, payload: Payload): Rendered {
  const module = destinationModule(type);
  if (!module) return { skip: `unknown destination type '${type}'` };
  if (!module.accepts.includes(payload.kind)) return { skip: `${type} destinations do not take ${PAYLOAD_KIND_NAMES[payload.kind]}` };
  return module.render(payload);
}

export type DeliverAny = (payload: unknown, destination: RuntimeDestination, ctx: DeliveryContext) => Promise<DeliveryOutcome>;

/** Delivers to any runtime destination by its type (the outbox binds each destination's module once instead). */
export function createDeliverer(deps: DelivererDependencies = {}): DeliverAny {
  return (payload, destination, ctx) => byType.get(destination.type)!.deliver(payload, destination, ctx, deps);
}
