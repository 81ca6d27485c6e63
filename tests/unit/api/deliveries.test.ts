import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { auth, harness, type Harness, KEYS, killDelivery, seedMessage } from './fixtures.js';

describe('deliveries', () => {
  let h: Harness;
  // An ACO message delivered to the ACO's and the CP's destinations, and a CP message to the shared one.
  let acoMsg: { id: string; deliveryIds: string[] };
  let cpMsg: { id: string; deliveryIds: string[] };

  beforeAll(async () => {
    h = await harness();
  });
  afterAll(() => h.close());

  beforeEach(async () => {
    acoMsg = await seedMessage(h.store, { controlId: `A-${Math.random()}`, partnerId: 'acme-aco' }, [
      { destination: 'aco-hook' },
      { destination: 'cp-hook' },
    ]);
    cpMsg = await seedMessage(h.store, { controlId: `C-${Math.random()}`, partnerId: 'bay-cp' }, [{ destination: 'shared-hook' }]);
    h.ingest.calls = [];
  });

  const list = async (key: string, query: string) => {
    const res = await h.app.inject({ method: 'GET', url: `/api/deliveries${query}`, headers: auth(key) });
    return { status: res.statusCode, ids: res.statusCode === 200 ? (res.json().items as Array<{ id: string }>).map((d) => d.id) : [] };
  };

  describe('GET /api/deliveries', () => {
    it('filters by message, destination and status', async () => {
      expect((await list(KEYS.admin, `?messageId=${acoMsg.id}`)).ids).toEqual(acoMsg.deliveryIds);
      await killDelivery(h.store, acoMsg.deliveryIds[1]);
      expect((await list(KEYS.admin, `?messageId=${acoMsg.id}&status=dead`)).ids).toEqual([acoMsg.deliveryIds[1]]);
      const res = await h.app.inject({
        method: 'GET',
        url: `/api/deliveries?messageId=${acoMsg.id}&destination=cp-hook`,
        headers: auth(KEYS.admin),
      });
      expect(res.json().items).toEqual([
        expect.objectContaining({
          id: acoMsg.deliveryIds[1],
          messageId: acoMsg.id,
          destination: 'cp-hook',
          status: 'dead',
          attempts: 1,
          lastError: 'gone',
        }),
      ]);
      expect(res.json().items[0]).not.toHaveProperty('payload');
    });

    it('pages in creation order', async () => {
      const first = await h.app.inject({ method: 'GET', url: '/api/deliveries?limit=2', headers: auth(KEYS.admin) });
      const body = first.json();
      expect(body.items).toHaveLength(2);
      expect(body.next).toEqual(expect.any(String));
      const second = await h.app.inject({ method: 'GET', url: `/api/deliveries?limit=2&cursor=${body.next}`, headers: auth(KEYS.admin) });
      expect(second.json().items[0].seq).toBeGreaterThan(body.items[1].seq);
    });

    it('lets a partner key see the deliveries of its own messages and to its own destinations', async () => {
      expect((await list(KEYS.aco, `?messageId=${acoMsg.id}`)).ids).toEqual(acoMsg.deliveryIds);
      expect((await list(KEYS.cp, '?destination=cp-hook')).ids).toContain(acoMsg.deliveryIds[1]);
    });

    it("gives a partner key an empty page for others' messages and destinations", async () => {
      expect(await list(KEYS.aco, `?messageId=${cpMsg.id}`)).toEqual({ status: 200, ids: [] });
      expect(await list(KEYS.aco, '?destination=cp-hook')).toEqual({ status: 200, ids: [] });
      expect(await list(KEYS.aco, '?destination=shared-hook')).toEqual({ status: 200, ids: [] });
    });

    it('requires a partner key to filter by destination or message', async () => {
      expect((await list(KEYS.aco, '')).status).toBe(403);
      expect((await list(KEYS.aco, '?status=dead')).status).toBe(403);
    });
  });

  describe('POST /api/deliveries/:id/requeue', () => {
    const requeue = (key: string, id: string) => h.app.inject({ method: 'POST', url: `/api/deliveries/${id}/requeue`, headers: auth(key) });

    it('requeues a dead letter through the port and audits it with the key id', async () => {
      const id = acoMsg.deliveryIds[0];
      await killDelivery(h.store, id);
      const res = await requeue(KEYS.aco, id);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ requeued: [id] });
      expect(h.ingest.calls).toEqual([{ method: 'requeueDead', args: [{ deliveryId: id }, 'aco-key'] }]);
      expect((await h.store.getDelivery(id))?.status).toBe('pending');
      const audit = await h.store.listAudit({ subjectType: 'delivery', subjectId: id });
      expect(audit.items).toEqual([
        expect.objectContaining({
          actor: 'aco-key',
          action: 'api.delivery.requeue',
          detail: expect.objectContaining({ destination: 'aco-hook' }),
        }),
      ]);
    });

    it("refuses with 403 when the key sees the delivery (its message) but not the destination's partner", async () => {
      const id = acoMsg.deliveryIds[1]; // to cp-hook
      await killDelivery(h.store, id);
      expect((await requeue(KEYS.aco, id)).statusCode).toBe(403);
      expect((await requeue(KEYS.cp, id)).statusCode).toBe(200);
    });

    it('answers 404 when the key sees neither the message nor the destination', async () => {
      const id = cpMsg.deliveryIds[0]; // CP message to the shared destination
      await killDelivery(h.store, id);
      expect((await requeue(KEYS.aco, id)).statusCode).toBe(404);
      // A destination without a partner belongs to admins.
      expect((await requeue(KEYS.cp, id)).statusCode).toBe(403);
      expect((await requeue(KEYS.admin, id)).statusCode).toBe(200);
      expect(h.ingest.calls.map((c) => c.args[1])).toEqual(['admin']);
    });

    it('answers 409 for a delivery that is not dead, 404 for an unknown one', async () => {
      const res = await requeue(KEYS.admin, acoMsg.deliveryIds[0]);
      expect(res.statusCode).toBe(409);
      expect(res.json().issue[0]).toMatchObject({ code: 'conflict', diagnostics: 'delivery is pending, not dead' });
      expect((await requeue(KEYS.admin, 'nope')).statusCode).toBe(404);
      expect(h.ingest.calls).toEqual([]);
    });
  });

  describe('POST /api/destinations/:id/requeue-dead', () => {
    const requeueAll = (key: string, id: string) =>
      h.app.inject({ method: 'POST', url: `/api/destinations/${id}/requeue-dead`, headers: auth(key) });

    it("requeues all of a destination's dead letters for its partner's key, and audits the count", async () => {
      const other = await seedMessage(h.store, { controlId: `X-${Math.random()}`, partnerId: 'bay-cp' }, [{ destination: 'cp-hook' }]);
      await killDelivery(h.store, acoMsg.deliveryIds[1]);
      await killDelivery(h.store, other.deliveryIds[0]);
      const dead = (await h.store.listDeliveries({ destination: 'cp-hook', status: 'dead' })).items.map((d) => d.id);
      expect(dead).toEqual(expect.arrayContaining([acoMsg.deliveryIds[1], other.deliveryIds[0]]));
      const res = await requeueAll(KEYS.cp, 'cp-hook');
      expect(res.statusCode).toBe(200);
      expect([...res.json().requeued].sort()).toEqual(dead.sort());
      expect((await h.store.listDeliveries({ destination: 'cp-hook', status: 'dead' })).items).toEqual([]);
      expect(h.ingest.calls).toEqual([{ method: 'requeueDead', args: [{ destination: 'cp-hook' }, 'cp-key'] }]);
      const audit = await h.store.listAudit({ subjectType: 'destination', subjectId: 'cp-hook' });
      expect(audit.items[0]).toMatchObject({
        actor: 'cp-key',
        action: 'api.destination.requeue-dead',
        detail: expect.objectContaining({ count: dead.length }),
      });
    });

    it("refuses another partner's destination (403) and an unknown one (404)", async () => {
      expect((await requeueAll(KEYS.aco, 'cp-hook')).statusCode).toBe(403);
      expect((await requeueAll(KEYS.both, 'shared-hook')).statusCode).toBe(403);
      expect((await requeueAll(KEYS.admin, 'no-such-destination')).statusCode).toBe(404);
      expect(h.ingest.calls).toEqual([]);
    });

    it('works for admin keys on any destination', async () => {
      const res = await requeueAll(KEYS.admin, 'shared-hook');
      expect(res.statusCode).toBe(200);
      expect(h.ingest.calls[0].args[1]).toBe('admin');
    });
  });
});
