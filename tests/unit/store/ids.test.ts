import { describe, expect, it } from 'vitest';
import { idTime, newId } from '../../../src/store/ids.js';

describe('newId', () => {
  it('is 26 Crockford base32 characters carrying the creation time', () => {
    // Ahead of any earlier call in this process (ids never go back in time).
    const t = Date.now() + 10_000_000;
    const id = newId(t);
    expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(idTime(id)).toBe(t);
  });

  it('is strictly increasing within one millisecond and when the clock steps back', () => {
    const t = Date.now() + 20_000_000;
    const ids = [newId(t), newId(t), newId(t), newId(t - 5000), newId(t + 1)];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('sorts by time across milliseconds', () => {
    const t = Date.now() + 30_000_000;
    expect(newId(t) < newId(t + 1)).toBe(true);
  });

  it('rejects a non-id in idTime', () => {
    expect(() => idTime('hello-world')).toThrow();
  });
});
