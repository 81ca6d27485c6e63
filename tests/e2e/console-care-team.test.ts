/**
 * The console in a real browser, care-team side: a Community Partner's key sees its attributed
 * members' admissions and discharges with follow-up due dates, records a follow-up contact (who and
 * when), sees its care plans (and downloads the weekly status file) and its new members, and
 * another partner's member never appears. The roster comes from a member file on a real sshd.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hl7Message } from '../../src/hl7v2/index.js';
import { MllpClient } from '../../src/mllp/client.js';
import { chromiumSkipReason, launchChromium, screenshot } from '../helpers/browser.js';
import { eventually, startTestGateway, TEST_ADMIN_HASH, TEST_ADMIN_KEY } from '../helpers/gateway.js';
import { sshdSkipReason, startSshd, type TestSshd } from '../helpers/sshd.js';
import { startWebhookStub, type WebhookStub } from '../helpers/webhook-stub.js';

const SECRET = 'console-care-team-secret-0123456789';
const CP_KEY = 'example-cp-care-team-key-0123456789';
const OTHER_KEY = 'other-cp-care-team-key-0123456789';
const sha256 = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;
const FIX = join(import.meta.dirname, '../../fixtures/hl7v2/adt');
const HEADER =
  'MEMBER_ID|LAST_NAME|FIRST_NAME|MIDDLE_NAME|DOB|GENDER|ADDRESS_1|ADDRESS_2|CITY|STATE|ZIP|PHONE|CP_ID|PCP_NPI|ASSIGNMENT_START|ASSIGNMENT_END|STATUS|ACO_MEMBER_ID|MRN|SSN|BH_CONSENT|SUD_CONSENT';
const ROSTER =
  [
    HEADER,
    'MA123456789|RIVERA|ANA|L|03/12/1979|F|45 ELM ST|APT 3|DORCHESTER|MA|2124|6175550142|example-cp|1003000126|01/01/2024||E|A-1|MRN1001||N|N',
    'MA987654321|OTHERSON|PERCY||01/01/1990|M|1 MAIN ST||BOSTON|MA|02110|6175550000|other-cp||01/01/2024||E|A-2|MRN2002|||',
    'BROKEN-ROW|ONLY|THREE',
  ].join('\n') + '\n';
const MEMBER_ID_SYSTEM = 'https://carebridge.example.org/fhir/member-id';

const skip = chromiumSkipReason() ?? sshdSkipReason();

describe.skipIf(skip !== null)('console, care-team pages in Chromium', () => {
  let sshd: TestSshd;
  let cpHook: WebhookStub;
  let otherHook: WebhookStub;
  let acoHook: WebhookStub;
  let gw: Awaited<ReturnType<typeof startTestGateway>>;
  let client: MllpClient;
  let browser: Browser;
  let page: Page;
  let base: string;
  const cspViolations: string[] = [];
  const urls: string[] = [];

  const api = async (key: string, method: string, path: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });

  beforeAll(async () => {
    sshd = await startSshd();
    cpHook = await startWebhookStub({ secret: SECRET });
    otherHook = await startWebhookStub({ secret: SECRET });
    acoHook = await startWebhookStub({ secret: SECRET });
    const hook = (id: string, partner: string, stub: WebhookStub) => ({
      id,
      type: 'webhook',
      url: stub.url,
      secret: SECRET,
      partner,
      backoff: { baseMs: 50, maxMs: 200 },
    });
    gw = await startTestGateway({
      webhookUrl: cpHook.url,
      webhookSecret: SECRET,
      extra: {
        partners: {
          'example-aco': {
            name: 'Example ACO',
            kind: 'aco',
            profile: 'example-aco',
            senders: ['EPICADT^MGH'],
            destinations: { careplan: 'aco-hook' },
          },
          'example-cp': { name: 'Example Community Partner', kind: 'cp', destinations: { adt: 'cp-hook', careplan: 'cp-hook' } },
          'other-cp': { name: 'Other CP', kind: 'cp', destinations: { adt: 'other-hook' } },
        },
        sources: [
          { id: 'mllp-in', type: 'mllp', host: '127.0.0.1', port: 0, partner: 'example-aco' },
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
          hook('cp-hook', 'example-cp', cpHook),
          hook('other-hook', 'other-cp', otherHook),
          hook('aco-hook', 'example-aco', acoHook),
        ],
        routes: [{ id: 'events-to-cp', match: { events: ['A01', 'A02', 'A03', 'A04'] }, toAttributed: 'cp' }],
        roster: { identifierPrecedence: ['https://www.mass.gov/masshealth/member-id'] },
        apiKeys: [
          { id: 'ops-admin', hash: TEST_ADMIN_HASH, partners: ['*'] },
          { id: 'example-cp-team', hash: sha256(CP_KEY), partners: ['example-cp'] },
          { id: 'other-cp-team', hash: sha256(OTHER_KEY), partners: ['other-cp'] },
        ],
      },
    });
    base = `http://127.0.0.1:${gw.gateway.ports.http}`;
    client = new MllpClient({ host: '127.0.0.1', port: gw.gateway.ports['mllp-in'] });

    sshd.drop('roster-20240601.txt', ROSTER);
    await eventually(async () => {
      const res = await api(TEST_ADMIN_KEY, 'GET', '/api/roster/imports');
      return ((await res.json()) as { items: { status: string }[] }).items.some((i) => i.status === 'applied');
    }, 30_000);

    const a01 = readFileSync(join(FIX, 'A01.hl7'), 'latin1');
    const send = async (text: string) =>
      expect(Hl7Message.parse(await client.send(Buffer.from(text, 'latin1'))).get('MSA-1')).toMatch(/^(AA|CA)$/);
    await send(a01);
    await send(readFileSync(join(FIX, 'A03.hl7'), 'latin1'));
    await send(
      a01
        .replace('MSG-A01-0001', 'MSG-A01-OTHER')
        .replace('MRN1001^^^MGH^MR~MA123456789', 'MRN2002^^^MGH^MR~MA987654321')
        .replace('RIVERA^ANA^LUISA', 'OTHERSON^PERCY^Q')
        .replace('VN20240501-0001', 'VN20240501-0099'),
    );
    await eventually(
      () =>
        cpHook.accepted.filter((d) => (d.body as { resourceType: string }).resourceType === 'Bundle').length >= 2 &&
        otherHook.accepted.length >= 1,
      30_000,
    );

    // A care plan the CP submitted, waiting for the ACO's sign-off.
    const submitted = await api(CP_KEY, 'POST', '/api/careplans', {
      resourceType: 'CarePlan',
      id: 'rivera-plan-1',
      status: 'active',
      intent: 'plan',
      title: 'Housing and diabetes support plan',
      subject: { identifier: { system: MEMBER_ID_SYSTEM, value: 'MA123456789' } },
      activity: [{ detail: { status: 'not-started', description: 'Weekly check-in call' } }],
    });
    expect(submitted.status).toBe(201);

    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true })).newPage();
    page.on('request', (r) => urls.push(r.url()));
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await client?.close();
    await gw?.stop();
    for (const s of [cpHook, otherHook, acoHook]) await s?.close();
    await sshd?.stop();
  });

  it('a CP signs in and its worklist lists only its own members’ events, with follow-up due dates', async () => {
    await page.goto(base);
    await page.getByLabel('API key').fill(CP_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Worklist' }).waitFor();
    await page.locator('table.worklist tbody tr', { hasText: 'Admission' }).waitFor();
    await page.locator('table.worklist tbody tr', { hasText: 'Discharge' }).waitFor();
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).toContain('RIVERA');
    expect(text).not.toMatch(/OTHERSON|MA987654321|MRN2002/);
    // Operator pages are not offered to a partner key.
    expect(await page.getByRole('link', { name: 'Messages' }).count()).toBe(0);
    // The 2024 events are long past their due dates.
    await page.locator('table.worklist tbody tr', { hasText: 'Discharge' }).getByText('overdue').waitFor();
  });

  it('records a follow-up contact with who and when', async () => {
    await page.getByLabel('Contact made by').fill('Dana Care');
    await page.locator('table.worklist tbody tr', { hasText: 'Admission' }).getByRole('button', { name: 'Mark contacted' }).click();
    await page.getByRole('status').filter({ hasText: 'Follow-up recorded' }).waitFor();
    await page.locator('table.worklist tbody tr', { hasText: 'Admission' }).getByText('by Dana Care (example-cp-team)').waitFor();
    await page.getByRole('button', { name: 'Overdue' }).click();
    // The list under "All" stays on screen until the filtered one arrives: wait for the done
    // admission to leave, rather than count rows the moment the discharge (in both lists) is seen.
    await page.locator('table.worklist tbody tr', { hasText: 'Admission' }).waitFor({ state: 'detached' });
    await page.locator('table.worklist tbody tr', { hasText: 'Discharge' }).waitFor();
    await page.getByRole('button', { name: 'All' }).click();
    await page.locator('table.worklist tbody tr', { hasText: 'Admission' }).waitFor();
    await screenshot(page, 'worklist');
    const audit = await gw.gateway.store.listAudit({ subjectType: 'worklist-event' });
    expect(audit.items.map((a) => [a.actor, (a.detail as { contactedBy?: string }).contactedBy])).toEqual([
      ['example-cp-team', 'Dana Care'],
    ]);
  });

  it('shows its care plans and downloads the weekly status file', async () => {
    await page.getByRole('link', { name: 'Care plans' }).click();
    await page.getByRole('cell', { name: 'Housing and diabetes support plan' }).waitFor();
    await page.getByText('awaiting sign-off').first().waitFor();
    await screenshot(page, 'care-plans');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download weekly status file' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^careplan-status-example-cp-.*\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv).toContain('MA123456789');
    expect(csv).not.toContain('MA987654321');
  });

  it('lists the members the last roster file assigned to it, and never another partner’s', async () => {
    await page.getByRole('link', { name: 'New members' }).click();
    await page.getByRole('rowheader', { name: 'RIVERA, ANA' }).waitFor();
    expect((await page.locator('main').textContent()) ?? '').not.toMatch(/OTHERSON|MA987654321/);
    await screenshot(page, 'new-members');
  });

  it('the API behind the pages is scoped the same way', async () => {
    const other = (await gw.gateway.store.searchMessages({ controlId: 'MSG-A01-OTHER' })).items[0]!;
    const csrf = await page.evaluate(async () => ((await (await fetch('/console/session')).json()) as { csrf: string }).csrf);
    const seen = await page.evaluate(
      async ({ id, token }) => {
        const detail = (await fetch(`/api/messages/${id}`)).status;
        const worklist = (await fetch('/api/worklist?partner=other-cp')).status;
        const done = (
          await fetch(`/api/worklist/${id}/follow-up`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-csrf-token': token },
            body: '{}',
          })
        ).status;
        const overview = (await fetch('/api/console/overview')).status;
        return { detail, worklist, done, overview };
      },
      { id: other.id, token: csrf },
    );
    expect(seen).toEqual({ detail: 404, worklist: 403, done: 404, overview: 403 });
    // The other CP sees its own member and not ours.
    const theirs = (await (await api(OTHER_KEY, 'GET', '/api/worklist')).json()) as { items: { patient: { name: string } }[] };
    expect(theirs.items.map((i) => i.patient.name)).toEqual(['OTHERSON, PERCY Q']);
    expect(cspViolations).toEqual([]);
  });

  it('an admin sees the roster: imports with row errors by line, and a member’s attributions and consents', async () => {
    const admin = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    admin.on('request', (r) => urls.push(r.url()));
    await admin.goto(base);
    await admin.getByLabel('API key').fill(TEST_ADMIN_KEY);
    await admin.getByRole('button', { name: 'Sign in' }).click();
    await admin.getByRole('link', { name: 'Roster' }).click();
    await admin.getByRole('button', { name: 'roster-20240601.txt' }).click();
    await admin.getByRole('heading', { name: /Row errors and warnings/ }).waitFor();
    await admin.locator('.panel td.num', { hasText: '4' }).first().waitFor();
    await screenshot(admin, 'roster');
    await admin.getByRole('tab', { name: 'Member' }).click();
    await admin.getByLabel('Member identifier').fill('MA123456789');
    await admin.getByRole('button', { name: 'Find' }).click();
    await admin.getByRole('heading', { name: 'Attribution history' }).waitFor();
    await screenshot(admin, 'roster-member');
    await admin.getByRole('link', { name: 'Worklist' }).click();
    await admin.getByLabel('Community partner').selectOption('other-cp');
    await admin.locator('table.worklist tbody tr', { hasText: 'OTHERSON' }).waitFor();
    await admin.close();
    // No member identifier or name ever reached a URL.
    expect(urls.filter((u) => /MA123456789|MA987654321|MRN1001|RIVERA|OTHERSON/i.test(u))).toEqual([]);
  });
});
