/**
 * The `fhir-messaging` destination type (Da Vinci Unsolicited Notifications): a routed HL7 v2
 * admit, transfer or discharge becomes a notification message Bundle (rendered from the
 * conversion), POSTed to `[base]/$process-message`. Other events, and FHIR received as is, have no
 * notification: such destinations get nothing for them.
 *
 * Reliable-delivery rules of the IG: 401 and 404 are never retried (credentials or endpoint are
 * wrong; retrying cannot help), nor is any other 4xx except 408 and 429; 429 slows down (the
 * queue pauses the destination for Retry-After without burning an attempt); 5xx, 408 and transport
 * errors are retried with backoff.
 *
 * A synchronous receiver answers 200 with a response message whose MessageHeader.response.code is
 * ok | transient-error | fatal-error; we honour it (transient-error retries). 202/204 (async
 * processing) count as delivered.
 */
import type { Bundle, FhirResource, MessageHeader, Organization, Resource } from 'fhir/r4';
import { z } from 'zod';
import { bearerAuth, deliveryBase, headers } from '../../config/schema/destination-fields.js';
import { httpUrl } from '../../config/schema/primitives.js';
import type { Conversion } from '../../conversion/types.js';
import { buildNotificationBundle, notificationEventForTrigger } from '../../fhir/davinci.js';
import { uuidV5 } from '../../fhir/ids.js';
import { openFhirClient } from '../fhir-client.js';
import { outcomeForStatus, outcomeForTransportError, retryTransientStatuses } from '../http-outcome.js';
import type { Rendered } from '../payloads.js';
import type { Deliverer, DeliveryOutcome } from '../types.js';
import { asBundle, DEFAULT_FHIR_TIMEOUT_MS, fhirServerRuntime, type FhirServer } from './fhir.js';
import { defineDestination, unusable } from './module.js';

/** Da Vinci Unsolicited Notifications: POST [baseUrl]/$process-message. */
const schema = z.strictObject({
  ...deliveryBase,
  type: z.literal('fhir-messaging'),
  baseUrl: httpUrl(),
  auth: bearerAuth.optional(),
  headers,
});

export type FhirMessagingDestination = FhirServer<'fhir-messaging'>;

export const deliverFhirMessage: Deliverer<Bundle, FhirMessagingDestination> = async (bundle, destination): Promise<DeliveryOutcome> => {
  const timeoutMs = destination.timeoutMs ?? DEFAULT_FHIR_TIMEOUT_MS;
  const started = performance.now();
  if (bundle?.resourceType !== 'Bundle' || bundle.type !== 'message' || bundle.entry?.[0]?.resource?.resourceType !== 'MessageHeader') {
    // Built by src/fhir; a malformed one will not get better by retrying.
    return { kind: 'fatal', error: 'payload is not a message Bundle starting with a MessageHeader', durationMs: 0 };
  }
  const client = await openFhirClient({
    baseUrl: destination.baseUrl,
    bearerToken: destination.bearerToken,
    headers: destination.headers,
    timeoutMs,
  });
  const result = await client.processMessage(bundle);
  const durationMs = performance.now() - started;
  if ('transportError' in result) return outcomeForTransportError(result.transportError, durationMs, timeoutMs);
  if (!result.ok) return outcomeForStatus(result.status, durationMs, retryTransientStatuses, result.retryAfter);

  const responseCode = responseCodeOf(result.resource);
  if (responseCode === 'transient-error')
    return { kind: 'retry', status: result.status, error: 'receiver reported transient-error', durationMs };
  if (responseCode === 'fatal-error') return { kind: 'fatal', status: result.status, error: 'receiver reported fatal-error', durationMs };
  return { kind: 'delivered', status: result.status, durationMs };
};

type ResponseCode = NonNullable<MessageHeader['response']>['code'];

function responseCodeOf(response: Bundle | undefined): ResponseCode | undefined {
  if (response?.resourceType !== 'Bundle' || response.type !== 'message') return undefined;
  const header = response.entry?.[0]?.resource as MessageHeader | undefined;
  return header?.resourceType === 'MessageHeader' ? header.response?.code : undefined;
}

/**
 * The Da Vinci Unsolicited Notification for a conversion, or undefined when the event is
 * not an admit/transfer/discharge (or there is no Encounter): such events are not sent there.
 */
export function davinciNotification(conversion: Conversion): Bundle | undefined {
  const event = notificationEventForTrigger(conversion.event);
  const { encounter, patient } = conversion;
  if (!event || !encounter || !patient) return undefined;
  const resources = (conversion.bundle.entry ?? []).map((e) => e.resource!) as Resource[];
  const header = resources.find((r) => r.resourceType === 'MessageHeader') as MessageHeader;
  const senderId = header.sender?.reference?.replace('urn:uuid:', '');
  const sender = resources.find((r) => r.resourceType === 'Organization' && r.id === senderId) as Organization | undefined;
  if (!sender) return undefined;
  const skip = new Set<Resource>([header, patient, encounter, sender]);
  const extra = resources.filter((r) => !skip.has(r) && r.resourceType !== 'Provenance');
  const base = conversion.bundle.id!;
  return buildNotificationBundle({
    event,
    bundleId: uuidV5(`davinci|${base}`),
    headerId: uuidV5(`davinci-header|${base}`),
    timestamp: conversion.bundle.timestamp ?? new Date().toISOString(),
    encounter,
    patient,
    sender,
    source: { endpoint: header.source.endpoint, name: header.source.name },
    destination: header.destination?.[0] ? { endpoint: header.destination[0].endpoint, name: header.destination[0].name } : undefined,
    extraResources: extra as FhirResource[],
  });
}

/** One notification per message, whatever the number of such destinations it goes to. */
const notifications = new WeakMap<Conversion, Rendered>();

function notificationFor(conversion: Conversion): Rendered {
  let rendered = notifications.get(conversion);
  if (rendered === undefined) {
    const bundle = davinciNotification(conversion);
    rendered = bundle ? JSON.stringify(bundle) : { skip: `no Da Vinci notification for ${conversion.messageType}^${conversion.event}` };
    notifications.set(conversion, rendered);
  }
  return rendered;
}

export const fhirMessagingDestination = defineDestination({
  type: 'fhir-messaging',
  schema,
  accepts: ['fhir-bundle'],
  render: (payload) =>
    payload.kind === 'fhir-bundle' && payload.conversion
      ? notificationFor(payload.conversion)
      : { skip: 'no Da Vinci notification: not an HL7 v2 event' },
  toRuntime: (d): FhirMessagingDestination => fhirServerRuntime(d),
  deliver(payload, destination, ctx) {
    const bundle = asBundle(payload);
    return bundle ? deliverFhirMessage(bundle, destination, ctx) : Promise.resolve(unusable('FHIR payload is not a Bundle'));
  },
});
