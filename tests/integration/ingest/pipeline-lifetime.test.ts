import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { DeliveryJob } from '../../../src/delivery/types.js';
import { Hl7Message } from '../../../src/hl7v2/index.js';
import { convertParsed } from '../../../src/ingest/convert-message.js';
import { Pipeline } from '../../../src/ingest/pipeline.js';
import { loadProfile } from '../../../src/mapping/profile-loader.js';
import { silentLog } from '../../../src/observability/log.js';
import { Router } from '../../../src/routing/router.js';
import { openStore } from '../../../src/store/index.js';
import type { CompletionItem, MessageStore } from '../../../src/store/types.js';

// While a message's commit waits on the disk (and its deliveries on Redis), the pipeline must hold
// only the plan: text and ids. Holding the conversion (a few hundred objects per ADT message)
// through those waits is what moves in-flight messages into the old generation under load.

const FIX = join(import.meta.dirname, '../../../fixtures/hl7v2/adt');
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('the pipeline after planning', () => {
  it('lets the conversion go before the commit completes, and still delivers', async () => {
    const real = await openStore('sqlite::memory:');
    // A slow disk, injected: the completion commit waits until the test lets it go.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let reachedCommit!: () => void;
    const atCommit = new Promise<void>((r) => (reachedCommit = r));
    const store = Object.create(real) as MessageStore;
    store.completeProcessingBatch = async (items: readonly CompletionItem[]) => {
      reachedCommit();
      await gate;
      return real.completeProcessingBatch(items);
    };
    const enqueued: DeliveryJob[] = [];
    const profile = loadProfile({});
    const pipeline = new Pipeline({
      store,
      router: new Router([{ id: 'all', match: { events: ['A01'] }, to: ['hook'] }]),
      destinationTypes: new Map([['hook', 'webhook']]),
      profileFor: () => profile,
      enqueue: async (job) => (enqueued.push(job), true),
      log: silentLog,
    });

    const raw = readFileSync(join(FIX, 'A01.hl7'));
    const [stored] = await real.acceptInbound([{ sourceKind: 'mllp', sourceName: 'in', dedupeKey: 'k', raw }]);
    // Built in a function of its own, so this test's frame holds nothing but the weak reference.
    const submit = (): WeakRef<object> => {
      const r = convertParsed(Hl7Message.parse(raw), profile);
      if (!r.ok) throw new Error(r.reason);
      pipeline.submit({ facts: r.conversion, conversion: r.conversion, messageId: stored.id, sourceName: 'in', receivedAt: Date.now() });
      return new WeakRef(r.conversion);
    };
    const conversion = submit();

    await atCommit;
    await new Promise((r) => setImmediate(r)); // a WeakRef keeps its target until the job that made it ends
    gc();
    expect(conversion.deref()).toBeUndefined();

    release();
    await expect.poll(() => enqueued.map((j) => j.destinationId)).toEqual(['hook']);
    await real.close();
  });
});
