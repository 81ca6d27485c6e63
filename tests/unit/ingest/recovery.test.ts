import { describe, expect, it } from 'vitest';
import type { Outbox } from '../../../src/delivery/outbox.js';
import type { DeliveryJob } from '../../../src/delivery/types.js';
import { DELIVERY_IDLE_MS, RecoverySweep } from '../../../src/ingest/recovery.js';
import type { Pipeline } from '../../../src/ingest/pipeline.js';
import { silentLog } from '../../../src/observability/log.js';
import type { MessageStore, UnfinishedItem } from '../../../src/store/types.js';

// Which unfinished work a pass picks up. The store and the queues are stand-ins here: the real
// sweep over SQLite, Postgres and Redis is exercised by the crash and gateway tests.

function delivery(id: string, updatedAgoMs: number): UnfinishedItem {
  return {
    kind: 'delivery',
    id,
    messageId: `m-${id}`,
    destination: 'hook',
    patientKey: 'p1',
    seq: 1,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: null,
    updatedAt: new Date(Date.now() - updatedAgoMs),
  };
}

function sweepOver(items: UnfinishedItem[], resubmitGate?: Promise<void>) {
  const resubmitted: string[] = [];
  const reprocessed: string[] = [];
  const store = { listUnfinished: async () => ({ items, next: null }) } as unknown as MessageStore;
  const pipeline = {
    recoverOwned: async () => 0,
    reprocess: async (id: string) => void reprocessed.push(id),
  } as unknown as Pipeline;
  const outbox = {
    isDeliverable: () => true,
    queues: {
      resubmit: async (job: DeliveryJob) => {
        await resubmitGate;
        resubmitted.push(job.deliveryId);
        return 'pending';
      },
    },
  } as unknown as Outbox;
  return { sweep: new RecoverySweep(store, pipeline, outbox, silentLog), resubmitted, reprocessed };
}

describe('RecoverySweep', () => {
  const items = [
    { kind: 'message', id: 'old-msg', receivedAt: new Date(Date.now() - 60_000) } as UnfinishedItem,
    { kind: 'message', id: 'new-msg', receivedAt: new Date() } as UnfinishedItem,
    delivery('idle', DELIVERY_IDLE_MS + 5_000),
    delivery('busy', 1_000),
  ];

  it('the periodic pass leaves recent messages and recently written deliveries to the live path', async () => {
    const { sweep, resubmitted, reprocessed } = sweepOver(items);
    const stats = await sweep.run(10_000);
    expect(reprocessed).toEqual(['old-msg']);
    expect(resubmitted).toEqual(['idle']);
    expect(stats).toMatchObject({ messages: 1, deliveries: 1 });
  });

  it('a full pass (start, Redis back) takes everything', async () => {
    const { sweep, resubmitted, reprocessed } = sweepOver(items);
    await sweep.run();
    expect(reprocessed).toEqual(['old-msg', 'new-msg']);
    expect(resubmitted).toEqual(['idle', 'busy']);
  });

  it('a full pass asked for during a periodic one runs after it instead of sharing it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { sweep, resubmitted } = sweepOver(items, gate);
    const periodic = sweep.run(10_000);
    const sameKind = sweep.run(10_000);
    const full = sweep.run();
    expect(sameKind).toBe(periodic);
    release();
    await Promise.all([periodic, full]);
    expect(resubmitted).toEqual(['idle', 'idle', 'busy']);
  });
});
