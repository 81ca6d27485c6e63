/**
 * FHIR messaging destination (Da Vinci Unsolicited Notifications): POST the ready-made message
 * Bundle to `[base]/$process-message`.
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
import type { Bundle, MessageHeader } from 'fhir/r4';
import { FhirClient } from '../fhir-client.js';
import { outcomeForStatus, outcomeForTransportError, retryTransientStatuses } from '../http-outcome.js';
import type { Deliverer, DeliveryOutcome, FhirMessagingDestination } from '../types.js';
import { DEFAULT_FHIR_TIMEOUT_MS } from './fhir.js';

export const deliverFhirMessage: Deliverer<Bundle, FhirMessagingDestination> = async (bundle, destination): Promise<DeliveryOutcome> => {
  const timeoutMs = destination.timeoutMs ?? DEFAULT_FHIR_TIMEOUT_MS;
  const started = performance.now();
  if (bundle?.resourceType !== 'Bundle' || bundle.type !== 'message' || bundle.entry?.[0]?.resource?.resourceType !== 'MessageHeader') {
    // Built by src/fhir; a malformed one will not get better by retrying.
    return { kind: 'fatal', error: 'payload is not a message Bundle starting with a MessageHeader', durationMs: 0 };
  }
  const client = new FhirClient({ baseUrl: destination.baseUrl, bearerToken: destination.bearerToken, headers: destination.headers, timeoutMs });
  const result = await client.processMessage(bundle);
  const durationMs = performance.now() - started;
  if ('transportError' in result) return outcomeForTransportError(result.transportError, durationMs, timeoutMs);
  if (!result.ok) return outcomeForStatus(result.status, durationMs, retryTransientStatuses, result.retryAfter);

  const responseCode = responseCodeOf(result.resource);
  if (responseCode === 'transient-error') return { kind: 'retry', status: result.status, error: 'receiver reported transient-error', durationMs };
  if (responseCode === 'fatal-error') return { kind: 'fatal', status: result.status, error: 'receiver reported fatal-error', durationMs };
  return { kind: 'delivered', status: result.status, durationMs };
};

type ResponseCode = NonNullable<MessageHeader['response']>['code'];

function responseCodeOf(response: Bundle | undefined): ResponseCode | undefined {
  if (response?.resourceType !== 'Bundle' || response.type !== 'message') return undefined;
  const header = response.entry?.[0]?.resource as MessageHeader | undefined;
  return header?.resourceType === 'MessageHeader' ? header.response?.code : undefined;
}
