/**
 * A destination type is one module: its config schema, the payload kinds it takes, how a payload
 * is rendered for it and how it is delivered. The registry (registry.ts) lists the modules; nothing
 * else in carebridge knows the types by name.
 */
import type { z } from 'zod';
import type { PayloadKind, Payload, Rendered } from '../payloads.js';
import type { DelivererDependencies, DeliveryContext, DeliveryOutcome } from '../types.js';

/** What a module's schema must be: a strict object discriminated by `type`, with an `id`. */
export type DestinationSchema = z.core.$ZodTypeDiscriminable & z.ZodType<{ type: string; id: string }>;

/** What the outbox opens once per configured destination (connections) and closes at shutdown. */
export interface DestinationConnection {
  deps: DelivererDependencies;
  close(): Promise<void>;
}

export interface DestinationModule<
  S extends DestinationSchema = DestinationSchema,
  R extends { type: string; id: string } = { type: string; id: string },
> {
  /** The `type` of a destination in the config file. */
  readonly type: z.output<S>['type'];
  /** Its keys in the config file (the common ones come from config/schema/destination-fields.ts). */
  readonly schema: S;
  /** The payload kinds it takes; the config check refuses wiring it to any other. */
  readonly accepts: readonly PayloadKind[];
  /** It speaks HL7 v2 only: a FHIR route's deliveries to it carry the raw message as received. */
  readonly rawOnly?: boolean;
  /** The text stored on the delivery for an accepted payload (never called for `hl7v2`), or why there is none. */
  render(payload: Payload): Rendered;
  /** Config destination → what its deliverer needs (secrets already resolved by the config loader). */
  toRuntime(config: z.output<S>): R;
  /**
   * Sends one stored payload (JSON text, bytes of a raw message, or a value) and classifies the
   * result; never throws. A payload it cannot use is fatal: retrying cannot fix it.
   */
  deliver(payload: unknown, destination: R, ctx: DeliveryContext, deps: DelivererDependencies): Promise<DeliveryOutcome>;
  /** Opens what its destinations share across deliveries (e.g. a connection); default none. */
  open?(config: z.output<S>): DestinationConnection;
}

/** Keeps a module's own schema and runtime types (the registry derives the config union from them). */
export function defineDestination<S extends DestinationSchema, R extends { type: string; id: string }>(
  module: DestinationModule<S, R>,
): DestinationModule<S, R> {
  return module;
}

/** Retrying cannot fix a payload or wiring problem: fatal, so it surfaces as a dead letter. */
export function unusable(error: string): DeliveryOutcome {
  return { kind: 'fatal', error, durationMs: 0 };
}
