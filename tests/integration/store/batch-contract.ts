import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreInputError } from '../../../src/store/errors.js';
import type {
  CompleteResult,
  CompletionItem,
  CompletionItemResult,
  DeliveryInput,
  DeliveryRecord,
  DeliveryResultInput,
  MessageStore,
} from '../../../src/store/types.js';
import type { StoreHarness } from './contract.js';
import { at, msg } from './fixtures.js';

// Contract for the group-commit write paths (completeProcessingBatch, recordDeliveryResults) and
// getMessageRaw, run against every backend like the main contract.

/** The result of an item that must have found its message. */
function found(r: CompletionItemResult): CompleteResult {
  if (!r.ok) throw new Error(`expected a found message, got ${r.error}`);
  return r.result;
}

async function received(store: MessageStore, n: number): Promise<string[]> {
  const res = await store.acceptInbound(Array.from({ length: n }, () => msg()));
  return res.map((r) => r.id);
}

function completion(messageId: string, deliveries: DeliveryInput[] = [], status: 'processed' | 'failed' = 'processed'): CompletionItem {
  return {
    messageId,
    outcome: {
      status,
      fhir: { resourceType: 'Bundle', type: 'message', id: messageId },
      identifiers: [{ system: 'urn:mrn', value: `MRN-${messageId}` }],
      deliveries,
    },
  };
}

/** Deliveries (pending, one per destination) of freshly processed messages, in creation order. */
async function pendingDeliveries(store: MessageStore, destinations: string[]): Promise<DeliveryRecord[]> {
  const [id] = await received(store, 1);
  return found(
    (
      await store.completeProcessingBatch([
        completion(
          id,
          destinations.map((destination) => ({ destination, patientKey: 'p' })),
        ),
      ])
    )[0],
  ).deliveries;
}

const attempt = (minute: number, outcome: 'success' | 'retryable-error' | 'fatal-error', error?: string) => ({
  startedAt: at(minute),
  durationMs: 12,
  outcome,
  httpStatus: outcome === 'success' ? 200 : 503,
  error: error ?? null,
});

