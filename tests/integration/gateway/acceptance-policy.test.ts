/**
 * Issue 10 §1–2 through the real gateway (MLLP and HTTP in, real Redis, webhook stub and an MLLP
 * receiver out): every well-formed message is stored and acknowledged; what no adapter converts
 * or no route takes is `filtered` with its reason; a strict source refuses what it does not
 * accept; passthrough routes send the raw v2 message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../../src/config/index.js';
import { Hl7Message } from '../../../src/hl7v2/index.js';
import { MllpClient } from '../../../src/mllp/client.js';
import { createMllpServer, type MllpServer } from '../../../src/mllp/server.js';
import { adtMessage, eventually, startTestGateway, TEST_ADMIN_KEY } from '../../helpers/gateway.js';
import { startWebhookStub, type WebhookStub } from '../../helpers/webhook-stub.js';
import { buildTestAck } from '../mllp/helpers.js';

const SECRET = 'test-webhook-secret-0123456789';
const ACO_KEY = 'example-aco-partner-key-0123456789';

/** A non-ADT message from the example ACO's sender (no built-in adapter converts it today). */
function otherMessage(type: string, event: string, controlId: string, opts: { ackMode?: 'enhanced-al'; facility?: string } = {}): string {
  const mode = opts.ackMode === 'enhanced-al' ? '|||AL|NE' : '';
  return (
    [
      `MSH|^~\\&|EPICADT|MGH|CAREBRIDGE|CP|20240501083000-0400||${type}^${event}|${controlId}|P|2.5.1${mode}`,
      `PID|1||MRN${controlId}^^^MGH^MR||DOE^JANE||19800101|F`,
      `PV1|1|O|CLINIC^1^1^${opts.facility ?? 'MGH'}`,
      type === 'ORU' ? 'OBR|1|||GLU^Glucose' : type === 'MDM' ? 'TXA|1|DS|TX|20240501' : type === 'SIU' ? 'SCH|1|1' : 'ZZZ|1',
    ].join('\r') + '\r'
  );
}

