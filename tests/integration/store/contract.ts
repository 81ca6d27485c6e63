import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError, StoreInputError } from '../../../src/store/errors.js';
import type { DeliveryRecord, InboundInput, MessageStore, UnfinishedItem } from '../../../src/store/types.js';
import { at, msg } from './fixtures.js';

// One behavioural contract for every MessageStore implementation. Each test gets a fresh, empty
// store from the harness factory; `openPeer` (when the backend has one) opens a second independent
// connection to the same database, standing in for a second gateway process.

export interface StoreHarness {
  store: MessageStore;
  openPeer?: () => Promise<MessageStore>;
  /** Transactions the backend rolled back and reran (Postgres: deadlock, serialization), if it reports them. */
  transactionRetries?: () => readonly string[];
}

async function processedWith(
  store: MessageStore,
  deliveries: Array<{ destination: string; patientKey?: string; status?: 'pending' | 'withheld' }>,
  over: Partial<InboundInput> = {},
): Promise<{ messageId: string; deliveries: DeliveryRecord[] }> {
  const [r] = await store.acceptInbound([msg(over)]);
  const done = await store.completeProcessing(r.id, {
    status: 'processed',
    fhir: { resourceType: 'Bundle', type: 'message' },
    deliveries: deliveries.map((d) => ({ payload: { n: 1 }, ...d })),
  });
  return { messageId: r.id, deliveries: done.deliveries };
}

async function drainUnfinished(store: MessageStore, pageSize: number): Promise<{ items: UnfinishedItem[]; pages: number }> {
  const items: UnfinishedItem[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page = await store.listUnfinished(pageSize, cursor);
    expect(page.items.length).toBeLessThanOrEqual(pageSize);
    items.push(...page.items);
    cursor = page.next;
    pages++;
    expect(pages).toBeLessThan(1000);
  } while (cursor);
  return { items, pages };
}

