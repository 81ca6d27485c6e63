/**
 * Issue 11.8: after a kill -9, the deliveries the dead gateway had in flight hold their patients'
 * ordering lines until BullMQ's stalled check finds their locks gone (lock lapse + stalled check,
 * ~10-20 s with the gateway's settings). The restarted gateway reclaims them at start instead.
 *
 * Scenario: the webhook hangs on message 1 of patient P (its job is active, heading P's line);
 * message 2 of P parks behind it. kill -9; restart; message 1 is delivered again, then message 2.
 * The test reports the time from "restarted" to the redelivery (see bench/README.md) and asserts
 * what the restart did, not how fast (no timed assertions).
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Hl7Message } from '../../../src/hl7v2/index.js';
import { MllpClient } from '../../../src/mllp/client.js';
import { adtMessage, eventually } from '../../helpers/gateway.js';
import { startGatewayProcess, writeFixedPortConfig, type GatewayProcess } from '../../helpers/gateway-process.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';
import { startWebhookStub, type WebhookStub } from '../../helpers/webhook-stub.js';

const SECRET = 'reclaim-test-webhook-secret-0123456789';

describe('a crashed gateway’s in-flight deliveries (issue 11.8)', () => {
  let hook: WebhookStub | undefined;
  let gw: GatewayProcess | undefined;
  let redis: TestRedis | undefined;
  let dataDir: string | undefined;

  afterAll(async () => {
    await gw?.stop().catch(() => {});
    await hook?.close();
    await redis?.cleanup();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('are reclaimed at restart: the patient’s line moves on without waiting for the stalled check', async () => {
    redis = await startTestRedis();
    hook = await startWebhookStub({ secret: SECRET });
    const cfg = await writeFixedPortConfig({
      webhookUrl: hook.url,
      webhookSecret: SECRET,
      redisUrl: redis.url,
      extra: {
        destinations: [
          { id: 'hook', type: 'webhook', url: hook.url, secret: SECRET, timeoutMs: 120_000, backoff: { baseMs: 50, maxMs: 200 } },
        ],
      },
    });
    dataDir = cfg.dataDir;
    gw = await startGatewayProcess({
      configFile: cfg.file,
      dataDir: cfg.dataDir,
      env: { CAREBRIDGE_LOG_LEVEL: 'info' },
      startTimeoutMs: 240_000,
    });

    hook.failNext(1, { kind: 'hang' });
    const client = new MllpClient({ host: '127.0.0.1', port: cfg.mllpPort });
    const ack = async (text: string) => Hl7Message.parse(await client.send(Buffer.from(text, 'latin1'))).get('MSA-1');
    expect(await ack(adtMessage('RECLAIM-1', { mrn: 'MRN-P' }))).toBe('AA');
    await eventually(() => hook!.requests.length === 1);
    expect(await ack(adtMessage('RECLAIM-2', { mrn: 'MRN-P', event: 'A08' }))).toBe('AA');
    await client.close();

    await gw.kill('SIGKILL');
    const restartedAt = Date.now();
    await gw.restart();
    const readyAt = Date.now();
    await eventually(() => hook!.accepted.length >= 2, 90_000);
    const deliveredAt = Date.now();
    // The measurement this issue asks for (bench/README.md): restart → both delivered.
    console.log(`crash-reclaim: restart took ${readyAt - restartedAt} ms; ready → redelivered ${deliveredAt - readyAt} ms`);

    const controlIds = hook.accepted.map((d) => JSON.stringify(d.body).match(/RECLAIM-\d/)?.[0]);
    expect(controlIds).toEqual(['RECLAIM-1', 'RECLAIM-2']);
    expect(gw.stderrTail).toMatch(/reclaimed in-flight deliveries of a stopped gateway/);
  }, 600_000);
});
