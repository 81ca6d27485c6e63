import { rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { startGateway, type Gateway } from '../../../src/gateway/gateway.js';
import { Hl7Message } from '../../../src/hl7v2/index.js';
import { MllpClient } from '../../../src/mllp/client.js';
import { createLogger } from '../../../src/observability/log.js';
import { eventually, TEST_ADMIN_KEY, writeTestConfig } from '../../helpers/gateway.js';
import { startWebhookStub, type WebhookStub } from '../../helpers/webhook-stub.js';

// Issue 13: the info log names each message's step (received, routed / not routed, delivered) by
// ids, never patient data; every message's status reason says why it went where it did.

const SECRET = 'log-test-secret-0123456789';

/** Distinctive patient data: none of these strings may reach the info log. */
interface Patient {
  controlId: string;
  event: string;
  family: string;
  given: string;
  mrn: string;
  birthDate: string;
  street: string;
  city: string;
}

const PATIENTS: Patient[] = [
  {
    controlId: 'LOG-ADMIT-1',
    event: 'A01',
    family: 'QUIXWELLTON',
    given: 'ZEPHYRINA',
    mrn: 'MRN77310042',
    birthDate: '19510317',
    street: '41 LARKSPURWOOD LN',
    city: 'FENWICKSHIRE',
  },
  {
    controlId: 'LOG-A28-1',
    event: 'A28',
    family: 'BRAMBLEFORTH',
    given: 'ODALYS',
    mrn: 'MRN88420913',
    birthDate: '19670922',
    street: '9 THISTLEGATE RD',
    city: 'MARROWDALE',
  },
  {
    controlId: 'LOG-REG-1',
    event: 'A04',
    family: 'HOLLINGSWAITE',
    given: 'CASSIUS',
    mrn: 'MRN99531784',
    birthDate: '19830611',
    street: '77 EMBERLYN CT',
    city: 'QUILLBROOK',
  },
];

function hl7(p: Patient): string {
  return (
    [
      `MSH|^~\\&|EPICADT|MGH|CAREBRIDGE|CP|20240501083000-0400||ADT^${p.event}^ADT_A01|${p.controlId}|P|2.5.1`,
      `EVN|${p.event}|20240501083000`,
      `PID|1||${p.mrn}^^^MGH^MR||${p.family}^${p.given}||${p.birthDate}|F|||${p.street}^^${p.city}^MA^02118`,
      `PV1|1|I|4N^401^A^MGH|||||||||||||||VN${p.controlId}^^^MGH^VN|||||||||||||||||||||||||20240501080000`,
    ].join('\r') + '\r'
  );
}

describe('message log lines and routing reasons (real gateway, store and Redis)', () => {
  let hook: WebhookStub;
  let gateway: Gateway;
  let dataDir: string;
  let client: MllpClient;
  const lines: string[] = [];

  beforeAll(async () => {
    hook = await startWebhookStub({ secret: SECRET });
    const written = writeTestConfig({
      webhookUrl: hook.url,
      webhookSecret: SECRET,
      extra: {
        partners: {
          'example-aco': { name: 'Example ACO', kind: 'aco', profile: 'example-aco', senders: ['EPICADT^MGH'] },
          'example-cp': { name: 'Example CP', kind: 'cp', destinations: { adt: 'hook' } },
        },
        routes: [
          { id: 'admits', match: { events: ['A01'] }, to: ['hook'] },
          // Registrations go only to the member's CP: an unknown patient is unmatched.
          { id: 'registrations-to-cp', match: { events: ['A04'] }, toAttributed: 'cp' },
        ],
      },
    });
    dataDir = written.dataDir;
    // The gateway's own logger at info, as `start` makes it when stdout is not a terminal (JSON), captured.
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    const log = createLogger({ level: 'info' }, { pretty: false, stream: sink });
    gateway = await startGateway(loadConfig(written.file), log);
    client = new MllpClient({ host: '127.0.0.1', port: gateway.ports['mllp-in'] });
  });

  afterAll(async () => {
    await client?.close();
    await gateway?.close();
    await hook?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const statusOf = async (controlId: string) => (await gateway.store.searchMessages({ controlId })).items[0];

  it('an A28 with no route and an ADT for an unknown member each carry their reason; the API explains the routing', async () => {
    for (const p of PATIENTS) {
      const ack = Hl7Message.parse(await client.send(Buffer.from(hl7(p), 'latin1')));
      expect(ack.get('MSA-1')).toBe('AA');
    }
    await eventually(
      async () => (await statusOf('LOG-A28-1'))?.status !== 'received' && (await statusOf('LOG-REG-1'))?.status !== 'received',
    );
    expect((await statusOf('LOG-A28-1'))!.statusReason).toBe('no route matched');
    expect((await statusOf('LOG-REG-1'))!.statusReason).toBe('member not on the roster (unmatched)');
    await eventually(async () => (await statusOf('LOG-ADMIT-1'))?.status === 'processed');
    expect((await statusOf('LOG-ADMIT-1'))!.statusReason).toBe('routed by admits to hook');

    const base = `http://127.0.0.1:${gateway.ports.http}`;
    const detail = async (controlId: string) => {
      const res = await fetch(`${base}/api/messages/${(await statusOf(controlId))!.id}`, {
        headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` },
      });
      expect(res.status).toBe(200);
      return (await res.json()) as {
        routing: { reason: string; routes: string[]; destinations: string[]; withheld: unknown[] };
        deliveries: { routeId: string | null }[];
      };
    };
    const admit = await detail('LOG-ADMIT-1');
    expect(admit.routing).toMatchObject({ routes: ['admits'], destinations: ['hook'], withheld: [] });
    expect(admit.deliveries[0].routeId).toBe('admits');
    expect((await detail('LOG-A28-1')).routing).toMatchObject({ reason: 'no route matched', routes: [], destinations: [] });
    expect((await detail('LOG-REG-1')).routing).toMatchObject({ reason: 'member not on the roster (unmatched)', routes: [] });
  });

  it('the info log names each control id and every step, and carries no patient data', async () => {
    await eventually(() => lines.some((l) => l.includes('"msg":"delivered"')));
    const log = lines.join('\n');
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const p of PATIENTS) {
      const received = entries.find((e) => e.msg === 'received' && e.controlId === p.controlId);
      expect(received).toMatchObject({ level: 30, source: 'mllp-in', sender: 'EPICADT^MGH', type: `ADT^${p.event}`, ack: 'AA' });
      for (const phi of [p.family, p.given, p.mrn, p.birthDate, p.street, p.city]) expect(log).not.toContain(phi);
    }
    const admitId = (await statusOf('LOG-ADMIT-1'))!.id;
    const a28Id = (await statusOf('LOG-A28-1'))!.id;
    expect(entries.find((e) => e.messageId === admitId && e.msg === 'routed')).toMatchObject({
      routes: ['admits'],
      destinations: ['hook'],
    });
    expect(entries.find((e) => e.messageId === a28Id && e.msg !== 'received')).toMatchObject({ reason: 'no route matched' });
    expect(entries.find((e) => e.msg === 'delivered')).toMatchObject({ destination: 'hook', attempt: 1, status: 200 });
  });
});
