/**
 * The `fhir` destination type (FHIR REST): the Bundle is sent as ONE transaction whose entries are conditional
 * updates, `PUT Patient?identifier=system|value`, so a resend finds and updates the same
 * resources instead of creating duplicates.
 *
 * Why a transaction rather than one conditional PUT per resource: it is atomic (Patient and
 * Encounter land together or not at all, so a retry never starts from half-applied state), it is
 * one round trip, and references between entries (Encounter.subject -> the Patient's fullUrl) are
 * resolved by the server to whatever id the conditional update matched or created.
 *
 * Entry requests: an existing `request` is kept when the Bundle already is a transaction;
 * otherwise a resource with an identifier (system and value) gets a conditional PUT, one with only
 * an id gets `PUT Type/id` (deterministic ids make that idempotent too), anything else a POST (not
 * idempotent; the FHIR layer should not produce such resources). MessageHeader entries are dropped:
 * they only mean something to $process-message.
 *
 * Status: 2xx delivered; 408, 409 (concurrent-update conflicts are transient on most servers),
 * 429 and 5xx retry; other 4xx fatal (400/422 invalid content, 401/403 credentials, 404 wrong
 * base, 412 an identifier that matches several resources).
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, Identifier, Resource } from 'fhir/r4';
import { z } from 'zod';
import { bearerAuth, deliveryBase, headers } from '../../config/schema/destination-fields.js';
import { httpUrl } from '../../config/schema/primitives.js';
import { openFhirClient } from '../fhir-client.js';
import { outcomeForStatus, outcomeForTransportError } from '../http-outcome.js';
import { renderJson } from '../payloads.js';
import type { Deliverer, DeliveryOutcome } from '../types.js';
import { defineDestination, unusable } from './module.js';

export const FHIR_MODES = ['conditional-update', 'transaction'] as const;

const schema = z.strictObject({
  ...deliveryBase,
  type: z.literal('fhir'),
  baseUrl: httpUrl(),
  auth: bearerAuth.optional(),
  /** conditional-update: PUT [type]?identifier=...; transaction: one Bundle per message. Both idempotent. */
  mode: z.enum(FHIR_MODES, { error: `must be one of ${FHIR_MODES.join(', ')}` }).default('conditional-update'),
  headers,
});

/** A FHIR server as both FHIR destination types (transactions, Da Vinci messaging) reach it. */
export interface FhirServer<T extends string> {
  type: T;
  id: string;
  /** Per-request timeout; a timeout is retried. */
  timeoutMs?: number;
  baseUrl: string;
  bearerToken?: string;
  headers?: Record<string, string>;
}

export type FhirDestination = FhirServer<'fhir'>;

/** The run-time form of a FHIR server's config (the bearer token taken out of `auth`). */
export function fhirServerRuntime<T extends string>(d: {
  type: T;
  id: string;
  baseUrl: string;
  auth?: { bearerToken?: string };
  headers?: Record<string, string>;
  timeoutMs?: number;
}): FhirServer<T> {
  return { type: d.type, id: d.id, baseUrl: d.baseUrl, bearerToken: d.auth?.bearerToken, headers: d.headers, timeoutMs: d.timeoutMs };
}

export const DEFAULT_FHIR_TIMEOUT_MS = 15_000;

const retryable = (status: number) => status === 408 || status === 409 || status === 429 || status >= 500;

export const deliverFhirTransaction: Deliverer<Bundle, FhirDestination> = async (bundle, destination): Promise<DeliveryOutcome> => {
  const timeoutMs = destination.timeoutMs ?? DEFAULT_FHIR_TIMEOUT_MS;
  const started = performance.now();
  if (bundle?.resourceType !== 'Bundle') {
    return { kind: 'fatal', error: 'payload is not a FHIR Bundle', durationMs: 0 };
  }
  const client = await openFhirClient({
    baseUrl: destination.baseUrl,
    bearerToken: destination.bearerToken,
    headers: destination.headers,
    timeoutMs,
  });
  const result = await client.transaction(toConditionalTransaction(bundle));
  const durationMs = performance.now() - started;
  if ('transportError' in result) return outcomeForTransportError(result.transportError, durationMs, timeoutMs);
  return outcomeForStatus(result.status, durationMs, retryable, result.ok ? undefined : result.retryAfter);
};

/** Rewrites any Bundle into an idempotent transaction (see module comment for the rules). */
export function toConditionalTransaction(bundle: Bundle): Bundle {
  const keepRequests = bundle.type === 'transaction';
  const entry: BundleEntry[] = [];
  for (const original of bundle.entry ?? []) {
    const resource = original.resource;
    if (!resource || resource.resourceType === 'MessageHeader') continue;
    entry.push({
      fullUrl: original.fullUrl ?? `urn:uuid:${randomUUID()}`,
      resource,
      request: keepRequests && original.request ? original.request : requestFor(resource),
    });
  }
  const transaction: Bundle = { resourceType: 'Bundle', type: 'transaction', entry };
  if (bundle.id) transaction.id = bundle.id;
  return transaction;
}

function requestFor(resource: Resource): NonNullable<BundleEntry['request']> {
  const identifier = firstUsableIdentifier(resource);
  if (identifier) {
    const token = encodeURIComponent(`${identifier.system}|${identifier.value}`);
    return { method: 'PUT', url: `${resource.resourceType}?identifier=${token}` };
  }
  if (resource.id) return { method: 'PUT', url: `${resource.resourceType}/${encodeURIComponent(resource.id)}` };
  return { method: 'POST', url: resource.resourceType };
}

function firstUsableIdentifier(resource: Resource): { system: string; value: string } | undefined {
  const identifiers = (resource as { identifier?: Identifier | Identifier[] }).identifier;
  const list = Array.isArray(identifiers) ? identifiers : identifiers ? [identifiers] : [];
  const found = list.find((id) => id.system && id.value);
  return found ? { system: found.system!, value: found.value! } : undefined;
}

/** A Bundle, also from the JSON text or bytes the store gives back; undefined for anything else. */
export function asBundle(payload: unknown): Bundle | undefined {
  let value = payload;
  if (typeof value === 'string' || Buffer.isBuffer(value)) {
    try {
      value = JSON.parse(value.toString());
    } catch {
      return undefined;
    }
  }
  return value && typeof value === 'object' && (value as { resourceType?: unknown }).resourceType === 'Bundle'
    ? (value as Bundle)
    : undefined;
}

export const fhirDestination = defineDestination({
  type: 'fhir',
  schema,
  accepts: ['fhir-bundle', 'careplan', 'status-file', 'roster-notice'],
  render(payload) {
    // It takes Bundles only: a new member's Patient goes as a one-entry transaction with a
    // conditional update by identifier, as every delivery here is sent, so a resent notice updates
    // the member instead of creating a second Patient.
    if (payload.kind !== 'roster-notice') return renderJson(payload);
    const patient = payload.patient;
    return JSON.stringify(
      toConditionalTransaction({
        resourceType: 'Bundle',
        type: 'collection',
        entry: [{ fullUrl: `urn:uuid:${patient.id}`, resource: patient }],
      }),
    );
  },
  toRuntime: (d): FhirDestination => fhirServerRuntime(d),
  deliver(payload, destination, ctx) {
    const bundle = asBundle(payload);
    return bundle ? deliverFhirTransaction(bundle, destination, ctx) : Promise.resolve(unusable('FHIR payload is not a Bundle'));
  },
});
