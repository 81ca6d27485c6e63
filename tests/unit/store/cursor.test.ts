import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../../../src/store/cursor.js';
import { StoreInputError } from '../../../src/store/errors.js';

describe('cursor', () => {
  it('round-trips its parts as an opaque url-safe string', () => {
    const c = encodeCursor([1740830400000, '01JN7Z']);
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(c, ['number', 'string'])).toEqual([1740830400000, '01JN7Z']);
  });

  it('rejects garbage, wrong shapes and non-finite numbers as input errors', () => {
    expect(() => decodeCursor('%%%', ['number'])).toThrow(StoreInputError);
    expect(() => decodeCursor(encodeCursor(['a']), ['number'])).toThrow(StoreInputError);
    expect(() => decodeCursor(encodeCursor([1, 2]), ['number'])).toThrow(StoreInputError);
    expect(() => decodeCursor(Buffer.from('{"a":1}').toString('base64url'), ['number'])).toThrow(StoreInputError);
    expect(() => decodeCursor(Buffer.from('[1e999]').toString('base64url'), ['number'])).toThrow(StoreInputError);
  });
});
