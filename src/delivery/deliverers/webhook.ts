/**
 * The `webhook` destination type: a signed POST of JSON (a Bundle, a care plan, a status file as a
 * Bundle, a new member's Patient), or the raw HL7 v2 message (bytes) of a passthrough route as
 * `application/hl7-v2`, signed the same way. 2xx delivered; 408, 429 and 5xx (and any transport failure) retry; other
 * 4xx are fatal; redirects are not followed (a POST silently turning into a GET elsewhere is not
 * a delivery) and count as fatal misconfiguration.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { deliveryBase, headers } from '../../config/schema/destination-fields.js';
import { httpUrl } from '../../config/schema/primitives.js';
import { postBody } from '../http-post.js';
import { outcomeForStatus, outcomeForTransportError, retryTransientStatuses } from '../http-outcome.js';
import { renderJson } from '../payloads.js';
import type { DeliveryContext, DeliveryOutcome } from '../types.js';
import { ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signWebhookBody } from '../webhook-signature.js';
import { defineDestination, unusable } from './module.js';

const schema = z.strictObject({
  ...deliveryBase,
  type: z.literal('webhook'),
  url: httpUrl(),
  /** HMAC-SHA256 key for the signature header (use ${ENV_VAR}). */
  secret: z
    .string({ error: 'is required: webhooks are always signed (use ${ENV_VAR})' })
    .min(1, 'must not be empty: webhooks are always signed'),
  headers,
});

export interface WebhookDestination {
  type: 'webhook';
  id: string;
  /** Per-request timeout; a timeout is retried. */
  timeoutMs?: number;
  url: string;
  /** HMAC-SHA256 key for the Standard Webhooks webhook-signature header (see webhook-signature.ts). */
  secret: string;
  headers?: Record<string, string>;
}

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
        // Standard Webhooks: the delivery id is the message id, the same on every retry.
        [ID_HEADER]: ctx.deliveryId,
        [TIMESTAMP_HEADER]: String(timestamp),
        [SIGNATURE_HEADER]: signWebhookBody(destination.secret, ctx.deliveryId, timestamp, bytes),
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

export const webhookDestination = defineDestination({
  type: 'webhook',
  schema,
  accepts: ['hl7v2', 'fhir-bundle', 'careplan', 'status-file', 'roster-notice'],
  render: renderJson,
  toRuntime: (d): WebhookDestination => ({
    type: d.type,
    id: d.id,
    url: d.url,
    secret: d.secret,
    headers: d.headers,
    timeoutMs: d.timeoutMs,
  }),
  deliver(payload, destination, ctx) {
    // Bytes are the raw HL7 v2 message of a passthrough route (sent as application/hl7-v2).
    if (Buffer.isBuffer(payload)) return deliverWebhook(payload, destination, ctx);
    if (typeof payload !== 'string' && (typeof payload !== 'object' || payload === null))
      return Promise.resolve(unusable('webhook payload must be JSON'));
    return deliverWebhook(payload, destination, ctx);
  },
});
