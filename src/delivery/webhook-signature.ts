/**
 * Webhook signing after the Standard Webhooks convention (https://www.standardwebhooks.com), so
 * receivers verify with existing libraries (`standardwebhooks` on npm, PyPI, ...):
 *
 *   webhook-id:        <the delivery id; the same on every retry, so receivers deduplicate by it>
 *   webhook-timestamp: <unix seconds>
 *   webhook-signature: v1,<base64 HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<raw body>")>
 *
 * The key is the configured secret: a `whsec_<base64>` secret is its base64-decoded bytes (as the
 * convention's libraries read it); any other secret is its bytes as written (libraries:
 * `new Webhook(secret, { format: 'raw' })`). Id and timestamp are signed, so a captured request
 * cannot be replayed later under a fresh timestamp; receivers reject timestamps outside a tolerance
 * (5 minutes). Signatures are compared in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const ID_HEADER = 'webhook-id';
export const SIGNATURE_HEADER = 'webhook-signature';
export const TIMESTAMP_HEADER = 'webhook-timestamp';
export const DEFAULT_TOLERANCE_SEC = 300;
const SECRET_PREFIX = 'whsec_';

export function webhookKey(secret: string): Buffer {
  return secret.startsWith(SECRET_PREFIX) ? Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64') : Buffer.from(secret, 'utf8');
}

export function signWebhookBody(secret: string, id: string, timestampSec: number, body: string | Buffer): string {
  const mac = createHmac('sha256', webhookKey(secret));
  mac.update(`${id}.${timestampSec}.`);
  mac.update(body);
  return `v1,${mac.digest('base64')}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

export function verifyWebhookSignature(
  secret: string,
  headers: { id?: string | null; signature?: string | null; timestamp?: string | null },
  body: string | Buffer,
  options: { toleranceSec?: number; nowSec?: number } = {},
): SignatureCheck {
  if (!headers.id || !headers.signature || !headers.timestamp) return { ok: false, reason: 'missing' };
  if (!/^\d+$/.test(headers.timestamp)) return { ok: false, reason: 'malformed' };
  const candidates = headers.signature.split(' ').filter((s) => s.startsWith('v1,'));
  if (candidates.length === 0) return { ok: false, reason: 'malformed' };
  const timestamp = Number(headers.timestamp);
  const now = options.nowSec ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSec ?? DEFAULT_TOLERANCE_SEC)) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(signWebhookBody(secret, headers.id, timestamp, body));
  // Several space-separated signatures are allowed (key rotation): any match will do.
  const match = candidates.some((c) => {
    const given = Buffer.from(c);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  return match ? { ok: true } : { ok: false, reason: 'mismatch' };
}
