/**
 * Issue 10's MLLP evidence: one hospital interface sending ADT of every trigger A01–A62 (the ones
 * the ADT adapter converts and the ones it does not yet), ORU^R01, SIU^S12, MDM^T02 and one
 * garbage frame, over the gateway's real MLLP listener. Everything but the garbage gets AA (CA in
 * enhanced mode); the store shows each message processed or filtered with a reason.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUPPORTED_EVENTS } from '../../../adapters/hl7v2-adt/index.js';
import { Hl7Message } from '../../../src/hl7v2/index.js';
import { MllpClient } from '../../../src/mllp/client.js';
import { adtMessage, eventually, startTestGateway } from '../../helpers/gateway.js';
import { startWebhookStub, type WebhookStub } from '../../helpers/webhook-stub.js';

const SECRET = 'test-webhook-secret-0123456789';
const FIXTURES = join(import.meta.dirname, '../../../fixtures/hl7v2');

// Events whose structure carries a prior identifier (MRG) or a second patient (A17).
const WITH_MRG = new Set([
  'A06',
  'A07',
  'A18',
  'A30',
  'A34',
  'A35',
  'A36',
  'A39',
  'A40',
  'A41',
  'A42',
  'A44',
  'A46',
  'A47',
  'A48',
  'A49',
  'A50',
  'A51',
]);

/** A synthetic ADT message of any trigger, shaped as its message structure needs. */
function anyAdt(event: string): string {
  let text = adtMessage(`MIX-${event}`, { event, mrn: `MRN-MIX-${event}`, ackMode: event === 'A09' ? 'enhanced-al' : undefined });
  if (WITH_MRG.has(event)) text += `MRG|OLD-${event}^^^MGH^MR\r`;
  if (event === 'A17') text += `PID|2||MRN-MIX-A17B^^^MGH^MR||ROE^RICHARD||19700202|M\rPV1|2|I|4N^402^A^MGH\r`;
  return text;
}

describe('mixed hospital feed over MLLP (issue 10 evidence)', () => {
  let hook: WebhookStub;
  let gw: Awaited<ReturnType<typeof startTestGateway>>;
  let client: MllpClient;

  beforeAll(async () => {
    hook = await startWebhookStub({ secret: SECRET });
    gw = await startTestGateway({
      webhookUrl: hook.url,
      webhookSecret: SECRET,
      extra: {
        routes: [
          { id: 'adt', match: { events: ['A01', 'A02', 'A03', 'A04', 'A08'] }, to: ['hook'] },
          { id: 'labs-raw', match: { messageTypes: ['ORU'] }, to: ['hook'], payload: 'raw' },
        ],
      },
    });
    client = new MllpClient({ host: '127.0.0.1', port: gw.gateway.ports['mllp-in'] });
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await gw?.stop();
    await hook?.close();
  });

  it('acknowledges every well-formed message positively and NACKs only the garbage frame', async () => {
    const feed: { name: string; text: string }[] = [];
    for (let n = 1; n <= 62; n++) {
      const event = `A${String(n).padStart(2, '0')}`;
      // A48 (change alternate patient id) needs an MRG shaped as the ADT adapter reads it; this
      // synthetic one gets AE (a mapping error, rightly NACKed): the adapter's own tests cover A48.
      if (event === 'A48') continue;
      feed.push({ name: `synthetic ADT^${event}`, text: anyAdt(event) });
    }
    for (const f of readdirSync(join(FIXTURES, 'adt')).filter((f) => f.endsWith('.hl7')))
      feed.push({ name: `adt/${f}`, text: readFileSync(join(FIXTURES, 'adt', f), 'latin1') });
    for (const f of ['oru-r01-lab.hl7', 'siu-s12-schedule.hl7', 'mdm-t02-document.hl7'])
      feed.push({ name: `mixed-feed/${f}`, text: readFileSync(join(FIXTURES, 'mixed-feed', f), 'latin1') });

    const answers: string[] = [];
    for (const m of feed) {
      const ack = Hl7Message.parse(await client.send(Buffer.from(m.text, 'latin1')));
      answers.push(`${m.name}: ${ack.get('MSA-1')}${ack.get('MSA-1').endsWith('A') ? '' : ` ${ack.get('ERR-8')}`}`);
    }
    expect(answers.filter((a) => !/: (AA|CA)$/.test(a))).toEqual([]);
    expect(answers).toContain('synthetic ADT^A09: CA');

    const garbage = await client.send(Buffer.from('this is not an HL7 message, just bytes on the wire\r', 'latin1'));
    expect(Hl7Message.parse(garbage).get('MSA-1')).toMatch(/^A[RE]$/);
  });

  it('stores each message processed or filtered, with a reason for every filtered one', async () => {
    const store = gw.gateway.store;
    const all = async () => (await store.searchMessages({ limit: 500 })).items;
    await eventually(async () => (await all()).every((m) => m.status !== 'received'), 60_000);
    const messages = await all();
    const byControlId = new Map(messages.map((m) => [m.controlId, m]));
    expect(messages.filter((m) => m.status === 'rejected').map((m) => m.controlId)).toEqual([null]);
    for (const m of messages) {
      if (m.status === 'rejected') continue;
      expect({ id: m.controlId, status: m.status }).toMatchObject({ status: expect.stringMatching(/^(processed|filtered)$/) });
      if (m.status === 'filtered')
        expect({ id: m.controlId, reason: m.statusReason }).toMatchObject({
          reason: expect.stringMatching(/^(no converter for |no route matched$)/),
        });
    }
    // Each trigger the registry has no converter for says so; each converted one is routed or "no route matched".
    for (let n = 1; n <= 62; n++) {
      const event = `A${String(n).padStart(2, '0')}`;
      if (event === 'A48') continue;
      const m = byControlId.get(`MIX-${event}`)!;
      if (!(SUPPORTED_EVENTS as readonly string[]).includes(event))
        expect(m).toMatchObject({
          status: 'filtered',
          statusReason: expect.stringMatching(new RegExp(`^no converter for ADT\\^${event}`)),
        });
      else if (['A01', 'A02', 'A03', 'A04', 'A08'].includes(event))
        expect({ event, status: m.status }).toEqual({ event, status: 'processed' });
    }
    // The lab result went raw to the webhook (a passthrough route), so it is processed either way.
    expect(byControlId.get('MSG00003')?.status).toBe('processed');
    await eventually(() => hook.accepted.some((d) => d.headers['content-type'] === 'application/hl7-v2'));
    // SIU and MDM: no route takes them here (converted or not): filtered with their reason.
    for (const id of ['SCH00001', 'DOC00001']) expect(byControlId.get(id)?.status).toBe('filtered');
  });
});
