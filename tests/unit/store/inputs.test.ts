import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { StoreInputError } from '../../../src/store/errors.js';
import { jsonText, normalizeDelivery, normalizeIdentifiers, normalizeInbound, splitEvent } from '../../../src/store/inputs.js';
import { MAX_PAGE, pageSize } from '../../../src/store/paging.js';

describe('store input normalization', () => {
  const now = new Date('2025-01-01T00:00:00Z');

  it('fills defaults and hashes the raw bytes', () => {
    const raw = new Uint8Array([1, 2, 3]);
    const n = normalizeInbound({ sourceKind: 'http', sourceName: 'h', dedupeKey: 'k', raw }, now);
    expect(n).toMatchObject({ receivedAt: now, status: 'received', partnerId: null, controlId: null });
    expect(Buffer.isBuffer(n.raw)).toBe(true);
    expect(n.contentHash).toBe(createHash('sha256').update(raw).digest('hex'));
  });

  it('rejects unknown kinds, statuses, empty keys and non-byte payloads', () => {
    const base = { sourceKind: 'http' as const, sourceName: 'h', dedupeKey: 'k', raw: Buffer.from('x') };
    expect(() => normalizeInbound({ ...base, sourceKind: 'fax' as never }, now)).toThrow(StoreInputError);
    expect(() => normalizeInbound({ ...base, status: 'processed' as never }, now)).toThrow(StoreInputError);
    expect(() => normalizeInbound({ ...base, dedupeKey: '' }, now)).toThrow(StoreInputError);
    expect(() => normalizeInbound({ ...base, raw: 'text' as never }, now)).toThrow(StoreInputError);
  });

  it('drops empty and repeated identifiers', () => {
    expect(
      normalizeIdentifiers([
        { system: 's', value: '1' },
        { system: 's', value: '1' },
        { system: 's', value: '' },
        { system: 't', value: '1' },
      ]),
    ).toEqual([
      { system: 's', value: '1' },
      { system: 't', value: '1' },
    ]);
  });

  it('keeps strings verbatim and JSON-encodes the rest', () => {
    expect(jsonText('{"a":1}')).toBe('{"a":1}');
    expect(jsonText({ a: 1 })).toBe('{"a":1}');
    expect(jsonText(undefined)).toBeNull();
    expect(normalizeDelivery({ destination: 'd' })).toMatchObject({ status: 'pending', payload: null, patientKey: null });
    expect(() => normalizeDelivery({ destination: '' })).toThrow(StoreInputError);
  });

  it('bounds page sizes', () => {
    expect(pageSize(undefined)).toBe(50);
    expect(pageSize(MAX_PAGE * 10)).toBe(MAX_PAGE);
    expect(() => pageSize(0)).toThrow(StoreInputError);
    expect(() => pageSize(1.5)).toThrow(StoreInputError);
  });

  it('splits TYPE^EVENT', () => {
    expect(splitEvent('A01')).toEqual({ triggerEvent: 'A01' });
    expect(splitEvent('ADT^A08')).toEqual({ messageType: 'ADT', triggerEvent: 'A08' });
  });
});
