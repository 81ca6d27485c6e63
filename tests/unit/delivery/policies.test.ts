import { describe, expect, it } from 'vitest';
import { backoffDelayMs, retryDelayMs, DEFAULT_BACKOFF } from '../../../src/delivery/backoff.js';
import { outcomeForStatus, parseRetryAfter, retryTransientStatuses } from '../../../src/delivery/http-outcome.js';
import { jobIdFor } from '../../../src/delivery/queues.js';
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
    expect(outcomeForStatus(301, 1, retryTransientStatuses)).toMatchObject({ kind: 'fatal', error: 'HTTP 301 (redirects are not followed)' });
  });
});

describe('webhook signature', () => {
  const body = '{"resourceType":"Bundle"}';

  it('signs timestamp and body together', () => {
    expect(signWebhookBody('s', 1000, body)).not.toBe(signWebhookBody('s', 1001, body));
    expect(signWebhookBody('s', 1000, body)).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  it('verifies, and rejects stale, tampered, malformed and missing signatures', () => {
    const signature = signWebhookBody('s', 1000, body);
    expect(verifyWebhookSignature('s', { signature, timestamp: '1000' }, body, { nowSec: 1100 })).toEqual({ ok: true });
    expect(verifyWebhookSignature('s', { signature, timestamp: '1000' }, body, { nowSec: 2000 })).toEqual({ ok: false, reason: 'stale' });
    expect(verifyWebhookSignature('s', { signature, timestamp: '1000' }, `${body} `, { nowSec: 1000 })).toEqual({ ok: false, reason: 'mismatch' });
    // Replaying the body with a fresh timestamp but the old signature fails.
    expect(verifyWebhookSignature('s', { signature, timestamp: '1050' }, body, { nowSec: 1050 })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyWebhookSignature('s', { signature: 'md5=x', timestamp: '1000' }, body, { nowSec: 1000 })).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyWebhookSignature('s', { timestamp: '1000' }, body)).toEqual({ ok: false, reason: 'missing' });
  });
});

describe('job ids', () => {
  it('are never integer-like and never contain a colon', () => {
    expect(jobIdFor('42')).toBe('dlv-42');
    expect(jobIdFor('a:b')).toBe('dlv-a%3Ab');
  });
});
