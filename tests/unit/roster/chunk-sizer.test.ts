import { describe, expect, it } from 'vitest';
import { ChunkSizer } from '../../../src/roster/chunk-sizer.js';

/** Feeds the sizer chunks that cost `fixedMs + perRowMs` per row, `rounds` times; returns the sizes used. */
function run(sizer: ChunkSizer, perRowMs: number, rounds: number, fixedMs = 0): number[] {
  const sizes: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const rows = sizer.next;
    sizes.push(rows);
    sizer.record(rows, fixedMs + rows * perRowMs);
  }
  return sizes;
}

describe('ChunkSizer', () => {
  it('keeps the configured size where chunks do not block the event loop', () => {
    const sizer = new ChunkSizer(1000, undefined);
    expect(run(sizer, 5, 5)).toEqual([1000, 1000, 1000, 1000, 1000]);
  });

  it('converges on chunks that take about the target time', () => {
    const sizer = new ChunkSizer(1000, 50);
    const sizes = run(sizer, 0.15, 12); // 150 µs a row: ~333 rows make 50 ms
    expect(sizes[0]).toBe(200);
    expect(Math.abs(sizes.at(-1)! - 333)).toBeLessThanOrEqual(2);
  });

  it('stays within its bounds: never above the configured size, never below the floor', () => {
    expect(run(new ChunkSizer(1000, 50), 0.001, 10).at(-1)).toBe(1000); // cheap rows: capped
    expect(run(new ChunkSizer(1000, 50), 10, 10).at(-1)).toBe(50); // very slow rows: the floor
    expect(run(new ChunkSizer(3, 50), 0.001, 3)).toEqual([3, 3, 3]); // a small configured size wins
  });

  it('moves halfway per chunk, so one stalled commit does not collapse the size', () => {
    const sizer = new ChunkSizer(1000, 50);
    run(sizer, 0.1, 20); // settles at 500 rows
    expect(sizer.next).toBe(500);
    sizer.record(500, 1000); // one chunk stalled for a second (an fsync under load)
    expect(sizer.next).toBeGreaterThanOrEqual(250);
    run(sizer, 0.1, 10);
    expect(sizer.next).toBe(500);
  });

  it('learns nothing from a short chunk (the last of a file)', () => {
    const sizer = new ChunkSizer(1000, 50);
    sizer.record(7, 40);
    expect(sizer.next).toBe(200);
  });
});
