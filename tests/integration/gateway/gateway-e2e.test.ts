import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hl7Message } from '../../../src/hl7v2/index.js';
import { MllpClient } from '../../../src/mllp/client.js';
import { adtMessage, eventually, startTestGateway, TEST_ADMIN_KEY } from '../../helpers/gateway.js';
import { startWebhookStub, type WebhookStub } from '../../helpers/webhook-stub.js';

const SECRET = 'test-webhook-secret-0123456789';

describe('gateway end to end: MLLP in → store → ACK → route → webhook out (real Redis)', () => {
  let hook: WebhookStub;
  let gw: Awaited<ReturnType<typeof startTestGateway>>;
  let client: MllpClient;
  beforeAll(async () => {
    hook = await startWebhookStub({ secret: SECRET });
    gw = await startTestGateway({ webhookUrl: hook.url, webhookSecret: SECRET });
    client = new MllpClient({ host: '127.0.0.1', port: gw.gateway.ports['mllp-in'] });
  });
  afterAll(async () => {
    await client?.close();
    await gw?.stop();
    await hook?.close();
  });

  const send = async (text: string) => Hl7Message.parse(await client.send(Buffer.from(text, 'latin1')));

  it('ACKs AA after storing and delivers the FHIR Bundle, signed, exactly once', async () => {
    const ack = await send(adtMessage('E2E-1'));
    expect(ack.get('MSA-1')).toBe('AA');
    expect(ack.get('MSA-2')).toBe('E2E-1');
    await eventually(() => hook.accepted.length >= 1);
    const bundle = hook.accepted[0].body as { resourceType: string; entry: { resource: { eventCoding: { code: string } } }[] };
    expect(bundle.resourceType).toBe('Bundle');
    expect(bundle.entry[0].resource.eventCoding.code).toBe('A01');
    expect(hook.rejectedSignatures).toEqual([]);
  });

  it('acknowledges a duplicate without processing it again', async () => {
    const before = hook.accepted.length;
    const text = adtMessage('E2E-DUP');
    expect((await send(text)).get('MSA-1')).toBe('AA');
    expect((await send(text)).get('MSA-1')).toBe('AA');
    await eventually(() => hook.accepted.length >= before + 1);
    const page = await gw.gateway.store.searchMessages({ controlId: 'E2E-DUP' });
    expect(page.items).toHaveLength(1);
    expect(page.items[0].duplicateCount).toBe(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(hook.accepted.length).toBe(before + 1);
  });

  it('NACKs a malformed message with ERR and stores it as rejected', async () => {
    const bad = adtMessage('E2E-BAD').replace(/PID\|1\|\|[^|]*\|/, 'PID|1|||');
    const ack = await send(bad);
    expect(ack.get('MSA-1')).toBe('AE');
    expect(ack.get('ERR-3.1')).toBe('101');
    expect(ack.get('ERR-8')).toMatch(/PID-3/);
    const page = await gw.gateway.store.searchMessages({ controlId: 'E2E-BAD' });
    expect(page.items[0].status).toBe('rejected');
    // An event no adapter converts is not bad input: accepted and kept as filtered (issue 10).
    const unsupported = await send(adtMessage('E2E-A20', { event: 'A20' })); // bed status: no patient to convert
    expect(unsupported.get('MSA-1')).toBe('AA');
    await eventually(async () => (await gw.gateway.store.searchMessages({ controlId: 'E2E-A20' })).items[0]?.status === 'filtered');
  });

  it('enhanced mode: CA when MSH-15 is AL; no ACK at all when NE (the next message still flows)', async () => {
    expect((await send(adtMessage('E2E-ENH', { ackMode: 'enhanced-al' }))).get('MSA-1')).toBe('CA');
    const raw = new MllpClient({ host: '127.0.0.1', port: gw.gateway.ports['mllp-in'], ackTimeoutMs: 500 });
    await expect(raw.send(Buffer.from(adtMessage('E2E-NE', { ackMode: 'enhanced-ne' }), 'latin1'))).rejects.toThrow();
    await raw.close();
    await eventually(async () => (await gw.gateway.store.searchMessages({ controlId: 'E2E-NE' })).items.length === 1);
  });

  it('retries a failing webhook (5xx, then success) and records every attempt', async () => {
    hook.failNext(2, { kind: 'status', status: 503 });
    await send(adtMessage('E2E-RETRY'));
    await eventually(async () => {
      const m = (await gw.gateway.store.searchMessages({ controlId: 'E2E-RETRY' })).items[0];
      if (!m) return false;
      const d = await gw.gateway.store.getMessage(m.id);
      return d?.deliveries[0]?.status === 'delivered';
    });
    const m = (await gw.gateway.store.searchMessages({ controlId: 'E2E-RETRY' })).items[0];
    const detail = await gw.gateway.store.getMessage(m.id);
    expect(detail!.deliveries[0].attemptLog.map((a) => a.outcome)).toEqual(['retryable-error', 'retryable-error', 'success']);
  });

  it('HTTP ingest answers the ACK; the API shows lineage; metrics and readiness are up', async () => {
    const base = `http://127.0.0.1:${gw.gateway.ports.http}`;
    const res = await fetch(`${base}/hl7/v2`, {
      method: 'POST',
      headers: { 'content-type': 'application/hl7-v2', authorization: `Bearer ${TEST_ADMIN_KEY}` },
      body: adtMessage('E2E-HTTP'),
    });
    expect(res.status).toBe(200);
    expect(Hl7Message.parse(await res.text()).get('MSA-1')).toBe('AA');
    const search = (await (
      await fetch(`${base}/api/messages?controlId=E2E-HTTP`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } })
    ).json()) as { items: { id: string }[] };
    expect(search.items).toHaveLength(1);
    await eventually(async () => {
      const detail = (await (
        await fetch(`${base}/api/messages/${search.items[0].id}`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } })
      ).json()) as { deliveries?: { status: string }[] };
      return detail.deliveries?.[0]?.status === 'delivered';
    });
    expect((await fetch(`${base}/ready`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/carebridge_messages_received_total\{source="mllp-in",outcome="accepted"\} \d+/);
  });

  it('survives its private Redis being killed: restarts it, ACKs throughout, delivers everything', async () => {
    const redis = gw.gateway.privateRedis()!;
    const before = hook.accepted.length;
    await redis.kill('SIGKILL');
    // Ingest does not depend on Redis: these are stored and ACKed while it is down or restarting.
    for (let i = 0; i < 5; i++) expect((await send(adtMessage(`E2E-RK-${i}`))).get('MSA-1')).toBe('AA');
    await eventually(() => gw.gateway.privateRedis()?.pid !== redis.pid, 30_000);
    await gw.gateway.recovery.run();
    await eventually(() => hook.accepted.length >= before + 5, 30_000);
    const keys = hook.accepted.slice(before).map((d) => d.idempotencyKey);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
