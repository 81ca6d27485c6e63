/**
 * Webhook signing, documented for receivers:
 *
 *   X-Carebridge-Timestamp: <unix seconds>
 *   X-Carebridge-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 *
 * The timestamp is inside the signed string so a captured request cannot be replayed later with a
 * fresh timestamp; receivers reject timestamps outside a tolerance (5 minutes by default) and
 * deduplicate within it by Idempotency-Key (the delivery id, identical on every retry).
 * Compare signatures in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-carebridge-signature';
export const TIMESTAMP_HEADER = 'x-carebridge-timestamp';
export const DEFAULT_TOLERANCE_SEC = 300;

export function signWebhookBody(secret: string, timestampSec: number, body: string | Buffer): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestampSec}.`);
  mac.update(body);
  return `sha256=${mac.digest('hex')}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

export function verifyWebhookSignature(
  secret: string,
  headers: { signature?: string | null; timestamp?: string | null },
  body: string | Buffer,
  options: { toleranceSec?: number; nowSec?: number } = {},
): SignatureCheck {
  if (!headers.signature || !headers.timestamp) return { ok: false, reason: 'missing' };
  if (!/^\d+$/.test(headers.timestamp) || !/^sha256=[0-9a-f]{64}$/.test(headers.signature)) return { ok: false, reason: 'malformed' };
  const timestamp = Number(headers.timestamp);
  const now = options.nowSec ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSec ?? DEFAULT_TOLERANCE_SEC)) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(signWebhookBody(secret, timestamp, body));
  const given = Buffer.from(headers.signature);
  return expected.length === given.length && timingSafeEqual(expected, given) ? { ok: true } : { ok: false, reason: 'mismatch' };
}