export function describeBatchContract(name: string, open: () => Promise<StoreHarness>): void {
  describe(`MessageStore batch contract: ${name}`, () => {
    let h: StoreHarness;
    let store: MessageStore;
    const peers: MessageStore[] = [];

    beforeEach(async () => {
      h = await open();
      store = h.store;
    });

    afterEach(async () => {
      for (const p of peers.splice(0)) await p.close();
      await store.close();
    });

    describe('completeProcessingBatch', () => {
      it('applies a batch of 200 completions in one call, results in input order', async () => {
        const ids = await received(store, 200);
        const items = ids.map((id, i) =>
          completion(id, [
            { destination: 'cp-fhir', patientKey: `pat-${i % 7}`, payload: { n: i } },
            { destination: 'webhook', patientKey: `pat-${i % 7}`, payload: `{"n":${i}}` },
          ]),
        );
        const results = await store.completeProcessingBatch(items);
        expect(results).toHaveLength(200);
        results.forEach((r, i) => {
          const done = found(r);
          expect(done.applied).toBe(true);
          expect(done.status).toBe('processed');
          expect(done.deliveries.map((d) => [d.messageId, d.destination])).toEqual([
            [ids[i], 'cp-fhir'],
            [ids[i], 'webhook'],
          ]);
          expect(JSON.parse(done.deliveries[0].payload!)).toEqual({ n: i });
        });
        // seq follows input order across the whole batch.
        const seqs = results.flatMap((r) => found(r).deliveries.map((d) => d.seq));
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        expect(new Set(seqs).size).toBe(400);

        const stats = await store.stats();
        expect(stats.messagesByStatus).toMatchObject({ received: 0, processed: 200 });
        expect(stats.deliveriesByStatus.pending).toBe(400);
        const m = await store.getMessage(ids[123]);
        expect(JSON.parse(m!.fhir!)).toMatchObject({ id: ids[123] });
        expect(m!.identifiers).toEqual([{ system: 'urn:mrn', value: `MRN-${ids[123]}` }]);
        expect((await store.searchMessages({ identifier: { value: `MRN-${ids[199]}` } })).items.map((x) => x.id)).toEqual([ids[199]]);
      });

      it('reports an already-processed, a repeated and an unknown id per item, without failing the others', async () => {
        const [done, fresh1, fresh2] = await received(store, 3);
        await store.completeProcessing(done, { status: 'processed', deliveries: [{ destination: 'A' }] });
        const results = await store.completeProcessingBatch([
          completion(fresh1, [{ destination: 'A', patientKey: 'p1' }], 'failed'),
          completion(done, [{ destination: 'A' }]),
          completion('no-such-message', [{ destination: 'A' }]),
          completion(fresh2, [{ destination: 'A', patientKey: 'p1' }]),
          completion(fresh1, [{ destination: 'B' }]),
        ]);
        expect(results[0]).toMatchObject({ ok: true, result: { applied: true, status: 'failed' } });
        expect(results[1]).toEqual({ ok: true, result: { applied: false, status: 'processed', deliveries: [] } });
        expect(results[2]).toEqual({ ok: false, error: 'not-found' });
        expect(results[3]).toMatchObject({ ok: true, result: { applied: true, status: 'processed' } });
        // The second item for fresh1 sees it finished by the first, as if the calls ran one by one.
        expect(results[4]).toEqual({ ok: true, result: { applied: false, status: 'failed', deliveries: [] } });

        expect((await store.getMessage(done))!.deliveries).toHaveLength(1);
        expect((await store.getMessage(fresh1))!.deliveries.map((d) => d.destination)).toEqual(['A']);
        expect(await store.getMessage(fresh2)).toMatchObject({ status: 'processed' });
        expect((await store.stats()).messagesByStatus).toMatchObject({ received: 0, processed: 2, failed: 1 });
      });

      it('orders deliveries of one patient by input order across the batch', async () => {
        const ids = await received(store, 4);
        const results = await store.completeProcessingBatch([
          completion(ids[0], [
            { destination: 'A', patientKey: 'p1' },
            { destination: 'B', patientKey: 'p1' },
          ]),
          completion(ids[1], [{ destination: 'A', patientKey: 'p2' }]),
          completion(ids[2], [
            { destination: 'A', patientKey: 'p1' },
            { destination: 'A', patientKey: 'p2' },
          ]),
          completion(ids[3], [
            { destination: 'A', patientKey: 'p1', status: 'withheld', withheldReason: 'no consent' },
            { destination: 'A', patientKey: 'p1' },
          ]),
        ]);
        const d = results.map((r) => found(r).deliveries);
        const p1AtA = [d[0][0], d[2][0], d[3][0], d[3][1]];
        expect(p1AtA.map((x) => x.seq)).toEqual([...p1AtA.map((x) => x.seq)].sort((a, b) => a - b));
        expect(d[1][0].seq).toBeLessThan(d[2][1].seq);

        expect(await store.hasEarlierUndelivered('A', 'p1', d[0][0].seq)).toBe(false);
        expect(await store.hasEarlierUndelivered('A', 'p1', d[2][0].seq)).toBe(true);
        expect(await store.hasEarlierUndelivered('A', 'p2', d[2][1].seq)).toBe(true);
        expect(await store.hasEarlierUndelivered('B', 'p1', d[0][1].seq)).toBe(false);
        await store.recordDeliveryResults([{ deliveryId: d[0][0].id, attempt: attempt(1, 'success'), next: 'delivered' }]);
        expect(await store.hasEarlierUndelivered('A', 'p1', d[2][0].seq)).toBe(false);
        // The withheld one in between does not block the last.
        await store.recordDeliveryResults([{ deliveryId: d[2][0].id, attempt: attempt(2, 'success'), next: 'delivered' }]);
        expect(await store.hasEarlierUndelivered('A', 'p1', d[3][1].seq)).toBe(false);

        // A later single completion comes after the whole batch.
        const [later] = await received(store, 1);
        const single = await store.completeProcessing(later, { status: 'processed', deliveries: [{ destination: 'A', patientKey: 'p1' }] });
        expect(single.deliveries[0].seq).toBeGreaterThan(d[3][1].seq);
      });

      it('rejects invalid input for the whole batch before writing anything, naming the item', async () => {
        const ids = await received(store, 2);
        await expect(
          store.completeProcessingBatch([completion(ids[0], [{ destination: 'A' }]), completion(ids[1], [{ destination: '' }])]),
        ).rejects.toThrow(/item 1: .*destination/);
        await expect(
          store.completeProcessingBatch([{ messageId: ids[0], outcome: { status: 'received' as never } }]),
        ).rejects.toBeInstanceOf(StoreInputError);
        await expect(store.completeProcessing(ids[0], { status: 'received' as never })).rejects.toBeInstanceOf(StoreInputError);
        for (const id of ids) expect(await store.getMessage(id)).toMatchObject({ status: 'received', fhir: null, deliveries: [] });
      });

      it('returns [] for an empty batch', async () => {
        expect(await store.completeProcessingBatch([])).toEqual([]);
      });
    });

    describe('recordDeliveryResults', () => {
      it('records attempts and applies delivered, retrying and dead in one call', async () => {
        const [a, b, c] = await pendingDeliveries(store, ['A', 'B', 'C']);
        const results = await store.recordDeliveryResults([
          { deliveryId: a.id, attempt: attempt(1, 'success'), next: 'delivered', deliveredAt: at(2) },
          { deliveryId: b.id, attempt: attempt(1, 'retryable-error', 'HTTP 503'), next: 'retrying', nextAttemptAt: at(5) },
          { deliveryId: c.id, attempt: attempt(1, 'fatal-error', 'HTTP 400'), next: 'dead', error: 'rejected: HTTP 400' },
        ]);
        expect(results).toEqual([true, true, true]);

        const da = await store.getDelivery(a.id);
        expect(da).toMatchObject({ status: 'delivered', attempts: 1, nextAttemptAt: null, lastError: null });
        expect(da!.deliveredAt!.getTime()).toBe(at(2).getTime());
        const db = await store.getDelivery(b.id);
        expect(db).toMatchObject({ status: 'failed-retrying', attempts: 1, lastError: 'HTTP 503', deliveredAt: null });
        expect(db!.nextAttemptAt!.getTime()).toBe(at(5).getTime());
        expect(await store.getDelivery(c.id)).toMatchObject({
          status: 'dead',
          attempts: 1,
          lastError: 'rejected: HTTP 400',
          nextAttemptAt: null,
        });

        const m = await store.getMessage(a.messageId);
        const logs = Object.fromEntries(m!.deliveries.map((d) => [d.id, d.attemptLog]));
        expect(logs[a.id].map((x) => [x.outcome, x.httpStatus, x.durationMs])).toEqual([['success', 200, 12]]);
        expect(logs[b.id][0]).toMatchObject({ outcome: 'retryable-error', error: 'HTTP 503', deliveryId: b.id });
        expect(logs[c.id]).toHaveLength(1);
        expect((await store.stats()).deadByDestination).toEqual({ C: 1 });
      });

      it('returns false on a second application to a finished delivery, and still logs the attempt', async () => {
        const [a, c] = await pendingDeliveries(store, ['A', 'C']);
        const batch: DeliveryResultInput[] = [
          { deliveryId: a.id, attempt: attempt(1, 'success'), next: 'delivered', deliveredAt: at(2) },
          { deliveryId: c.id, attempt: attempt(1, 'fatal-error', 'HTTP 400'), next: 'dead' },
        ];
        expect(await store.recordDeliveryResults(batch)).toEqual([true, true]);
        expect(await store.recordDeliveryResults(batch)).toEqual([false, false]);
        const da = await store.getDelivery(a.id);
        expect(da).toMatchObject({ status: 'delivered', attempts: 2 });
        expect(da!.deliveredAt!.getTime()).toBe(at(2).getTime());
        expect(await store.getDelivery(c.id)).toMatchObject({ status: 'dead', attempts: 2, lastError: 'HTTP 400' });
        // The mark* calls see the same state.
        expect(await store.markDelivered(a.id)).toBe(false);
        expect(await store.markRetrying(c.id, at(9), 'x')).toBe(false);
      });

      it('answers false for an unknown delivery without failing the others', async () => {
        const [a] = await pendingDeliveries(store, ['A']);
        const results = await store.recordDeliveryResults([
          { deliveryId: 'no-such-delivery', attempt: attempt(1, 'success'), next: 'delivered' },
          { deliveryId: a.id, attempt: attempt(1, 'success'), next: 'delivered' },
        ]);
        expect(results).toEqual([false, true]);
        expect(await store.getDelivery(a.id)).toMatchObject({ status: 'delivered', attempts: 1 });
        expect(await store.getDelivery('no-such-delivery')).toBeNull();
      });

      it('applies several results for one delivery in input order', async () => {
        const [a, b] = await pendingDeliveries(store, ['A', 'B']);
        const results = await store.recordDeliveryResults([
          { deliveryId: a.id, attempt: attempt(1, 'retryable-error', 'timeout'), next: 'retrying', nextAttemptAt: at(3) },
          { deliveryId: b.id, attempt: attempt(1, 'success'), next: 'delivered', deliveredAt: at(1) },
          { deliveryId: a.id, attempt: attempt(3, 'success'), next: 'delivered', deliveredAt: at(4) },
          { deliveryId: b.id, attempt: attempt(2, 'fatal-error', 'late'), next: 'dead' },
        ]);
        expect(results).toEqual([true, true, true, false]);
        const da = await store.getDelivery(a.id);
        // delivered clears the retry time and keeps the last error, like markDelivered.
        expect(da).toMatchObject({ status: 'delivered', attempts: 2, nextAttemptAt: null, lastError: 'timeout' });
        expect(da!.deliveredAt!.getTime()).toBe(at(4).getTime());
        const db = await store.getDelivery(b.id);
        expect(db).toMatchObject({ status: 'delivered', attempts: 2, lastError: null });
        expect(db!.deliveredAt!.getTime()).toBe(at(1).getTime());
        const m = await store.getMessage(a.messageId);
        expect(m!.deliveries.find((d) => d.id === a.id)!.attemptLog.map((x) => x.outcome)).toEqual(['retryable-error', 'success']);
      });

      it('does not move withheld or cancelled deliveries', async () => {
        const [id] = await received(store, 1);
        const [held, other] = found(
          (
            await store.completeProcessingBatch([
              completion(id, [{ destination: 'A', status: 'withheld', withheldReason: 'no consent' }, { destination: 'B' }]),
            ])
          )[0],
        ).deliveries;
        await store.markCancelled(other.id, 'destination removed');
        expect(
          await store.recordDeliveryResults([
            { deliveryId: held.id, attempt: attempt(1, 'success'), next: 'delivered' },
            { deliveryId: other.id, attempt: attempt(1, 'success'), next: 'delivered' },
          ]),
        ).toEqual([false, false]);
        expect(await store.getDelivery(held.id)).toMatchObject({ status: 'withheld' });
        expect(await store.getDelivery(other.id)).toMatchObject({ status: 'cancelled' });
      });

      it('rejects invalid input for the whole call before recording anything', async () => {
        const [a] = await pendingDeliveries(store, ['A']);
        const ok: DeliveryResultInput = { deliveryId: a.id, attempt: attempt(1, 'success'), next: 'delivered' };
        await expect(
          store.recordDeliveryResults([ok, { deliveryId: a.id, attempt: attempt(1, 'retryable-error'), next: 'retrying' }]),
        ).rejects.toThrow(/item 1: .*nextAttemptAt/);
        await expect(store.recordDeliveryResults([{ ...ok, next: 'lost' as never }])).rejects.toBeInstanceOf(StoreInputError);
        await expect(
          store.recordDeliveryResults([{ ...ok, attempt: { ...ok.attempt, outcome: 'maybe' as never } }]),
        ).rejects.toBeInstanceOf(StoreInputError);
        expect(await store.getDelivery(a.id)).toMatchObject({ status: 'pending', attempts: 0 });
        expect(await store.recordDeliveryResults([])).toEqual([]);
      });
    });

    describe('getMessageRaw', () => {
      it('returns the exact bytes and their origin, or null', async () => {
        const input = msg({ sourceKind: 'http', sourceName: 'adt-https', partnerId: 'aco-9', receivedAt: at(7) });
        const [r] = await store.acceptInbound([input]);
        const raw = await store.getMessageRaw(r.id);
        expect(raw).toMatchObject({ sourceKind: 'http', sourceName: 'adt-https', partnerId: 'aco-9', status: 'received' });
        expect(Buffer.compare(raw!.raw, input.raw as Buffer)).toBe(0);
        expect(raw!.receivedAt.getTime()).toBe(at(7).getTime());
        expect(Object.keys(raw!).sort()).toEqual(['partnerId', 'raw', 'receivedAt', 'replayOf', 'sourceKind', 'sourceName', 'status']);
        expect(raw!.replayOf).toBeNull();
        await store.completeProcessing(r.id, { status: 'failed', statusReason: 'mapping' });
        expect((await store.getMessageRaw(r.id))!.status).toBe('failed');
        // A replay names the message it replays (the pipeline finishes it as that message's source would).
        const replay = await store.createReplay(r.id);
        expect(await store.getMessageRaw(replay.id)).toMatchObject({
          sourceKind: 'replay',
          sourceName: 'replay',
          replayOf: r.id,
          status: 'received',
        });
        expect(await store.getMessageRaw('missing')).toBeNull();
      });
    });

    describe('two connections (a second gateway process)', () => {
      it('concurrent completion batches sharing patients (and messages) apply each message once (10 rounds)', async (ctx) => {
        if (!h.openPeer) return ctx.skip();
        const other = await h.openPeer();
        peers.push(other);
        const patients = Array.from({ length: 6 }, (_, i) => `pat-${i}`);
        // Every message sends to every patient at two destinations, in opposite orders on the two
        // sides: the worst case for lock ordering.
        const forward = (id: string) =>
          completion(
            id,
            patients.flatMap((p) => [
              { destination: 'A', patientKey: p },
              { destination: 'B', patientKey: p },
            ]),
          );
        const backward = (id: string) =>
          completion(
            id,
            [...patients].reverse().flatMap((p) => [
              { destination: 'B', patientKey: p },
              { destination: 'A', patientKey: p },
            ]),
          );
        let expectedMessages = 0;
        for (let round = 0; round < 10; round++) {
          const ids = await received(store, 30);
          // Even rounds: disjoint messages, so only the per-patient locks are contended. Odd rounds:
          // both sides also list the same 6 messages, in opposite orders (only one may apply each).
          const shared = round % 2 ? ids.slice(24) : [];
          const [one, two] = await Promise.all([
            store.completeProcessingBatch([...ids.slice(0, 12), ...shared].map(forward)),
            other.completeProcessingBatch([...ids.slice(12, 24), ...[...shared].reverse()].map(backward)),
          ]);
          const all = [...one, ...two].map(found);
          expect(all.filter((r) => r.applied)).toHaveLength(24 + shared.length);
          expect(all.filter((r) => !r.applied)).toHaveLength(shared.length);
          expectedMessages += 24 + shared.length;
        }
        // Retries would hide deadlocks: sorted lock order must make them impossible, not just survivable.
        expect(h.transactionRetries?.() ?? []).toEqual([]);
        const stats = await store.stats();
        expect(stats.messagesByStatus.processed).toBe(expectedMessages);
        expect(stats.deliveriesByStatus.pending).toBe(expectedMessages * patients.length * 2);
        const seqs = new Set<number>();
        let cursor: string | null = null;
        do {
          const page: Awaited<ReturnType<MessageStore['listDeliveries']>> = await store.listDeliveries({ limit: 1000, cursor });
          for (const d of page.items) seqs.add(d.seq);
          cursor = page.next;
        } while (cursor);
        expect(seqs.size).toBe(expectedMessages * patients.length * 2);
      });

      it('concurrent delivery-result batches on the same deliveries apply each transition once', async (ctx) => {
        if (!h.openPeer) return ctx.skip();
        const other = await h.openPeer();
        peers.push(other);
        const [id] = await received(store, 1);
        const deliveries = found(
          (
            await store.completeProcessingBatch([
              completion(
                id,
                Array.from({ length: 20 }, (_, i) => ({ destination: `D${i}`, patientKey: 'p' })),
              ),
            ])
          )[0],
        ).deliveries;
        const batch = deliveries.map((d): DeliveryResultInput => ({ deliveryId: d.id, attempt: attempt(1, 'success'), next: 'delivered' }));
        const [one, two] = await Promise.all([store.recordDeliveryResults(batch), other.recordDeliveryResults([...batch].reverse())]);
        const twoInOrder = [...two].reverse();
        deliveries.forEach((_, i) => expect(Number(one[i]) + Number(twoInOrder[i])).toBe(1));
        expect(h.transactionRetries?.() ?? []).toEqual([]);
        for (const d of deliveries) expect(await store.getDelivery(d.id)).toMatchObject({ status: 'delivered', attempts: 2 });
      });
    });
  });
}
