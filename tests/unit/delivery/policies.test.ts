import { describe, expect, it } from 'vitest';
import { backoffDelayMs, retryDelayMs, DEFAULT_BACKOFF } from '../../../src/delivery/backoff.js';
import { outcomeForStatus, parseRetryAfter, retryTransientStatuses } from '../../../src/delivery/http-outcome.js';
import { jobIdFor } from '../../../src/delivery/queues.js';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { signWebhookBody, verifyWebhookSignature } from '../../../src/delivery/webhook-signature.js';

describe('backoff', () => {
  const policy = { baseMs: 1000, maxMs: 60_000 };

  it('doubles per attempt with the jitter confined to the upper half', () => {
    expect(backoffDelayMs(1, policy, () => 0)).toBe(500);
    expect(backoffDelayMs(1, policy, () => 1)).toBe(1000);
    expect(backoffDelayMs(3, policy, () => 0)).toBe(2000);
    expect(backoffDelayMs(3, policy, () => 1)).toBe(4000);
  });

  it('caps the step at maxMs, also for absurd attempt numbers', () => {
    expect(backoffDelayMs(20, policy, () => 1)).toBe(60_000);
    expect(backoffDelayMs(5000, policy, () => 0)).toBe(30_000);
  });

  it('spreads retries of jobs that failed together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelayMs(4, DEFAULT_BACKOFF)));
    expect(delays.size).toBeGreaterThan(1);
  });

  it('never retries earlier than Retry-After, within a cap', () => {
    expect(retryDelayMs(1, policy, 30_000, 3_600_000, () => 0)).toBe(30_000);
    expect(retryDelayMs(1, policy, 99_000_000, 3_600_000, () => 0)).toBe(3_600_000);
    expect(retryDelayMs(5, policy, 100, 3_600_000, () => 0)).toBe(8000);
    expect(retryDelayMs(1, policy, undefined, 3_600_000, () => 0)).toBe(500);
  });
});

describe('HTTP outcome', () => {
  it('parses Retry-After seconds and HTTP dates', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('classifies statuses', () => {
    expect(outcomeForStatus(204, 1, retryTransientStatuses).kind).toBe('delivered');
    expect(outcomeForStatus(503, 1, retryTransientStatuses, '5')).toMatchObject({ kind: 'retry', retryAfterMs: 5000 });
    expect(outcomeForStatus(404, 1, retryTransientStatuses).kind).toBe('fatal');
    expect(outcomeForStatus(301, 1, retryTransientStatuses)).toMatchObject({
      kind: 'fatal',
      error: 'HTTP 301 (redirects are not followed)',
    });
  });
});

describe('webhook signature (Standard Webhooks)', () => {
  const body = '{"resourceType":"Bundle"}';

  it('signs id, timestamp and body together as v1,<base64>', () => {
    expect(signWebhookBody('s', 'd1', 1000, body)).not.toBe(signWebhookBody('s', 'd1', 1001, body));
    expect(signWebhookBody('s', 'd1', 1000, body)).not.toBe(signWebhookBody('s', 'd2', 1000, body));
    expect(signWebhookBody('s', 'd1', 1000, body)).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
  });

  it('verifies, and rejects stale, tampered, malformed and missing signatures', () => {
    const signature = signWebhookBody('s', 'd1', 1000, body);
    const h = { id: 'd1', signature, timestamp: '1000' };
    expect(verifyWebhookSignature('s', h, body, { nowSec: 1100 })).toEqual({ ok: true });
    expect(verifyWebhookSignature('s', h, body, { nowSec: 2000 })).toEqual({ ok: false, reason: 'stale' });
    expect(verifyWebhookSignature('s', h, `${body} `, { nowSec: 1000 })).toEqual({ ok: false, reason: 'mismatch' });
    // Replaying the body with a fresh timestamp or another id but the old signature fails.
    expect(verifyWebhookSignature('s', { ...h, timestamp: '1050' }, body, { nowSec: 1050 })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyWebhookSignature('s', { ...h, id: 'd2' }, body, { nowSec: 1000 })).toEqual({ ok: false, reason: 'mismatch' });
    // Key rotation: any of several signatures may match.
    expect(verifyWebhookSignature('s', { ...h, signature: `v1,AAAA ${signature}` }, body, { nowSec: 1000 })).toEqual({ ok: true });
    expect(verifyWebhookSignature('s', { ...h, signature: 'sha256=x' }, body, { nowSec: 1000 })).toEqual({
      ok: false,
      reason: 'malformed',
    });
    expect(verifyWebhookSignature('s', { signature, timestamp: '1000' }, body)).toEqual({ ok: false, reason: 'missing' });
  });

  it('the standardwebhooks library verifies what carebridge signs, for raw and whsec_ secrets', () => {
    const now = Math.floor(Date.now() / 1000);
    for (const [secret, receiver] of [
      ['carebridge-demo-webhook-secret', new Webhook('carebridge-demo-webhook-secret', { format: 'raw' })],
      ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', new Webhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')],
    ] as const) {
      const headers = {
        'webhook-id': 'delivery-42',
        'webhook-timestamp': String(now),
        'webhook-signature': signWebhookBody(secret, 'delivery-42', now, body),
      };
      expect(receiver.verify(body, headers)).toEqual({ resourceType: 'Bundle' });
      expect(() => receiver.verify(`${body} `, headers)).toThrow(WebhookVerificationError);
    }
  });
});

describe('job ids', () => {
  it('are never integer-like and never contain a colon', () => {
    expect(jobIdFor('42')).toBe('dlv-42');
    expect(jobIdFor('a:b')).toBe('dlv-a%3Ab');
  });
});