export function describeStoreContract(name: string, open: () => Promise<StoreHarness>): void {
  describe(`MessageStore contract: ${name}`, () => {
    let h: StoreHarness;
    let store: MessageStore;
    const peers: MessageStore[] = [];

    const peer = async (): Promise<MessageStore> => {
      const p = await h.openPeer!();
      peers.push(p);
      return p;
    };

    beforeEach(async () => {
      h = await open();
      store = h.store;
    });

    afterEach(async () => {
      for (const p of peers.splice(0)) await p.close();
      await store.close();
    });

    describe('acceptInbound', () => {
      it('stores the exact bytes and metadata, with one receipt', async () => {
        const input = msg({ controlId: 'X1', identifiers: [{ system: 'urn:mrn', value: 'MRN-X1' }] });
        const [r] = await store.acceptInbound([input]);
        expect(r.duplicate).toBe(false);
        expect(r.status).toBe('received');
        const m = await store.getMessage(r.id);
        expect(m).not.toBeNull();
        expect(Buffer.compare(m!.raw, input.raw as Buffer)).toBe(0);
        expect(m!.contentHash).toBe(createHash('sha256').update(input.raw).digest('hex'));
        expect(m).toMatchObject({
          id: r.id,
          sourceKind: 'mllp',
          sourceName: 'adt-in',
          partnerId: 'genhosp',
          sender: 'EPIC^GENHOSP',
          controlId: 'X1',
          messageType: 'ADT',
          triggerEvent: 'A01',
          version: '2.5.1',
          dedupeKey: 'EPIC^GENHOSP|X1',
          status: 'received',
          statusReason: null,
          fhir: null,
          duplicateCount: 0,
          replayOf: null,
          identifiers: [{ system: 'urn:mrn', value: 'MRN-X1' }],
        });
        expect(m!.receivedAt.getTime()).toBe(at(0).getTime());
        expect(m!.receipts).toHaveLength(1);
        expect(m!.receipts[0]).toMatchObject({ id: r.receiptId, duplicate: false, messageId: r.id });
      });

      it('returns [] for an empty batch', async () => {
        expect(await store.acceptInbound([])).toEqual([]);
      });

      it('dedupes across batches and counts duplicates durably', async () => {
        const [first] = await store.acceptInbound([msg({ controlId: 'D1' })]);
        const [again] = await store.acceptInbound([msg({ controlId: 'D1', sourceName: 'adt-in-2' })]);
        const [third] = await store.acceptInbound([msg({ controlId: 'D1' })]);
        expect(again).toMatchObject({ id: first.id, duplicate: true, status: 'received' });
        expect(third).toMatchObject({ id: first.id, duplicate: true });
        const m = await store.getMessage(first.id);
        expect(m!.duplicateCount).toBe(2);
        expect(m!.receipts.map((r) => r.duplicate)).toEqual([false, true, true]);
        expect(m!.receipts[1].sourceName).toBe('adt-in-2');
        expect((await store.stats()).duplicates).toBe(2);
        expect((await store.searchMessages({})).items).toHaveLength(1);
      });

      it('dedupes inside one batch, keeping input order in the results', async () => {
        const a = msg({ controlId: 'A' });
        const b = msg({ controlId: 'B' });
        const res = await store.acceptInbound([a, { ...a }, b, { ...a }]);
        expect(res.map((r) => r.duplicate)).toEqual([false, true, false, true]);
        expect(res[1].id).toBe(res[0].id);
        expect(res[3].id).toBe(res[0].id);
        expect(res[2].id).not.toBe(res[0].id);
        expect(new Set(res.map((r) => r.receiptId)).size).toBe(4);
        expect((await store.getMessage(res[0].id))!.duplicateCount).toBe(2);
        expect((await store.getMessage(res[2].id))!.duplicateCount).toBe(0);
      });

      it('gives a batch ids in arrival order, whatever the order of their dedupe keys', async () => {
        // Ids are time-ordered and break ties between equal receipt times (recovery, listings):
        // an A03 that arrived after its A01 in the same millisecond must not sort before it.
        const when = at(5);
        const batch = ['Z', 'M', 'A'].map((c) => msg({ controlId: c, receivedAt: when }));
        const ids = (await store.acceptInbound(batch)).map((r) => r.id);
        expect([...ids].sort()).toEqual(ids);
      });

      it('group-commits 500 messages in one call', async () => {
        const batch = Array.from({ length: 500 }, (_, i) => msg({ controlId: `G${i}`, receivedAt: at(i % 60) }));
        const res = await store.acceptInbound(batch);
        expect(res).toHaveLength(500);
        expect(new Set(res.map((r) => r.id)).size).toBe(500);
        expect(res.every((r) => !r.duplicate)).toBe(true);
        const stats = await store.stats();
        expect(stats.messagesByStatus.received).toBe(500);
        const m = await store.getMessage(res[499].id);
        expect(m!.controlId).toBe('G499');
      });

      it('is all-or-nothing: a failing row rolls back the whole batch', async () => {
        const good = msg({ controlId: 'OK1' });
        const bad = msg({ controlId: 'BAD1', sourceName: null as unknown as string });
        await expect(store.acceptInbound([good, bad])).rejects.toThrow();
        expect((await store.searchMessages({})).items).toHaveLength(0);
        await expect(store.acceptInbound([msg({ sourceKind: 'pigeon' as never })])).rejects.toBeInstanceOf(StoreInputError);
        await expect(store.acceptInbound([msg({ dedupeKey: '' })])).rejects.toBeInstanceOf(StoreInputError);
      });

      it('stores rejected input with its reason, and reports it on a duplicate', async () => {
        const [r] = await store.acceptInbound([
          msg({ controlId: 'R1', status: 'rejected', statusReason: 'MSH-9 missing', messageType: null }),
        ]);
        expect(r.status).toBe('rejected');
        const m = await store.getMessage(r.id);
        expect(m).toMatchObject({ status: 'rejected', statusReason: 'MSH-9 missing', messageType: null });
        const [dup] = await store.acceptInbound([msg({ controlId: 'R1' })]);
        expect(dup).toMatchObject({ id: r.id, duplicate: true, status: 'rejected' });
        const { items } = await drainUnfinished(store, 10);
        expect(items).toHaveLength(0);
        expect((await store.stats()).messagesByStatus.rejected).toBe(1);
      });

      it('accepts a Uint8Array and computes the content hash when absent', async () => {
        const bytes = new Uint8Array([0x4d, 0x53, 0x48, 0x00, 0xff]);
        const [r] = await store.acceptInbound([msg({ controlId: 'U8', raw: bytes })]);
        const m = await store.getMessage(r.id);
        expect([...m!.raw]).toEqual([...bytes]);
        expect(m!.contentHash).toBe(createHash('sha256').update(bytes).digest('hex'));
        const [r2] = await store.acceptInbound([msg({ controlId: 'U9', contentHash: 'given' })]);
        expect((await store.getMessage(r2.id))!.contentHash).toBe('given');
      });
    });

    describe('completeProcessing', () => {
      it('stores FHIR, identifiers and deliveries, and sets the status, in one step', async () => {
        const [r] = await store.acceptInbound([msg({ identifiers: [{ system: 'urn:mrn', value: 'M1' }] })]);
        const bundle = { resourceType: 'Bundle', type: 'message', entry: [] };
        const done = await store.completeProcessing(r.id, {
          status: 'processed',
          fhir: bundle,
          identifiers: [
            { system: 'urn:mrn', value: 'M1' },
            { system: 'urn:medicaid', value: 'MA-9' },
          ],
          deliveries: [
            { destination: 'cp-fhir', patientKey: 'pat-1', payload: { resourceType: 'Bundle' }, routeId: 'adt-to-cp', partnerId: 'cp-a' },
            { destination: 'cp-bh', patientKey: 'pat-1', status: 'withheld', withheldReason: 'no consent' },
            { destination: 'webhook', patientKey: 'pat-1', payload: '{"raw":true}' },
          ],
        });
        expect(done.applied).toBe(true);
        expect(done.status).toBe('processed');
        expect(done.deliveries.map((d) => d.destination)).toEqual(['cp-fhir', 'cp-bh', 'webhook']);
        expect(done.deliveries.map((d) => d.status)).toEqual(['pending', 'withheld', 'pending']);
        const seqs = done.deliveries.map((d) => d.seq);
        expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
        expect(new Set(seqs).size).toBe(3);
        expect(done.deliveries[0]).toMatchObject({ attempts: 0, messageId: r.id, patientKey: 'pat-1', lastError: null });
        expect(JSON.parse(done.deliveries[0].payload!)).toEqual({ resourceType: 'Bundle' });
        expect(done.deliveries[1].withheldReason).toBe('no consent');
        expect(done.deliveries[2].payload).toBe('{"raw":true}');
        // Why each delivery exists: its route and partner (null when not given).
        expect(done.deliveries[0]).toMatchObject({ routeId: 'adt-to-cp', partnerId: 'cp-a' });
        expect(done.deliveries[1]).toMatchObject({ routeId: null, partnerId: null });

        const m = await store.getMessage(r.id);
        expect(m!.status).toBe('processed');
        expect(JSON.parse(m!.fhir!)).toEqual(bundle);
        expect(m!.identifiers).toEqual([
          { system: 'urn:medicaid', value: 'MA-9' },
          { system: 'urn:mrn', value: 'M1' },
        ]);
        expect(m!.deliveries).toHaveLength(3);
        expect(await store.getDelivery(done.deliveries[0].id)).toMatchObject({
          id: done.deliveries[0].id,
          status: 'pending',
          routeId: 'adt-to-cp',
          partnerId: 'cp-a',
        });
      });

      it('applies once: a second completion (another worker) writes nothing', async () => {
        const [r] = await store.acceptInbound([msg()]);
        const first = await store.completeProcessing(r.id, { status: 'processed', deliveries: [{ destination: 'd1' }] });
        const second = await store.completeProcessing(r.id, { status: 'failed', deliveries: [{ destination: 'd1' }] });
        expect(first.applied).toBe(true);
        expect(second).toEqual({ applied: false, status: 'processed', deliveries: [] });
        expect((await store.getMessage(r.id))!.deliveries).toHaveLength(1);
      });

      it('rejects invalid output without touching the message', async () => {
        const [r] = await store.acceptInbound([msg()]);
        await expect(
          store.completeProcessing(r.id, {
            status: 'processed',
            fhir: { resourceType: 'Bundle' },
            deliveries: [{ destination: 'ok' }, { destination: 'bad', status: 'dead' as never }],
          }),
        ).rejects.toBeInstanceOf(StoreInputError);
        const m = await store.getMessage(r.id);
        expect(m).toMatchObject({ status: 'received', fhir: null, deliveries: [] });
      });

      it('records a processing failure with its reason', async () => {
        const [r] = await store.acceptInbound([msg()]);
        const done = await store.completeProcessing(r.id, { status: 'failed', statusReason: 'unsupported event A99' });
        expect(done).toMatchObject({ applied: true, status: 'failed', deliveries: [] });
        expect(await store.getMessage(r.id)).toMatchObject({ status: 'failed', statusReason: 'unsupported event A99' });
      });

      it('throws NotFoundError for an unknown message', async () => {
        await expect(store.completeProcessing('nope', { status: 'processed' })).rejects.toBeInstanceOf(NotFoundError);
      });
    });

    describe('delivery lifecycle', () => {
      it('records attempts and transitions pending -> retrying -> delivered', async () => {
        const { messageId, deliveries } = await processedWith(store, [{ destination: 'hook' }]);
        const id = deliveries[0].id;
        await store.recordAttempt(id, {
          startedAt: at(1),
          durationMs: 120.4,
          outcome: 'retryable-error',
          httpStatus: 503,
          error: 'HTTP 503',
        });
        expect(await store.markRetrying(id, at(2), 'HTTP 503')).toBe(true);
        let d = await store.getDelivery(id);
        expect(d).toMatchObject({ status: 'failed-retrying', attempts: 1, lastError: 'HTTP 503' });
        expect(d!.nextAttemptAt!.getTime()).toBe(at(2).getTime());

        await store.recordAttempt(id, { startedAt: at(2), durationMs: 40, outcome: 'success', httpStatus: 200 });
        expect(await store.markDelivered(id, at(3))).toBe(true);
        d = await store.getDelivery(id);
        expect(d).toMatchObject({ status: 'delivered', attempts: 2, nextAttemptAt: null });
        expect(d!.deliveredAt!.getTime()).toBe(at(3).getTime());
        // Terminal: no further transitions.
        expect(await store.markDelivered(id)).toBe(false);
        expect(await store.markRetrying(id, at(4), 'late')).toBe(false);
        expect(await store.markDead(id, 'late')).toBe(false);

        const m = await store.getMessage(messageId);
        expect(m!.deliveries[0].attemptLog.map((a) => [a.outcome, a.httpStatus, a.durationMs])).toEqual([
          ['retryable-error', 503, 120],
          ['success', 200, 40],
        ]);
        expect(m!.deliveries[0].attemptLog[0]).toMatchObject({ deliveryId: id, error: 'HTTP 503', ackCode: null });
      });

      it('records MLLP ack codes', async () => {
        const { deliveries } = await processedWith(store, [{ destination: 'mllp-out' }]);
        await store.recordAttempt(deliveries[0].id, {
          startedAt: at(1),
          durationMs: 5,
          outcome: 'fatal-error',
          ackCode: 'AR',
          error: 'AR',
        });
        const m = await store.getMessage(deliveries[0].messageId);
        expect(m!.deliveries[0].attemptLog[0]).toMatchObject({ ackCode: 'AR', httpStatus: null, outcome: 'fatal-error' });
      });

      it('throws NotFoundError for unknown deliveries', async () => {
        await expect(store.recordAttempt('nope', { startedAt: at(0), durationMs: 1, outcome: 'success' })).rejects.toBeInstanceOf(
          NotFoundError,
        );
        await expect(store.markDelivered('nope')).rejects.toBeInstanceOf(NotFoundError);
        await expect(store.markRetrying('nope', at(1), 'x')).rejects.toBeInstanceOf(NotFoundError);
        await expect(store.markDead('nope', 'x')).rejects.toBeInstanceOf(NotFoundError);
        await expect(store.requeueDead('nope')).rejects.toBeInstanceOf(NotFoundError);
        expect(await store.getDelivery('nope')).toBeNull();
      });

      it('dead letters are requeued one by one or per destination, with an audit trail', async () => {
        const a = await processedWith(store, [{ destination: 'A' }, { destination: 'B' }]);
        const b = await processedWith(store, [{ destination: 'A' }]);
        const [a1, b1] = a.deliveries;
        const [a2] = b.deliveries;
        for (const d of [a1, b1, a2]) expect(await store.markDead(d.id, 'max attempts')).toBe(true);
        expect((await store.stats()).deadByDestination).toEqual({ A: 2, B: 1 });

        expect(await store.requeueDead(b1.id, { actor: 'key-ops' })).toEqual([b1.id]);
        expect(await store.requeueDead(b1.id)).toEqual([]); // no longer dead
        expect((await store.getDelivery(b1.id))!.status).toBe('pending');

        const ids = await store.requeueDead({ destination: 'A' }, { actor: 'key-ops' });
        expect(new Set(ids)).toEqual(new Set([a1.id, a2.id]));
        expect(await store.requeueDead({ destination: 'A' })).toEqual([]);
        const after = await store.getDelivery(a1.id);
        expect(after).toMatchObject({ status: 'pending', lastError: 'max attempts', nextAttemptAt: null });
        expect((await store.stats()).deadByDestination).toEqual({});

        const audit = await store.listAudit({ subjectType: 'destination', subjectId: 'A' });
        expect(audit.items).toHaveLength(1);
        expect(audit.items[0]).toMatchObject({ actor: 'key-ops', action: 'delivery.requeue', detail: { count: 2 } });
        expect((await store.listAudit({ subjectType: 'delivery', subjectId: b1.id })).items).toHaveLength(1);
      });

      it('cancels a delivery, but never a delivered one', async () => {
        const { deliveries } = await processedWith(store, [{ destination: 'A' }, { destination: 'B' }]);
        expect(await store.markCancelled(deliveries[0].id, 'destination removed', { actor: 'admin' })).toBe(true);
        expect((await store.getDelivery(deliveries[0].id))!.status).toBe('cancelled');
        await store.markDelivered(deliveries[1].id);
        expect(await store.markCancelled(deliveries[1].id, 'too late')).toBe(false);
        expect((await store.listAudit({ subjectId: deliveries[0].id })).items[0].action).toBe('delivery.cancel');
      });
    });

    describe('per-patient ordering', () => {
      it('reports an earlier pending or retrying delivery for the same destination and patient', async () => {
        const first = (await processedWith(store, [{ destination: 'A', patientKey: 'p1' }])).deliveries[0];
        const second = (
          await processedWith(store, [
            { destination: 'A', patientKey: 'p1' },
            { destination: 'B', patientKey: 'p1' },
          ])
        ).deliveries;
        const third = (await processedWith(store, [{ destination: 'A', patientKey: 'p2' }])).deliveries[0];
        expect(second[0].seq).toBeGreaterThan(first.seq);

        expect(await store.hasEarlierUndelivered('A', 'p1', second[0].seq)).toBe(true);
        expect(await store.hasEarlierUndelivered('A', 'p1', first.seq)).toBe(false);
        expect(await store.hasEarlierUndelivered('B', 'p1', second[1].seq)).toBe(false);
        expect(await store.hasEarlierUndelivered('A', 'p2', third.seq)).toBe(false);

        await store.markRetrying(first.id, at(5), 'timeout');
        expect(await store.hasEarlierUndelivered('A', 'p1', second[0].seq)).toBe(true);
        await store.markDelivered(first.id);
        expect(await store.hasEarlierUndelivered('A', 'p1', second[0].seq)).toBe(false);
      });

      it('does not let a dead or withheld earlier delivery block later ones', async () => {
        const first = (await processedWith(store, [{ destination: 'A', patientKey: 'p1' }])).deliveries[0];
        const held = (await processedWith(store, [{ destination: 'A', patientKey: 'p1', status: 'withheld' }])).deliveries[0];
        const later = (await processedWith(store, [{ destination: 'A', patientKey: 'p1' }])).deliveries[0];
        expect(held.seq).toBeLessThan(later.seq);
        await store.markDead(first.id, 'gave up');
        expect(await store.hasEarlierUndelivered('A', 'p1', later.seq)).toBe(false);
      });
    });

    describe('listUnfinished', () => {
      it('pages through received messages, then pending and retrying deliveries', async () => {
        const received = await store.acceptInbound(Array.from({ length: 7 }, () => msg()));
        const p1 = await processedWith(store, [{ destination: 'A' }, { destination: 'B' }, { destination: 'C', status: 'withheld' }]);
        const p2 = await processedWith(store, [{ destination: 'A' }, { destination: 'B' }, { destination: 'C' }]);
        await store.markDelivered(p1.deliveries[0].id);
        await store.markRetrying(p2.deliveries[0].id, at(9), 'HTTP 500');
        await store.markDead(p2.deliveries[2].id, 'fatal');
        await store.acceptInbound([msg({ status: 'rejected', statusReason: 'bad' })]);

        const expectedDeliveries = [p1.deliveries[1], p2.deliveries[0], p2.deliveries[1]].map((d) => d.id);
        for (const size of [1, 3, 7, 100]) {
          const { items } = await drainUnfinished(store, size);
          const messages = items.filter((i) => i.kind === 'message').map((i) => i.id);
          const deliveries = items.filter((i) => i.kind === 'delivery');
          expect(messages).toEqual(received.map((r) => r.id).sort());
          expect(deliveries.map((d) => d.id)).toEqual(expectedDeliveries);
          // Messages come first, so a restart re-processes before it re-delivers.
          expect(items.findIndex((i) => i.kind === 'delivery')).toBe(7);
        }
        const { items } = await drainUnfinished(store, 100);
        const retrying = items.find((i) => i.id === p2.deliveries[0].id);
        expect(retrying).toMatchObject({ kind: 'delivery', status: 'failed-retrying', destination: 'A', messageId: p2.messageId });
        if (retrying?.kind === 'delivery') expect(retrying.nextAttemptAt!.getTime()).toBe(at(9).getTime());
        // The periodic sweep leaves recently written deliveries alone: it needs their last write, not their payload.
        for (const d of items) {
          if (d.kind !== 'delivery') continue;
          expect(d.updatedAt).toBeInstanceOf(Date);
          expect(Math.abs(d.updatedAt.getTime() - Date.now())).toBeLessThan(60_000);
          expect(d).not.toHaveProperty('payload');
        }
      });

      it('returns an empty last page and rejects a malformed cursor', async () => {
        expect(await store.listUnfinished(10)).toEqual({ items: [], next: null });
        await expect(store.listUnfinished(10, 'not-a-cursor')).rejects.toBeInstanceOf(StoreInputError);
        await expect(store.listUnfinished(0)).rejects.toBeInstanceOf(StoreInputError);
      });
    });

    describe('searchMessages', () => {
      let ids: Record<string, string>;
      beforeEach(async () => {
        const inputs: Array<[string, Partial<InboundInput>]> = [
          [
            'a',
            {
              controlId: 'S1',
              partnerId: 'aco-1',
              sender: 'EPIC^GENHOSP',
              triggerEvent: 'A01',
              receivedAt: at(1),
              identifiers: [{ system: 'urn:mrn:gen', value: '111' }],
            },
          ],
          [
            'b',
            {
              controlId: 'S2',
              partnerId: 'aco-1',
              sender: 'EPIC^GENHOSP',
              triggerEvent: 'A03',
              receivedAt: at(2),
              identifiers: [{ system: 'urn:mrn:gen', value: '222' }],
            },
          ],
          [
            'c',
            {
              controlId: 'S3',
              partnerId: 'aco-2',
              sender: 'CERNER^MERCY',
              triggerEvent: 'A01',
              receivedAt: at(3),
              identifiers: [{ system: 'urn:mrn:mercy', value: '111' }],
            },
          ],
          [
            'd',
            { controlId: 'S1', partnerId: 'aco-2', sender: 'CERNER^MERCY', triggerEvent: 'A08', receivedAt: at(4), messageType: 'ADT' },
          ],
          [
            'e',
            {
              controlId: 'S5',
              partnerId: null,
              sender: 'X^Y',
              triggerEvent: 'A01',
              messageType: 'ORU',
              receivedAt: at(5),
              status: 'rejected',
              statusReason: 'bad',
            },
          ],
        ];
        ids = {};
        for (const [k, over] of inputs) {
          const [r] = await store.acceptInbound([msg({ ...over, dedupeKey: `key-${k}` })]);
          ids[k] = r.id;
        }
        await store.completeProcessing(ids.b, { status: 'processed', identifiers: [{ system: 'urn:medicaid', value: 'MA1' }] });
      });

      const find = async (q: Parameters<MessageStore['searchMessages']>[0]): Promise<string[]> => {
        const page = await store.searchMessages(q);
        const byId = Object.fromEntries(Object.entries(ids).map(([k, v]) => [v, k]));
        return page.items.map((m) => byId[m.id]);
      };

      it('returns everything newest first without filters', async () => {
        expect(await find({})).toEqual(['e', 'd', 'c', 'b', 'a']);
      });

      it('filters by control id, sender, event, type, status and partner', async () => {
        expect(await find({ controlId: 'S1' })).toEqual(['d', 'a']);
        expect(await find({ sender: 'CERNER^MERCY' })).toEqual(['d', 'c']);
        expect(await find({ event: 'A01' })).toEqual(['e', 'c', 'a']);
        expect(await find({ event: 'ADT^A01' })).toEqual(['c', 'a']);
        expect(await find({ messageType: 'ORU' })).toEqual(['e']);
        expect(await find({ status: 'processed' })).toEqual(['b']);
        expect(await find({ status: 'rejected' })).toEqual(['e']);
        expect(await find({ partner: 'aco-2' })).toEqual(['d', 'c']);
        expect(await find({ partner: 'aco-2', event: 'A01' })).toEqual(['c']);
      });

      it('filters by patient identifier, with or without a system', async () => {
        expect(await find({ identifier: { value: '111' } })).toEqual(['c', 'a']);
        expect(await find({ identifier: { system: 'urn:mrn:gen', value: '111' } })).toEqual(['a']);
        expect(await find({ identifier: { value: 'MA1' } })).toEqual(['b']);
        expect(await find({ identifier: { value: 'nobody' } })).toEqual([]);
      });

      it('filters by time range: from inclusive, to exclusive', async () => {
        expect(await find({ from: at(2), to: at(4) })).toEqual(['c', 'b']);
        expect(await find({ from: at(5) })).toEqual(['e']);
        expect(await find({ to: at(1) })).toEqual([]);
      });

      it('scopes to the partners an API key may see', async () => {
        expect(await find({ partners: ['aco-1'] })).toEqual(['b', 'a']);
        expect(await find({ partners: ['aco-1', 'aco-2'] })).toEqual(['d', 'c', 'b', 'a']);
        expect(await find({ partners: [] })).toEqual([]);
        expect(await find({ partners: ['aco-1'], partner: 'aco-2' })).toEqual([]);
        expect(await find({ partners: ['aco-1'], controlId: 'S1' })).toEqual(['a']);
      });

      it('pages with a cursor, without gaps or repeats, also within one timestamp', async () => {
        // Same received_at for several messages: the id breaks the tie.
        await store.acceptInbound([msg({ receivedAt: at(3), dedupeKey: 'tie-1' }), msg({ receivedAt: at(3), dedupeKey: 'tie-2' })]);
        const seen: string[] = [];
        let cursor: string | null = null;
        do {
          const page: Awaited<ReturnType<MessageStore['searchMessages']>> = await store.searchMessages({ limit: 2, cursor });
          expect(page.items.length).toBeLessThanOrEqual(2);
          seen.push(...page.items.map((m) => m.id));
          cursor = page.next;
        } while (cursor);
        const all = (await store.searchMessages({ limit: 100 })).items.map((m) => m.id);
        expect(seen).toEqual(all);
        expect(new Set(seen).size).toBe(7);
        await expect(store.searchMessages({ cursor: 'garbage' })).rejects.toBeInstanceOf(StoreInputError);
      });

      it('returns summaries without raw bytes or FHIR', async () => {
        const { items } = await store.searchMessages({ controlId: 'S2' });
        expect(items[0]).not.toHaveProperty('raw');
        expect(items[0]).not.toHaveProperty('fhir');
        expect(items[0]).toMatchObject({ status: 'processed', partnerId: 'aco-1' });
      });
    });

    describe('lineage and replay', () => {
      it('shows receipts, deliveries with attempts, and replays', async () => {
        const { messageId, deliveries } = await processedWith(store, [{ destination: 'A' }, { destination: 'B' }], { controlId: 'L1' });
        await store.acceptInbound([msg({ controlId: 'L1' })]);
        await store.recordAttempt(deliveries[0].id, { startedAt: at(1), durationMs: 3, outcome: 'success', httpStatus: 201 });
        await store.markDelivered(deliveries[0].id);
        const replay = await store.createReplay(messageId, { actor: 'key-1' });

        const m = await store.getMessage(messageId);
        expect(m!.receipts.map((r) => r.duplicate)).toEqual([false, true]);
        expect(m!.deliveries.map((d) => [d.destination, d.status, d.attemptLog.length])).toEqual([
          ['A', 'delivered', 1],
          ['B', 'pending', 0],
        ]);
        expect(m!.replays.map((r) => r.id)).toEqual([replay.id]);
        expect(await store.getMessage('missing')).toBeNull();
      });

      it('creates a replay: same bytes, new dedupe key, linked, unfinished, audited', async () => {
        const { messageId } = await processedWith(store, [{ destination: 'A' }], {
          controlId: 'RP1',
          identifiers: [{ system: 'urn:mrn', value: 'R-1' }],
        });
        const original = await store.getMessage(messageId);
        const replay = await store.createReplay(messageId, { actor: 'key-1' });
        expect(replay.replayOf).toBe(messageId);
        const r = await store.getMessage(replay.id);
        expect(r).toMatchObject({
          status: 'received',
          replayOf: messageId,
          sourceKind: 'replay',
          controlId: 'RP1',
          partnerId: original!.partnerId,
          contentHash: original!.contentHash,
          fhir: null,
          deliveries: [],
        });
        expect(r!.dedupeKey).not.toBe(original!.dedupeKey);
        expect(Buffer.compare(r!.raw, original!.raw)).toBe(0);
        expect(r!.identifiers).toEqual([{ system: 'urn:mrn', value: 'R-1' }]);
        const unfinished = (await store.listUnfinished(10)).items.filter((i) => i.kind === 'message');
        expect(unfinished.map((i) => i.id)).toEqual([replay.id]);
        // A second replay is another new message.
        const again = await store.createReplay(messageId);
        expect(again.id).not.toBe(replay.id);
        const audit = await store.listAudit({ subjectType: 'message', subjectId: messageId });
        expect(audit.items.map((a) => [a.action, a.actor])).toEqual([['message.replay', 'key-1']]);
        expect(audit.items[0].detail).toEqual({ replayId: replay.id });
        await expect(store.createReplay('missing')).rejects.toBeInstanceOf(NotFoundError);
      });
    });

    describe('listDeliveries', () => {
      it('filters by destination, status and message, ordered by seq, paged', async () => {
        const x = await processedWith(store, [{ destination: 'A' }, { destination: 'B' }]);
        const y = await processedWith(store, [{ destination: 'A' }, { destination: 'B', status: 'withheld' }]);
        await store.markDead(x.deliveries[0].id, 'dead');
        const ids = (q: Parameters<MessageStore['listDeliveries']>[0]) => store.listDeliveries(q).then((p) => p.items.map((d) => d.id));
        expect(await ids({ destination: 'A' })).toEqual([x.deliveries[0].id, y.deliveries[0].id]);
        expect(await ids({ status: 'dead' })).toEqual([x.deliveries[0].id]);
        expect(await ids({ destination: 'B', status: 'withheld' })).toEqual([y.deliveries[1].id]);
        expect(await ids({ messageId: y.messageId })).toEqual(y.deliveries.map((d) => d.id));

        const page1 = await store.listDeliveries({ limit: 3 });
        expect(page1.items).toHaveLength(3);
        const page2 = await store.listDeliveries({ limit: 3, cursor: page1.next });
        expect(page2.items).toHaveLength(1);
        expect(page2.next).toBeNull();
      });

      it('lists newest first when asked, paged the same way', async () => {
        const x = await processedWith(store, [{ destination: 'A' }]);
        const y = await processedWith(store, [{ destination: 'A' }]);
        const z = await processedWith(store, [{ destination: 'A' }, { destination: 'B' }]);
        const page1 = await store.listDeliveries({ destination: 'A', newestFirst: true, limit: 2 });
        expect(page1.items.map((d) => d.id)).toEqual([z.deliveries[0].id, y.deliveries[0].id]);
        const page2 = await store.listDeliveries({ destination: 'A', newestFirst: true, limit: 2, cursor: page1.next });
        expect(page2.items.map((d) => d.id)).toEqual([x.deliveries[0].id]);
        expect(page2.next).toBeNull();
      });
    });

    describe('stats', () => {
      it('counts messages and deliveries by status, dead and pending per destination', async () => {
        const empty = await store.stats();
        expect(empty.messagesByStatus).toEqual({ received: 0, processed: 0, filtered: 0, rejected: 0, failed: 0 });
        expect(empty.deliveriesByStatus).toEqual({
          pending: 0,
          delivered: 0,
          'failed-retrying': 0,
          dead: 0,
          withheld: 0,
          cancelled: 0,
        });
        const a = await processedWith(store, [{ destination: 'A' }, { destination: 'B' }, { destination: 'C', status: 'withheld' }]);
        const b = await processedWith(store, [{ destination: 'A' }, { destination: 'B' }]);
        await store.acceptInbound([msg(), msg({ status: 'rejected' })]);
        await store.markDead(a.deliveries[0].id, 'x');
        await store.markRetrying(b.deliveries[0].id, at(1), 'y');
        await store.markDelivered(b.deliveries[1].id);
        const s = await store.stats();
        expect(s.messagesByStatus).toEqual({ received: 1, processed: 2, filtered: 0, rejected: 1, failed: 0 });
        expect(s.deliveriesByStatus).toMatchObject({ pending: 1, delivered: 1, 'failed-retrying': 1, dead: 1, withheld: 1 });
        expect(s.deadByDestination).toEqual({ A: 1 });
        expect(s.pendingByDestination).toEqual({ A: 1, B: 1 });
        expect(s.duplicates).toBe(0);
      });
    });

    describe('prune', () => {
      it('deletes finished old messages with their children and never unfinished work', async () => {
        const old = { receivedAt: at(-60 * 24 * 40) };
        const done = await processedWith(store, [{ destination: 'A' }, { destination: 'B', status: 'withheld' }], old);
        await store.recordAttempt(done.deliveries[0].id, { startedAt: at(0), durationMs: 1, outcome: 'success' });
        await store.markDelivered(done.deliveries[0].id);
        const deadOne = await processedWith(store, [{ destination: 'A' }], old);
        await store.markDead(deadOne.deliveries[0].id, 'gave up');
        const stillPending = await processedWith(store, [{ destination: 'A' }], old);
        const retrying = await processedWith(store, [{ destination: 'A' }], old);
        await store.markRetrying(retrying.deliveries[0].id, at(1), 'x');
        const [oldReceived] = await store.acceptInbound([msg(old)]);
        const [oldRejected] = await store.acceptInbound([msg({ ...old, status: 'rejected', statusReason: 'bad' })]);
        const [oldFailed] = await store.acceptInbound([msg(old)]);
        await store.completeProcessing(oldFailed.id, { status: 'failed', statusReason: 'mapping' });
        const recent = await processedWith(store, [{ destination: 'A' }]);
        await store.markDelivered(recent.deliveries[0].id);
        const replay = await store.createReplay(done.messageId);
        const doneKey = (await store.getMessage(done.messageId))!.dedupeKey;

        const res = await store.prune({ olderThan: at(-60 * 24 * 30) });
        expect(res.messages).toBe(3); // done, deadOne, oldRejected
        for (const gone of [done.messageId, deadOne.messageId, oldRejected.id]) {
          expect(await store.getMessage(gone)).toBeNull();
        }
        expect(await store.getDelivery(done.deliveries[0].id)).toBeNull();
        for (const kept of [stillPending.messageId, retrying.messageId, oldReceived.id, oldFailed.id, recent.messageId]) {
          expect(await store.getMessage(kept)).not.toBeNull();
        }
        // The replay outlives its pruned original; the link is cleared, not dangling.
        expect((await store.getMessage(replay.id))!.replayOf).toBeNull();
        // Dedupe keys of pruned messages are free again: retention is the dedupe window.
        const [again] = await store.acceptInbound([msg({ dedupeKey: doneKey })]);
        expect(again.duplicate).toBe(false);

        expect((await store.prune({ olderThan: at(-60 * 24 * 30), includeFailed: true })).messages).toBe(1);
        expect(await store.getMessage(oldFailed.id)).toBeNull();
        expect((await store.stats()).duplicates).toBe(0);
      });

      it('works through more rows than one chunk', async () => {
        const old = at(-60 * 24 * 400);
        const batch = Array.from({ length: 1200 }, (_, i) => msg({ controlId: `P${i}`, receivedAt: old, status: 'rejected' }));
        await store.acceptInbound(batch);
        await store.acceptInbound([msg({ receivedAt: old })]);
        expect((await store.prune({ olderThan: at(0) })).messages).toBe(1200);
        expect((await store.stats()).messagesByStatus).toMatchObject({ rejected: 0, received: 1 });
      });
    });

    describe('audit', () => {
      it('records events and lists them newest first, paged and filtered', async () => {
        for (let i = 0; i < 5; i++) {
          await store.recordAudit({
            at: at(i),
            actor: 'key-a',
            action: 'message.view',
            subjectType: 'message',
            subjectId: `m${i % 2}`,
            detail: { i },
          });
        }
        await store.recordAudit({ actor: 'system', action: 'prune', subjectType: 'store' });
        const all = await store.listAudit({ subjectType: 'message' });
        expect(all.items.map((a) => (a.detail as { i: number }).i)).toEqual([4, 3, 2, 1, 0]);
        expect((await store.listAudit({ subjectType: 'message', subjectId: 'm1' })).items).toHaveLength(2);
        const p1 = await store.listAudit({ subjectType: 'message', limit: 3 });
        const p2 = await store.listAudit({ subjectType: 'message', limit: 3, cursor: p1.next });
        expect([...p1.items, ...p2.items].map((a) => a.id)).toEqual(all.items.map((a) => a.id));
        expect(p2.next).toBeNull();
        const sys = await store.listAudit({ subjectType: 'store' });
        expect(sys.items[0]).toMatchObject({ actor: 'system', action: 'prune', subjectId: null, detail: null });
      });
    });

    describe('housekeeping', () => {
      it('pings, and closes idempotently', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
        await store.close();
        await store.close();
        await expect(store.ping()).rejects.toThrow();
        h = await open();
        store = h.store;
      });
    });

    describe('two connections (a second gateway process)', () => {
      it('sees the same data and re-applies no migration', async (ctx) => {
        if (!h.openPeer) return ctx.skip();
        const [r] = await store.acceptInbound([msg()]);
        const other = await peer();
        expect((await other.getMessage(r.id))!.id).toBe(r.id);
      });

      it('concurrent acceptInbound of the same keys yields exactly one message per key', async (ctx) => {
        if (!h.openPeer) return ctx.skip();
        const other = await peer();
        const keys = Array.from({ length: 40 }, (_, i) => `race-${i}`);
        const hot = keys.slice(0, 5);
        const batchFor = (order: string[]) => order.map((k) => msg({ dedupeKey: k, controlId: k }));
        const rounds = 5;
        // Both connections send every key each round, in opposite orders (the worst case for lock
        // ordering), plus single-message calls on the first keys from alternating connections.
        const calls = Array.from({ length: rounds }, (_, round) => [
          store.acceptInbound(batchFor(keys)),
          other.acceptInbound(batchFor([...keys].reverse())),
          ...hot.map((k) => (round % 2 ? store : other).acceptInbound(batchFor([k]))),
        ]).flat();
        const all = (await Promise.all(calls)).flat();

        const { items } = await store.searchMessages({ limit: 1000 });
        expect(items.map((m) => m.dedupeKey).sort()).toEqual([...keys].sort());
        expect(all.filter((r) => !r.duplicate)).toHaveLength(keys.length);
        const stored = new Set(items.map((m) => m.id));
        expect(all.every((r) => stored.has(r.id))).toBe(true);

        let totalDuplicates = 0;
        for (const m of items) {
          const receives = rounds * 2 + (hot.includes(m.dedupeKey) ? rounds : 0);
          expect(m.duplicateCount).toBe(receives - 1);
          expect(all.filter((r) => r.id === m.id)).toHaveLength(receives);
          totalDuplicates += m.duplicateCount;
        }
        expect((await other.stats()).duplicates).toBe(totalDuplicates);
      });

      it('concurrent completion of one message applies exactly once', async (ctx) => {
        if (!h.openPeer) return ctx.skip();
        const other = await peer();
        const received = await store.acceptInbound(Array.from({ length: 10 }, () => msg()));
        const outcomes = await Promise.all(
          received.flatMap((r) => [
            store.completeProcessing(r.id, { status: 'processed', deliveries: [{ destination: 'A', patientKey: 'p' }] }),
            other.completeProcessing(r.id, { status: 'processed', deliveries: [{ destination: 'A', patientKey: 'p' }] }),
          ]),
        );
        expect(outcomes.filter((o) => o.applied)).toHaveLength(10);
        const { items } = await store.listDeliveries({ destination: 'A', limit: 100 });
        expect(items).toHaveLength(10);
        expect(new Set(items.map((d) => d.seq)).size).toBe(10);
      });
    });
  });
}