describe('acceptance policy and passthrough routes (issue 10 §1–2)', () => {
  let hook: WebhookStub;
  let rawHook: WebhookStub;
  let forwarded: Buffer[];
  let receiver: MllpServer;
  let gw: Awaited<ReturnType<typeof startTestGateway>>;
  let client: MllpClient;
  let strict: MllpClient;
  let base: string;

  beforeAll(async () => {
    hook = await startWebhookStub({ secret: SECRET });
    rawHook = await startWebhookStub({ secret: SECRET });
    forwarded = [];
    receiver = createMllpServer({
      host: '127.0.0.1',
      port: 0,
      handler: async (payload) => {
        forwarded.push(payload);
        return buildTestAck(payload);
      },
    });
    const { port: forwardPort } = await receiver.listen();
    gw = await startTestGateway({
      webhookUrl: hook.url,
      webhookSecret: SECRET,
      extra: {
        partners: {
          'example-aco': { name: 'Example ACO', kind: 'aco', profile: 'example-aco', senders: ['EPICADT^MGH'] },
          'example-cp': { name: 'Example CP', kind: 'cp', destinations: { adt: 'hook' } },
        },
        sources: [
          { id: 'mllp-in', type: 'mllp', host: '127.0.0.1', port: 0 },
          { id: 'mllp-strict', type: 'mllp', host: '127.0.0.1', port: 0, accept: { types: ['ADT'], events: ['A01', 'A03'] } },
          { id: 'http-in', type: 'http' },
        ],
        destinations: [
          { id: 'hook', type: 'webhook', url: hook.url, secret: SECRET, partner: 'example-cp', backoff: { baseMs: 50, maxMs: 200 } },
          { id: 'cp-ehr', type: 'webhook', url: rawHook.url, secret: SECRET, backoff: { baseMs: 50, maxMs: 200 } },
          { id: 'forward', type: 'mllp', host: '127.0.0.1', port: forwardPort, backoff: { baseMs: 50, maxMs: 200 } },
        ],
        routes: [
          { id: 'adt', match: { events: ['A01'] }, to: ['hook'] },
          { id: 'labs-and-notes-raw', match: { messageTypes: ['ORU', 'MDM'], events: ['R01', 'T02'] }, to: ['cp-ehr'], payload: 'raw' },
          // VXU (no adapter converts it) goes raw over MLLP; the FHIR webhook on the same route gets nothing.
          { id: 'immunizations', match: { messageTypes: ['VXU'] }, to: ['forward', 'hook'] },
          { id: 'attributed-discharges', match: { events: ['A03'] }, toAttributed: 'cp' },
        ],
        apiKeys: [
          { id: 'admin', hash: 'scrypt:b6fyPcviLCcez4CEHmQYYw==:YPQUetOYkuzE0K8j4uoEdpWlkLsqZKU935KCMTJ+QSU=', partners: ['*'] },
          { id: 'aco', hash: hashApiKey(ACO_KEY), partners: ['example-aco'] },
        ],
      },
    });
    client = new MllpClient({ host: '127.0.0.1', port: gw.gateway.ports['mllp-in'] });
    strict = new MllpClient({ host: '127.0.0.1', port: gw.gateway.ports['mllp-strict'] });
    base = `http://127.0.0.1:${gw.gateway.ports.http}`;
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await strict?.close();
    await gw?.stop();
    await receiver?.close();
    await hook?.close();
    await rawHook?.close();
  });

  const send = async (c: MllpClient, text: string) => Hl7Message.parse(await c.send(Buffer.from(text, 'latin1')));
  const stored = async (controlId: string, source?: string) => {
    let found: Awaited<ReturnType<typeof gw.gateway.store.searchMessages>>['items'][number] | undefined;
    await eventually(async () => {
      found = (await gw.gateway.store.searchMessages({ controlId })).items.find(
        (m) => (source ? m.sourceName === source : true) && m.status !== 'received',
      );
      return found !== undefined;
    });
    return found!;
  };
  const api = async (path: string, key = TEST_ADMIN_KEY) =>
    (await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}` } })).json() as Promise<Record<string, unknown>>;

  it('accepts a message no adapter converts and no route takes: AA, stored filtered with the reason, counted, listed by status', async () => {
    const ack = await send(client, otherMessage('ORM', 'O01', 'F-ORM-1'));
    expect(ack.get('MSA-1')).toBe('AA');
    const m = await stored('F-ORM-1');
    expect(m.status).toBe('filtered');
    expect(m.statusReason).toBe('no converter for ORM^O01');
    const page = (await api('/api/messages?status=filtered')) as { items: { controlId: string; statusReason: string }[] };
    expect(page.items.map((i) => i.controlId)).toContain('F-ORM-1');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/carebridge_messages_filtered_total\{source="mllp-in",reason="no-converter"\} [1-9]/);
  });

  it('accepts an ADT event the ADT adapter does not convert (CA in enhanced mode), filtered', async () => {
    const ack = await send(client, adtMessage('F-A20', { event: 'A20', ackMode: 'enhanced-al' }));
    expect(ack.get('MSA-1')).toBe('CA');
    const m = await stored('F-A20');
    expect(m.status).toBe('filtered');
    expect(m.statusReason).toMatch(/^no converter for ADT\^A20/);
  });

  it('a converted message that no route takes is filtered: no route matched', async () => {
    expect((await send(client, adtMessage('F-A08', { event: 'A08' }))).get('MSA-1')).toBe('AA');
    const m = await stored('F-A08');
    expect(m.status).toBe('filtered');
    expect(m.statusReason).toBe('no route matched');
  });

  it('still NACKs what is really wrong: a mapping error (AE) and an unparseable message (AR)', async () => {
    const noPid3 = adtMessage('F-BAD').replace(/PID\|1\|\|[^|]*\|/, 'PID|1|||');
    expect((await send(client, noPid3)).get('MSA-1')).toBe('AE');
    expect((await stored('F-BAD')).status).toBe('rejected');
  });

  it('a strict source refuses what its accept policy leaves out: AR (CR in enhanced mode) with the reason, stored rejected', async () => {
    const oru = await send(strict, otherMessage('ORU', 'R01', 'S-ORU'));
    expect(oru.get('MSA-1')).toBe('AR');
    expect(oru.get('ERR-3.1')).toBe('200');
    expect(oru.get('ERR-8')).toBe('ORU^R01 is not accepted on source mllp-strict (accepts ADT^A01 ADT^A03)');
    const m = await stored('S-ORU');
    expect(m.status).toBe('rejected');
    expect(m.statusReason).toBe('ORU^R01 is not accepted on source mllp-strict (accepts ADT^A01 ADT^A03)');
    const a08 = await send(strict, adtMessage('S-A08', { event: 'A08', ackMode: 'enhanced-al' }));
    expect(a08.get('MSA-1')).toBe('CR');
    expect(a08.get('ERR-3.1')).toBe('201');
    expect((await send(strict, adtMessage('S-A01'))).get('MSA-1')).toBe('AA');
    expect((await stored('S-A01')).status).toBe('processed');
  });

  it('passthrough: ORU and MDM go raw to the webhook as application/hl7-v2; the message is processed, not filtered', async () => {
    const oru = otherMessage('ORU', 'R01', 'P-ORU');
    const mdm = otherMessage('MDM', 'T02', 'P-MDM');
    expect((await send(client, oru)).get('MSA-1')).toBe('AA');
    expect((await send(client, mdm)).get('MSA-1')).toBe('AA');
    await eventually(() => rawHook.accepted.length >= 2);
    const bodies = rawHook.accepted.map((d) => d.body);
    expect(bodies).toContain(oru);
    expect(bodies).toContain(mdm);
    expect(rawHook.accepted.every((d) => d.headers['content-type'] === 'application/hl7-v2')).toBe(true);
    expect(rawHook.rejectedSignatures).toEqual([]);
    expect((await stored('P-ORU')).status).toBe('processed');
    // ORU^R02 is not in the route's events: filtered with the converter reason.
    expect((await send(client, otherMessage('ORU', 'R02', 'P-ORU2'))).get('MSA-1')).toBe('AA');
    expect(await stored('P-ORU2')).toMatchObject({ status: 'filtered', statusReason: 'no converter for ORU^R02' });
  });

  it('passthrough: a message no adapter converts goes raw over MLLP (processed); a FHIR destination gets a message only when it has a conversion', async () => {
    const vxu = otherMessage('VXU', 'V04', 'P-VXU');
    const before = hook.accepted.length;
    expect((await send(client, vxu)).get('MSA-1')).toBe('AA');
    await eventually(() => forwarded.some((f) => f.toString('latin1') === vxu));
    const m = await stored('P-VXU');
    expect(m.status).toBe('processed');
    const detail = (await api(`/api/messages/${m.id}`)) as { deliveries: { destination: string; status: string }[] };
    expect(detail.deliveries.map((d) => d.destination)).toEqual(['forward']);
    expect(hook.accepted.length).toBe(before);
  });

  it('attributed route, member not on the roster: filtered (unmatched), and the unmatched event keeps its partner', async () => {
    // Sent on a shared source by the example ACO's API key: the message belongs to example-aco.
    const text = adtMessage('U-A03', { event: 'A03', mrn: 'NOBODY-1' });
    const res = await fetch(`${base}/hl7/v2`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ACO_KEY}`, 'content-type': 'application/hl7-v2' },
      body: text,
    });
    expect(res.status).toBe(200);
    const m = await stored('U-A03');
    expect(m).toMatchObject({ status: 'filtered', statusReason: 'member not on the roster (unmatched)', partnerId: 'example-aco' });
    let unmatched: { items: { messageId: string; partnerId: string | null }[] } = { items: [] };
    await eventually(async () => {
      unmatched = (await api('/api/roster/unmatched', ACO_KEY)) as typeof unmatched;
      return unmatched.items.some((u) => u.messageId === m.id);
    });
    expect(unmatched.items.find((u) => u.messageId === m.id)?.partnerId).toBe('example-aco');
  });

  it('replay of a filtered message runs it again (and is filtered again, with the reason)', async () => {
    const original = await stored('F-ORM-1');
    const res = await fetch(`${base}/api/messages/${original.id}/replay`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` },
    });
    expect(res.status).toBeLessThan(300);
    const { id } = (await res.json()) as { id: string };
    await eventually(async () => (await gw.gateway.store.getMessage(id))?.status === 'filtered');
    expect((await gw.gateway.store.getMessage(id))?.statusReason).toBe('no converter for ORM^O01');
  });
});
