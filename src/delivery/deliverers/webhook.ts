/**
 * Signed webhook: JSON, or the raw HL7 v2 message (bytes) of a passthrough route as
 * `application/hl7-v2`, signed the same way. 2xx delivered; 408, 429 and 5xx (and any transport failure) retry; other
 * 4xx are fatal; redirects are not followed (a POST silently turning into a GET elsewhere is not
 * a delivery) and count as fatal misconfiguration.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { postBody } from '../http-post.js';
import { outcomeForStatus, outcomeForTransportError, retryTransientStatuses } from '../http-outcome.js';
import type { DeliveryContext, DeliveryOutcome, WebhookDestination } from '../types.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signWebhookBody } from '../webhook-signature.js';

export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;

/**
 * A JSON value, a string that already holds serialized JSON (sent as is, e.g. from the store), or
 * the bytes of a raw HL7 v2 message.
 */
export type WebhookPayload = string | object | Buffer;

export const HL7_V2_CONTENT_TYPE = 'application/hl7-v2';

/** `now` is injectable so tests can produce stale timestamps. */
export async function deliverWebhook(
  payload: WebhookPayload,
  destination: WebhookDestination,
  ctx: DeliveryContext,
  now: () => number = Date.now,
): Promise<DeliveryOutcome> {
  const timeoutMs = destination.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  const raw = Buffer.isBuffer(payload);
  const body = raw ? payload : typeof payload === 'string' ? payload : JSON.stringify(payload);
  const timestamp = Math.floor(now() / 1000);
  const started = performance.now();
  try {
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
    const response = await postBody(
      destination.url,
      {
        ...destination.headers,
        'content-type': raw ? HL7_V2_CONTENT_TYPE : 'application/json',
        'user-agent': 'carebridge',
        'idempotency-key': ctx.deliveryId,
        [TIMESTAMP_HEADER]: String(timestamp),
        [SIGNATURE_HEADER]: signWebhookBody(destination.secret, timestamp, bytes),
      },
      bytes,
      { timeoutMs },
    );
    return outcomeForStatus(response.status, performance.now() - started, retryTransientStatuses, retryAfterOf(response.headers));
  } catch (err) {
    return outcomeForTransportError(err, performance.now() - started, timeoutMs);
  }
}

function retryAfterOf(headers: IncomingHttpHeaders): string | undefined {
  const value = headers['retry-after'];
  return Array.isArray(value) ? value[0] : value;
}
