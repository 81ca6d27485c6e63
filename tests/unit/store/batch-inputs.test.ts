import { describe, expect, it } from 'vitest';
import { applyDeliveryResult, type DeliveryState } from '../../../src/store/delivery-state.js';
import { StoreInputError } from '../../../src/store/errors.js';
import { normalizeAll, normalizeCompletion, normalizeDeliveryResult } from '../../../src/store/inputs.js';
import type { DeliveryResultInput } from '../../../src/store/types.js';

const now = new Date('2025-01-01T00:00:00Z');
const later = new Date('2025-01-01T00:05:00Z');
const attempt = { startedAt: now, durationMs: 12.6, outcome: 'retryable-error' as const, httpStatus: 503, error: 'HTTP 503' };

describe('normalizeCompletion', () => {
  it('resolves defaults, JSON-encodes FHIR and normalizes deliveries and identifiers', () => {
    const n = normalizeCompletion({
      messageId: 'm1',
      outcome: {
        status: 'processed',
        fhir: { resourceType: 'Bundle' },
        identifiers: [
          { system: 's', value: '1' },
          { system: 's', value: '1' },
        ],
        deliveries: [{ destination: 'A', patientKey: 'p' }],
      },
    });
    expect(n).toEqual({
      messageId: 'm1',
      status: 'processed',
      statusReason: null,
      fhir: '{"resourceType":"Bundle"}',
      identifiers: [{ system: 's', value: '1' }],
      deliveries: [
        {
          destination: 'A',
          patientKey: 'p',
          payload: null,
          status: 'pending',
          withheldReason: null,
          nextAttemptAt: null,
          routeId: null,
          partnerId: null,
        },
      ],
    });
  });

  it('refuses a status that is not an end of processing, and a missing id', () => {
    expect(() => normalizeCompletion({ messageId: 'm1', outcome: { status: 'received' as never } })).toThrow(StoreInputError);
    expect(() => normalizeCompletion({ messageId: '', outcome: { status: 'failed' } })).toThrow(StoreInputError);
  });
});

describe('normalizeDeliveryResult', () => {
  const base = { deliveryId: 'd1', attempt };

  it('maps next to the stored status and resolves each field', () => {
    expect(normalizeDeliveryResult({ ...base, next: 'retrying', nextAttemptAt: later }, now)).toMatchObject({
      status: 'failed-retrying',
      nextAttemptAt: later,
      lastError: 'HTTP 503',
      deliveredAt: null,
      attempt: { durationMs: 13, httpStatus: 503, ackCode: null },
    });
    expect(normalizeDeliveryResult({ ...base, next: 'dead', error: 'gave up' }, now)).toMatchObject({
      status: 'dead',
      nextAttemptAt: null,
      lastError: 'gave up',
    });
    expect(normalizeDeliveryResult({ ...base, next: 'delivered' }, now)).toMatchObject({ status: 'delivered', deliveredAt: now });
    expect(normalizeDeliveryResult({ ...base, next: 'delivered', deliveredAt: later }, now).deliveredAt).toBe(later);
  });

  it('rejects a retry without a time, an unknown next, a bad attempt and a bad date', () => {
    const bad: DeliveryResultInput[] = [
      { ...base, next: 'retrying' },
      { ...base, next: 'retrying', nextAttemptAt: new Date('nope') },
      { ...base, next: 'later' as never },
      { ...base, next: 'dead', attempt: { ...attempt, outcome: 'maybe' as never } },
      { ...base, next: 'delivered', deliveredAt: new Date('nope') },
      { ...base, deliveryId: '', next: 'dead' },
    ];
    for (const input of bad) expect(() => normalizeDeliveryResult(input, now)).toThrow(StoreInputError);
  });
});

describe('normalizeAll', () => {
  it('names the position of the bad item', () => {
    const items = [
      { messageId: 'a', outcome: { status: 'processed' as const } },
      { messageId: 'b', outcome: { status: 'nope' as never } },
    ];
    expect(() => normalizeAll(items, normalizeCompletion)).toThrow(/^item 1: processing ends processed, filtered or failed/);
  });

  it('lets other errors through unchanged', () => {
    const boom = new TypeError('boom');
    expect(() =>
      normalizeAll([1], () => {
        throw boom;
      }),
    ).toThrow(boom);
  });
});

describe('applyDeliveryResult', () => {
  const state = (over: Partial<DeliveryState> = {}): DeliveryState => ({
    status: 'pending',
    nextAttemptAt: null,
    lastError: null,
    deliveredAt: null,
    ...over,
  });
  const result = (next: DeliveryResultInput['next'], extra: Partial<DeliveryResultInput> = {}) =>
    normalizeDeliveryResult({ deliveryId: 'd', attempt, next, nextAttemptAt: later, ...extra }, now);

  it('moves unfinished deliveries like the mark* calls', () => {
    const s = state();
    expect(applyDeliveryResult(s, result('retrying'))).toBe(true);
    expect(s).toEqual({ status: 'failed-retrying', nextAttemptAt: later, lastError: 'HTTP 503', deliveredAt: null });
    expect(applyDeliveryResult(s, result('delivered', { deliveredAt: later }))).toBe(true);
    // delivered keeps the last error, like markDelivered.
    expect(s).toEqual({ status: 'delivered', nextAttemptAt: null, lastError: 'HTTP 503', deliveredAt: later });
  });

  it('leaves finished, withheld and cancelled deliveries alone', () => {
    for (const status of ['delivered', 'dead', 'withheld', 'cancelled'] as const) {
      const s = state({ status, lastError: 'kept' });
      expect(applyDeliveryResult(s, result('retrying'))).toBe(false);
      expect(s).toEqual(state({ status, lastError: 'kept' }));
    }
  });
});
