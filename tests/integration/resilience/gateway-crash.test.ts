import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../../src/store/index.js';
import { eventually } from '../../helpers/gateway.js';
import { startGatewayProcess, writeFixedPortConfig, type GatewayProcess } from '../../helpers/gateway-process.js';
import { startWebhookStub, type WebhookStub } from '../../helpers/webhook-stub.js';
import { balanceLedger, noUnfinishedWork } from './ledger.js';
import { MllpLoad } from './mllp-load.js';

// The rule above all: nothing ACKed is lost, nothing reaches an idempotent endpoint as two
// different deliveries. The gateway runs as its own process and is SIGKILLed three times at
// random moments under continuous MLLP load, then restarted on the same dataDir (same SQLite
// file, same private Redis AOF). Senders resend whatever got no ACK, like interface engines do.

const SECRET = 'crash-test-webhook-secret-0123456789';
const CRASHES = 3;
const TAG = 'K';

describe('gateway kill -9 under MLLP load', () => {
  let hook: WebhookStub | undefined;
  let gw: GatewayProcess | undefined;
  let load: MllpLoad | undefined;
  let dataDir: string | undefined;

  afterAll(async () => {
    await load?.stop().catch(() => {});
    await gw?.stop().catch(() => {});
    await hook?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers every ACKed message under exactly one Idempotency-Key and never ACKs what it did not store', async () => {
    const seed = Date.now() >>> 0;
    const random = mulberry32(seed);
    const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
    const context = `seed ${seed}`;

    hook = await startWebhookStub({ secret: SECRET });
    const cfg = await writeFixedPortConfig({ webhookUrl: hook.url, webhookSecret: SECRET });
    dataDir = cfg.dataDir;
    gw = await startGatewayProcess({ configFile: cfg.file, dataDir: cfg.dataDir });
    load = new MllpLoad({ port: cfg.mllpPort, senders: 4, tag: TAG, patientsPerSender: 10 });
    load.start();

    const kills: { afterAcks: number; pid: number }[] = [];
    for (let i = 0; i < CRASHES; i++) {
      // A random number of ACKs into this run, plus a random sub-second offset: the kill lands
      // anywhere in receive → commit → ACK → route → enqueue → deliver → record.
      await load.waitForAcks(load.acked.length + between(50, 400));
      await sleep(between(0, 150));
      kills.push({ afterAcks: load.acked.length, pid: gw.pid });
      const exit = await gw.kill('SIGKILL');
      expect(exit.signal, context).toBe('SIGKILL');
      await gw.restart();
    }
    await load.waitForAcks(load.acked.length + 100);
    await load.stop();

    expect(load.gaveUp, context).toEqual([]);
    expect(load.refused.size, context).toBe(0);
    expect(load.sendFailures, `${context}: the crashes must have cut some sends`).toBeGreaterThan(0);

    // Everything stored gets finished by the restarted gateway: recovery sweep + stalled jobs.
    const port = gw.ports.http;
    await eventually(() => noUnfinishedWork(port), 240_000, 250);
    await gw.stop();

    const store = await openStore(`sqlite:${join(cfg.dataDir, 'carebridge.db')}`);
    try {
      const ledger = await balanceLedger(store, load.acked, hook, TAG);
      const report = `${context}, kills ${JSON.stringify(kills)}, ledger ${JSON.stringify({ ...ledger, storedNotAcked: ledger.storedNotAcked.slice(0, 20) })}`;
      expect(ledger.acked, report).toBe(load.acked.length); // control ids are unique per message
      expect(ledger.ackedNotStored, report).toEqual([]);
      expect(ledger.storedNotAcked, report).toEqual([]); // senders resent until ACKed
      expect(ledger.notProcessed, report).toEqual([]);
      expect(ledger.notOneDelivery, report).toEqual([]);
      expect(ledger.notDeliveredInStore, report).toEqual([]);
      expect(ledger.ackedNotReceived, report).toEqual([]);
      expect(ledger.underSeveralKeys, report).toEqual([]);
      expect(ledger.distinctKeys, report).toBe(ledger.acked);
      expect(hook.rejectedSignatures, report).toEqual([]);
    } finally {
      await store.close();
    }
  }, 600_000);
});

/** Small seeded PRNG so a failing run can be described by its seed. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
