/**
 * Two gateway processes' worth of state on one Postgres and one Redis: the deployment DESIGN.md
 * describes for scale-out. Two gateways run side by side (same store, same Redis), senders spread
 * over both; every ACKed message is delivered, each under exactly one Idempotency-Key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hl7Message } from '../../../src/hl7v2/index.js';
import { MllpClient } from '../../../src/mllp/client.js';
import { adtMessage, eventually, startTestGateway } from '../../helpers/gateway.js';
import { findPostgresBin, startPostgres, type PostgresServer } from '../../helpers/postgres.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';
import { startWebhookStub, type WebhookStub } from '../../helpers/webhook-stub.js';

const SECRET = 'pg-gateway-secret-0123456789';

describe.skipIf(!findPostgresBin())('two gateways sharing Postgres and Redis', () => {
  let pg: PostgresServer;
  let redis: TestRedis;
  let hook: WebhookStub;
  const gws: Awaited<ReturnType<typeof startTestGateway>>[] = [];

  beforeAll(async () => {
    pg = await startPostgres();
    redis = await startTestRedis();
    hook = await startWebhookStub({ secret: SECRET });
    for (let i = 0; i < 2; i++) {
      gws.push(
        await startTestGateway({ webhookUrl: hook.url, webhookSecret: SECRET, redisUrl: redis.url, extra: { store: { url: pg.url } } }),
      );
    }
  }, 120_000);
  afterAll(async () => {
    for (const g of gws) await g.stop();
    await hook?.close();
    await redis?.cleanup();
    await pg?.stop();
  });

  it('accepts on both, stores once, delivers every message exactly once per key', async () => {
    const clients = gws.map((g) => new MllpClient({ host: '127.0.0.1', port: g.gateway.ports['mllp-in'] }));
    const sent: string[] = [];
    for (let i = 0; i < 40; i++) {
      const id = `PG-${i}`;
      const ack = Hl7Message.parse(await clients[i % 2].send(Buffer.from(adtMessage(id, { mrn: `P${i % 7}` }), 'latin1')));
      expect(ack.get('MSA-1')).toBe('AA');
      sent.push(id);
    }
    // The same message sent to the other gateway is a duplicate in the shared store.
    const dup = Hl7Message.parse(await clients[1].send(Buffer.from(adtMessage('PG-0', { mrn: 'P0' }), 'latin1')));
    expect(dup.get('MSA-1')).toBe('AA');
    await eventually(() => new Set(hook.accepted.map((d) => d.idempotencyKey)).size >= sent.length, 60_000);
    const keys = hook.accepted.map((d) => d.idempotencyKey);
    expect(new Set(keys).size).toBe(sent.length);
    const page = await gws[0].gateway.store.searchMessages({ controlId: 'PG-0' });
    expect(page.items).toHaveLength(1);
    expect(page.items[0].duplicateCount).toBe(1);
    for (const c of clients) await c.close();
  });
});
