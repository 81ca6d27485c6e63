import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../../src/store/index.js';
import { eventually } from '../../helpers/gateway.js';
import { startGatewayProcess, writeFixedPortConfig, type GatewayProcess } from '../../helpers/gateway-process.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';
import { startWebhookStub, type WebhookStub } from '../../helpers/webhook-stub.js';
import { balanceLedger, noUnfinishedWork } from './ledger.js';
import { MllpLoad } from './mllp-load.js';

// Redis only schedules; the store is the source of truth. With Redis killed under MLLP load the
// gateway must keep committing and ACKing, and once Redis is back (with its AOF, or even empty)
// everything ACKed is delivered, once per Idempotency-Key.

const SECRET = 'redis-outage-webhook-secret-0123456789';
/** ACKs to see before the outage, during it, and after Redis is back. */
const PHASE_ACKS = 200;

interface Rig {
  redis: TestRedis;
  hook: WebhookStub;
  gw: GatewayProcess;
  load: MllpLoad;
  dataDir: string;
}

describe('Redis crash and restart under MLLP load (gateway as its own process, external Redis)', () => {
  let rig: Partial<Rig> = {};

  afterEach(async () => {
    await rig.load?.stop().catch(() => {});
    await rig.gw?.stop().catch(() => {});
    await rig.hook?.close();
    await rig.redis?.cleanup();
    if (rig.dataDir) rmSync(rig.dataDir, { recursive: true, force: true });
    rig = {};
  });

  async function runOutage(tag: string, whileDown: (redis: TestRedis) => void): Promise<void> {
    const redis = (rig.redis = await startTestRedis());
    const hook = (rig.hook = await startWebhookStub({ secret: SECRET }));
    const cfg = await writeFixedPortConfig({ webhookUrl: hook.url, webhookSecret: SECRET, redisUrl: redis.url });
    rig.dataDir = cfg.dataDir;
    const gw = (rig.gw = await startGatewayProcess({ configFile: cfg.file, dataDir: cfg.dataDir }));
    const load = (rig.load = new MllpLoad({ port: cfg.mllpPort, senders: 4, tag, patientsPerSender: 10 }));
    load.start();

    await load.waitForAcks(PHASE_ACKS);
    await redis.crash();
    const ackedAtCrash = load.acked.length;
    const deliveredAtCrash = hook.accepted.length;
    // Ingest does not depend on Redis: ACKs keep coming while it is down (bounded wait, no timing).
    await load.waitForAcks(ackedAtCrash + PHASE_ACKS, 60_000);
    const ackedDuringOutage = load.acked.length - ackedAtCrash;
    const deliveredDuringOutage = hook.accepted.length - deliveredAtCrash;
    whileDown(redis);
    await redis.restart();
    const ackedAtRestart = load.acked.length;
    await load.waitForAcks(ackedAtRestart + PHASE_ACKS);
    await load.stop();

    expect(ackedDuringOutage).toBeGreaterThanOrEqual(PHASE_ACKS);
    expect(load.gaveUp).toEqual([]);
    expect(load.refused.size).toBe(0);

    const port = gw.ports.http;
    await eventually(() => noUnfinishedWork(port), 180_000, 250);
    expect(gw.running).toBe(true);
    await gw.stop();

    const store = await openStore(`sqlite:${join(cfg.dataDir, 'carebridge.db')}`);
    try {
      const ledger = await balanceLedger(store, load.acked, hook, tag);
      const report = JSON.stringify({
        ackedDuringOutage,
        deliveredDuringOutage,
        sendFailures: load.sendFailures,
        ...ledger,
        storedNotAcked: ledger.storedNotAcked.slice(0, 20),
      });
      expect(ledger.ackedNotStored, report).toEqual([]);
      expect(ledger.storedNotAcked, report).toEqual([]);
      expect(ledger.notProcessed, report).toEqual([]);
      expect(ledger.notOneDelivery, report).toEqual([]);
      expect(ledger.notDeliveredInStore, report).toEqual([]);
      expect(ledger.ackedNotReceived, report).toEqual([]);
      expect(ledger.underSeveralKeys, report).toEqual([]);
      expect(ledger.distinctKeys, report).toBe(load.acked.length);
    } finally {
      await store.close();
    }
  }

  it('keeps ACKing while Redis is down and delivers everything once it is back (AOF replayed)', async () => {
    await runOutage('R', () => {});
  }, 400_000);

  it('recovers from the store alone when Redis comes back empty (AOF lost)', async () => {
    // A Redis that lost its data (no persistence, failover to an empty replica): queued jobs and
    // the per-patient lines are gone; the store's unfinished deliveries must be re-enqueued.
    await runOutage('E', (redis) => {
      rmSync(join(redis.dataDir, 'appendonlydir'), { recursive: true, force: true });
      rmSync(join(redis.dataDir, 'appendonly.aof'), { force: true });
    });
  }, 400_000);
});
