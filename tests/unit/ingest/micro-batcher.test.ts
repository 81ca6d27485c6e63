import { describe, expect, it } from 'vitest';
import { MicroBatcher } from '../../../src/ingest/micro-batcher.js';

describe('MicroBatcher (group commit)', () => {
  it('gives each caller its own result while the flush sees batches', async () => {
    const batches: number[][] = [];
    const b = new MicroBatcher<number, number>(async (items) => {
      batches.push(items);
      return items.map((i) => i * 10);
    });
    const results = await Promise.all([1, 2, 3, 4].map((i) => b.submit(i)));
    expect(results).toEqual([10, 20, 30, 40]);
    expect(batches).toEqual([[1, 2, 3, 4]]);
  });

  it('items arriving during a flush form the next batch; maxBatch splits large ones', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const b = new MicroBatcher<number, number>(async (items) => {
      batches.push(items);
      if (batches.length === 1) await gate;
      return items;
    }, 2);
    const first = b.submit(1);
    await new Promise((r) => setImmediate(r));
    const later = [2, 3, 4].map((i) => b.submit(i));
    release();
    expect(await Promise.all([first, ...later])).toEqual([1, 2, 3, 4]);
    expect(batches).toEqual([[1], [2, 3], [4]]);
  });

  it('a failed flush rejects every item of that batch, and the next batch still runs', async () => {
    let calls = 0;
    const b = new MicroBatcher<number, number>(async (items) => {
      calls++;
      if (calls === 1) throw new Error('store down');
      return items;
    });
    const failed = Promise.allSettled([b.submit(1), b.submit(2)]);
    expect((await failed).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(await b.submit(3)).toBe(3);
  });

  it('lingers to gather a bigger batch when asked to', async () => {
    const batches: number[][] = [];
    const b = new MicroBatcher<number, number>(
      async (items) => {
        batches.push(items);
        return items;
      },
      500,
      20,
    );
    const p1 = b.submit(1);
    await new Promise((r) => setTimeout(r, 2));
    const p2 = b.submit(2);
    await Promise.all([p1, p2]);
    expect(batches).toEqual([[1, 2]]);
  });
});
