/**
 * Issue 4 end to end, with real components: an ACO drops its roster file on a real OpenSSH sshd;
 * the gateway's SFTP source imports it; ADT over MLLP then reaches only the member's attributed
 * CP; a behavioral-health facility discharge is withheld without consent and delivered (labelled)
 * once the next roster file carries the consent.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hl7Message } from '../../src/hl7v2/index.js';
import { MllpClient } from '../../src/mllp/client.js';
import { eventually, startTestGateway } from '../helpers/gateway.js';
import { sshdSkipReason, startSshd, type TestSshd } from '../helpers/sshd.js';
import { startWebhookStub, type WebhookStub } from '../helpers/webhook-stub.js';

const SECRET = 'roster-e2e-secret-0123456789';
const FIX = join(import.meta.dirname, '../../fixtures/hl7v2/adt');
const HEADER =
  'MEMBER_ID|LAST_NAME|FIRST_NAME|MIDDLE_NAME|DOB|GENDER|ADDRESS_1|ADDRESS_2|CITY|STATE|ZIP|PHONE|CP_ID|PCP_NPI|ASSIGNMENT_START|ASSIGNMENT_END|STATUS|ACO_MEMBER_ID|MRN|SSN|BH_CONSENT|SUD_CONSENT';
const roster = (bhConsent: 'Y' | 'N') =>
  [
    HEADER,
    `MA123456789|RIVERA|ANA|L|03/12/1979|F|45 ELM ST|APT 3|DORCHESTER|MA|2124|6175550142|example-cp|1003000126|01/01/2024||E|A-1|MRN1001||${bhConsent}|N`,
    `MA987654321|OTHER|PERSON||01/01/1990|M|1 MAIN ST||BOSTON|MA|02110|6175550000|other-cp||01/01/2024||E|A-2|MRN2002|||`,
  ].join('\n') + '\n';

const skip = sshdSkipReason();

describe.skipIf(skip !== null)('roster file over SFTP → ADT over MLLP → the member’s CP only, with consent', () => {
  let sshd: TestSshd;
  let cpHook: WebhookStub;
  let otherHook: WebhookStub;
  let gw: Awaited<ReturnType<typeof startTestGateway>>;
  let client: MllpClient;

  beforeAll(async () => {
    sshd = await startSshd();
    cpHook = await startWebhookStub({ secret: SECRET });
    otherHook = await startWebhookStub({ secret: SECRET });
    gw = await startTestGateway({
      webhookUrl: cpHook.url,
      webhookSecret: SECRET,
      extra: {
        partners: {
          'example-aco': { name: 'Example ACO', kind: 'aco', profile: 'example-aco', senders: ['EPICADT^MGH'] },
          'example-cp': { name: 'Example CP', kind: 'cp', destinations: { adt: 'cp-hook', members: 'cp-hook' } },
          'other-cp': { name: 'Other CP', kind: 'cp', destinations: { adt: 'other-hook' } },
        },
        sources: [
          { id: 'mllp-in', type: 'mllp', host: '127.0.0.1', port: 0, partner: 'example-aco' },
          { id: 'http-in', type: 'http' },
          {
            id: 'aco-roster',
            type: 'sftp',
            partner: 'example-aco',
            ...sshd.server,
            remoteDir: sshd.remoteDir,
            pattern: '*.txt',
            format: 'member-csv',
            poll: { intervalSeconds: 1 },
            stableChecks: 1,
          },
        ],
        destinations: [
          { id: 'cp-hook', type: 'webhook', url: cpHook.url, secret: SECRET, partner: 'example-cp', backoff: { baseMs: 50, maxMs: 200 } },
          {
            id: 'other-hook',
            type: 'webhook',
            url: otherHook.url,
            secret: SECRET,
            partner: 'other-cp',
            backoff: { baseMs: 50, maxMs: 200 },
          },
        ],
        routes: [{ id: 'to-cp', match: { events: ['A01', 'A03'] }, toAttributed: 'cp' }],
        consent: { sensitiveFacilities: [{ code: 'BHH', category: 'behavioral-health' }] },
        roster: { identifierPrecedence: ['https://www.mass.gov/masshealth/member-id'] },
      },
    });
    client = new MllpClient({ host: '127.0.0.1', port: gw.gateway.ports['mllp-in'] });
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await gw?.stop();
    await cpHook?.close();
    await otherHook?.close();
    await sshd?.stop();
  });

  const send = async (text: string) => Hl7Message.parse(await client.send(Buffer.from(text, 'latin1')));
  const bundles = (hook: WebhookStub) =>
    hook.accepted.map(
      (d) =>
        d.body as {
          resourceType: string;
          entry?: { resource: { resourceType: string; meta?: { security?: { code: string }[] }; eventCoding?: { code: string } } }[];
        },
    );

  it('imports the roster file and tells the CP about its newly assigned member (FHIR Patient)', async () => {
    sshd.drop('roster-20240601.txt', roster('N'));
    await eventually(() => bundles(cpHook).some((b) => b.resourceType === 'Patient'), 30_000);
    const patient = bundles(cpHook).find((b) => b.resourceType === 'Patient') as unknown as { identifier: { value: string }[] };
    expect(patient.identifier.map((i) => i.value)).toContain('MA123456789');
    // other-cp declares no `members` destination: it is not notified (its ADT still routes).
    expect(bundles(otherHook)).toEqual([]);
    // The file shows in the metrics and in the per-partner file-arrival status.
    const base = `http://127.0.0.1:${gw.gateway.ports.http}`;
    // The poller reports the file once it is moved to processed/ (after the import delivered).
    await eventually(async () =>
      /carebridge_sftp_files_total\{source="aco-roster",partner="example-aco",result="applied"\} 1/.test(
        await (await fetch(`${base}/metrics`)).text(),
      ),
    );
    const status = (await (
      await fetch(`${base}/api/sources/files`, { headers: { authorization: 'Bearer carebridge-demo-admin-key' } })
    ).json()) as { items: { sourceId: string; lastFileAt: string | null }[] };
    expect(status.items.find((i) => i.sourceId === 'aco-roster')?.lastFileAt).toBeTruthy();
  });

  it('routes an admission only to the member’s attributed CP', async () => {
    const ack = await send(readFileSync(join(FIX, 'A01.hl7'), 'latin1'));
    expect(ack.get('MSA-1')).toBe('CA');
    await eventually(() => bundles(cpHook).some((b) => b.resourceType === 'Bundle'), 30_000);
    expect(bundles(otherHook).filter((b) => b.resourceType === 'Bundle')).toEqual([]);
  });

  it('withholds a behavioral-health facility discharge without consent; delivers it, labelled, with consent', async () => {
    const bh = readFileSync(join(FIX, 'A03.hl7'), 'latin1').replace('4NORTH^412^B^MGH', '4NORTH^412^B^BHH');
    expect((await send(bh)).get('MSA-1')).toBe('CA');
    const store = gw.gateway.store;
    await eventually(async () => {
      const m = (await store.searchMessages({ controlId: 'MSG-A03-0001' })).items[0];
      return m?.status === 'processed';
    });
    const first = (await store.searchMessages({ controlId: 'MSG-A03-0001' })).items[0];
    const detail = await store.getMessage(first.id);
    expect(detail!.deliveries.map((d) => [d.destination, d.status])).toEqual([['cp-hook', 'withheld']]);
    expect(detail!.deliveries[0].withheldReason).toMatch(/no behavioral-health consent on file for example-cp/);

    sshd.drop('roster-20240602.txt', roster('Y'));
    await eventually(
      async () => (await store.searchMessages({ messageType: 'ROSTER' })).items.length >= 1 && cpHook.accepted.length >= 2,
      30_000,
    );
    // Give the second import time to land: wait until the roster shows the consent.
    await eventually(async () => {
      const res = await fetch(`http://127.0.0.1:${gw.gateway.ports.http}/api/roster/members/MA123456789`, {
        headers: { authorization: 'Bearer carebridge-demo-admin-key' },
      });
      const body = (await res.json()) as { consents?: { category: string; granted: boolean }[] };
      return Boolean(body.consents?.some((c) => c.category === 'behavioral-health' && c.granted));
    }, 30_000);
    expect((await send(bh.replace('MSG-A03-0001', 'MSG-A03-0002'))).get('MSA-1')).toBe('CA');
    await eventually(() => bundles(cpHook).some((b) => b.entry?.[0]?.resource.eventCoding?.code === 'A03'), 30_000);
    const delivered = bundles(cpHook).find((b) => b.entry?.[0]?.resource.eventCoding?.code === 'A03')!;
    expect(delivered.entry!.find((e) => e.resource.resourceType === 'Encounter')!.resource.meta!.security!.map((c) => c.code)).toEqual([
      'R',
      'PSY',
    ]);
    expect(bundles(otherHook).filter((b) => b.resourceType === 'Bundle')).toEqual([]);
  });

  it('a FHIR Consent posted to /fhir revokes it: the next behavioral-health discharge is withheld again', async () => {
    const base = `http://127.0.0.1:${gw.gateway.ports.http}`;
    const consent = {
      resourceType: 'Consent',
      status: 'active',
      dateTime: new Date().toISOString(),
      scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
      // R4 ppc-1: a Consent names its policy (POST /fhir validates, issue 11.4).
      policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTOUT' }] },
      patient: { identifier: { system: 'https://www.mass.gov/masshealth/member-id', value: 'MA123456789' } },
      provision: {
        type: 'deny',
        actor: [
          {
            role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] },
            reference: { identifier: { value: 'example-cp' } },
          },
        ],
        securityLabel: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'PSY' }],
      },
    };
    const res = await fetch(`${base}/fhir`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', authorization: 'Bearer carebridge-demo-admin-key' },
      body: JSON.stringify(consent),
    });
    expect(res.status).toBeLessThan(300);
    const unknown = { ...consent, patient: { identifier: { system: 'https://www.mass.gov/masshealth/member-id', value: 'MA000000000' } } };
    const bad = await fetch(`${base}/fhir`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', authorization: 'Bearer carebridge-demo-admin-key' },
      body: JSON.stringify(unknown),
    });
    expect(bad.status).toBe(400);
    const bh = readFileSync(join(FIX, 'A03.hl7'), 'latin1')
      .replace('4NORTH^412^B^MGH', '4NORTH^412^B^BHH')
      .replace('MSG-A03-0001', 'MSG-A03-0003');
    expect((await send(bh)).get('MSA-1')).toBe('CA');
    const store = gw.gateway.store;
    await eventually(async () => (await store.searchMessages({ controlId: 'MSG-A03-0003' })).items[0]?.status === 'processed');
    const m = await store.getMessage((await store.searchMessages({ controlId: 'MSG-A03-0003' })).items[0].id);
    expect(m!.deliveries.map((d) => d.status)).toEqual(['withheld']);
  });
});
