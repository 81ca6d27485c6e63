/**
 * Issue 11.1: a partner cannot send as another partner. A partner-owned source (MLLP, or the HTTP
 * source with a partner) and a partner's API key accept only that partner's declared senders
 * (MSH-3^MSH-4 patterns); anything else is AR (CR in enhanced mode), stored as rejected under the
 * source's partner and counted. A shared source without a partner resolves the partner from the
 * sender as before.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hl7Message } from '../../../src/hl7v2/index.js';
import { MllpClient } from '../../../src/mllp/client.js';
import { adtMessage, eventually, startTestGateway } from '../../helpers/gateway.js';
import { startWebhookStub, type WebhookStub } from '../../helpers/webhook-stub.js';

const SECRET = 'test-webhook-secret-0123456789';
const ACO_KEY = 'example-aco-partner-key-0123456789';
const sha256 = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

/** A message from partner B's sender (OTHERADT^OTHERHOSP). */
const asOther = (controlId: string, ackMode?: 'enhanced-al') =>
  adtMessage(controlId, { ackMode }).replace('|EPICADT|MGH|', '|OTHERADT|OTHERHOSP|');

describe('partner sender scope (issue 11.1)', () => {
  let hook: WebhookStub;
  let gw: Awaited<ReturnType<typeof startTestGateway>>;
  let owned: MllpClient;
  let shared: MllpClient;
  let base: string;
  beforeAll(async () => {
    hook = await startWebhookStub({ secret: SECRET });
    gw = await startTestGateway({
      webhookUrl: hook.url,
      webhookSecret: SECRET,
      extra: {
        partners: {
          'example-aco': { name: 'Example ACO', kind: 'aco', profile: 'example-aco', senders: ['EPICADT^MGH'] },
          'other-aco': { name: 'Other ACO', kind: 'aco', senders: ['OTHERADT^*'] },
        },
        sources: [
          { id: 'mllp-aco', type: 'mllp', host: '127.0.0.1', port: 0, partner: 'example-aco' },
          { id: 'mllp-shared', type: 'mllp', host: '127.0.0.1', port: 0 },
          { id: 'http-in', type: 'http' },
        ],
        apiKeys: [{ id: 'aco', hash: sha256(ACO_KEY), partners: ['example-aco'] }],
      },
    });
    owned = new MllpClient({ host: '127.0.0.1', port: gw.gateway.ports['mllp-aco'] });
    shared = new MllpClient({ host: '127.0.0.1', port: gw.gateway.ports['mllp-shared'] });
    base = `http://127.0.0.1:${gw.gateway.ports.http}`;
  });
  afterAll(async () => {
    await owned?.close();
    await shared?.close();
    await gw?.stop();
    await hook?.close();
  });

  const send = async (client: MllpClient, text: string) => Hl7Message.parse(await client.send(Buffer.from(text, 'latin1')));
  const stored = async (controlId: string) => (await gw.gateway.store.searchMessages({ controlId })).items[0];
  const rejectedBySender = async (source: string) => {
    const text = await gw.gateway.metrics.metrics();
    const line = text
      .split('\n')
      .find(
        (l) => l.startsWith('carebridge_messages_rejected_total') && l.includes(`source="${source}"`) && l.includes('reason_kind="sender"'),
      );
    return line ? Number(line.split(' ').pop()) : 0;
  };

  it("a partner's MLLP source answers AR to another partner's sender, stores it as rejected under its own partner and counts it", async () => {
    const ack = await send(owned, asOther('SCOPE-1'));
    expect(ack.get('MSA-1')).toBe('AR');
    expect(ack.get('ERR-8')).toBe('sender OTHERADT^OTHERHOSP is not a sender of partner example-aco');
    const m = await stored('SCOPE-1');
    expect(m.status).toBe('rejected');
    expect(m.partnerId).toBe('example-aco');
    expect(m.statusReason).toBe('sender OTHERADT^OTHERHOSP is not a sender of partner example-aco');
    expect(await rejectedBySender('mllp-aco')).toBe(1);
    // Nothing was routed for it.
    await new Promise((r) => setTimeout(r, 200));
    expect(hook.accepted.some((d) => JSON.stringify(d.body).includes('SCOPE-1'))).toBe(false);
  });

  it('enhanced mode answers CR', async () => {
    const ack = await send(owned, asOther('SCOPE-2', 'enhanced-al'));
    expect(ack.get('MSA-1')).toBe('CR');
  });

  it("the partner's own sender is accepted", async () => {
    expect((await send(owned, adtMessage('SCOPE-3'))).get('MSA-1')).toBe('AA');
  });

  it('a shared source keeps resolving the partner from the sender', async () => {
    expect((await send(shared, asOther('SCOPE-4'))).get('MSA-1')).toBe('AA');
    await eventually(async () => (await stored('SCOPE-4'))?.partnerId === 'other-aco');
  });

  it("a partner's API key on POST /hl7/v2 may post only its partner's senders", async () => {
    const post = (body: string) =>
      fetch(`${base}/hl7/v2`, {
        method: 'POST',
        headers: { 'content-type': 'application/hl7-v2', authorization: `Bearer ${ACO_KEY}` },
        body,
      });
    const bad = await post(asOther('SCOPE-5'));
    expect(bad.status).toBe(400);
    const ack = Hl7Message.parse(await bad.text());
    expect(ack.get('MSA-1')).toBe('AR');
    expect(ack.get('ERR-8')).toBe('sender OTHERADT^OTHERHOSP is not a sender of partner example-aco');
    expect((await stored('SCOPE-5')).status).toBe('rejected');
    expect(await rejectedBySender('http-in')).toBe(1);
    const good = await post(adtMessage('SCOPE-6'));
    expect(good.status).toBe(200);
  });
});
