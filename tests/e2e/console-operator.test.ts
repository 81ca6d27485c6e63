/**
 * The console in a real browser (Debian's Chromium through playwright-core), operator side: sign
 * in with an API key, watch messages arrive, search for one, open it (audited) and replay it,
 * requeue a dead letter, and sign out. Checks the session cookie, the CSRF token, the CSP and
 * that no patient data reaches a URL. Saves a screenshot of each page to docs/screenshots/.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hl7Message } from '../../src/hl7v2/index.js';
import { MllpClient } from '../../src/mllp/client.js';
import { chromiumSkipReason, launchChromium, screenshot } from '../helpers/browser.js';
import { adtMessage, eventually, seedPastMemberFile, startTestGateway, TEST_ADMIN_HASH, TEST_ADMIN_KEY } from '../helpers/gateway.js';
import { startWebhookStub, type WebhookStub } from '../helpers/webhook-stub.js';

const SECRET = 'console-e2e-secret-0123456789';
const OPERATOR_KEY = 'console-operator-key-0123456789';
const sha256 = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;
const skip = chromiumSkipReason();

describe.skipIf(skip !== null)('console, operator pages in Chromium', () => {
  let hook: WebhookStub;
  let broken: WebhookStub;
  let gw: Awaited<ReturnType<typeof startTestGateway>>;
  let client: MllpClient;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  const urls: string[] = [];
  const cspViolations: string[] = [];

  const dataDir = mkdtempSync(join(tmpdir(), 'cb-console-'));

  beforeAll(async () => {
    process.env.CAREBRIDGE_CONSOLE_TRAFFIC_MS = '1000';
    // The ACO's daily member file last came three days ago: the overview shows it missing, in red.
    mkdirSync(join(dataDir, 'aco-drop'));
    await seedPastMemberFile(dataDir, 'example-aco', 'aco-members', new Date(Date.now() - 3 * 86_400_000));
    hook = await startWebhookStub({ secret: SECRET });
    broken = await startWebhookStub({ secret: SECRET });
    gw = await startTestGateway({
      webhookUrl: hook.url,
      webhookSecret: SECRET,
      dataDir,
      extra: {
        sources: [
          { id: 'mllp-in', type: 'mllp', host: '127.0.0.1', port: 0, partner: 'example-aco' },
          { id: 'http-in', type: 'http' },
          {
            id: 'aco-members',
            type: 'directory',
            partner: 'example-aco',
            path: join(dataDir, 'aco-drop'),
            format: 'member-csv',
            poll: { intervalSeconds: 3600 },
            expectedDaily: { by: '06:00', timeZone: 'America/New_York' },
          },
        ],
        destinations: [
          { id: 'hook', type: 'webhook', url: hook.url, secret: SECRET, backoff: { baseMs: 50, maxMs: 200 } },
          { id: 'ehr-feed', type: 'webhook', url: broken.url, secret: SECRET, maxAttempts: 1, backoff: { baseMs: 50, maxMs: 200 } },
        ],
        routes: [
          { id: 'adt-to-hook', match: { events: ['A01', 'A02', 'A03', 'A04'] }, to: ['hook'] },
          { id: 'updates-to-ehr', match: { events: ['A08'] }, to: ['ehr-feed'] },
        ],
        apiKeys: [
          { id: 'ops-admin', hash: TEST_ADMIN_HASH, partners: ['*'] },
          { id: 'night-operator', hash: sha256(OPERATOR_KEY), partners: ['*'], role: 'operator' },
        ],
      },
    });
    base = `http://127.0.0.1:${gw.gateway.ports.http}`;
    client = new MllpClient({ host: '127.0.0.1', port: gw.gateway.ports['mllp-in'] });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.on('request', (r) => urls.push(r.url()));
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
  }, 60_000);

  afterAll(async () => {
    delete process.env.CAREBRIDGE_CONSOLE_TRAFFIC_MS;
    await browser?.close();
    await client?.close();
    await gw?.stop();
    await hook?.close();
    await broken?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const send = async (text: string) => Hl7Message.parse(await client.send(Buffer.from(text, 'latin1'))).get('MSA-1');

  it('serves the console with a Content-Security-Policy and answers the API without a session with 401', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(res.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    expect(await res.text()).toMatch(/<div id="app">/);
    expect((await fetch(`${base}/api/console/overview`)).status).toBe(401);
  });

  it('signs in with an API key into an httpOnly SameSite=Strict session cookie', async () => {
    await page.goto(base);
    await page.getByLabel('API key').fill('not-a-key-of-this-gateway');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'not known' }).waitFor();
    await screenshot(page, 'sign-in');
    await page.getByLabel('API key').fill(TEST_ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'carebridge_session', httpOnly: true, sameSite: 'Strict' });
    // An action without the CSRF token is refused even with the session cookie.
    const status = await page.evaluate(async () => (await fetch('/api/destinations/hook/requeue-dead', { method: 'POST' })).status);
    expect(status).toBe(403);
  });

  it('watches messages arrive on the Messages page and on the Overview', async () => {
    await page.getByRole('link', { name: 'Messages' }).click();
    await page.getByRole('heading', { name: 'Messages' }).waitFor();
    for (let i = 1; i <= 6; i++)
      expect(await send(adtMessage(`CONSOLE-${i}`, { mrn: `MRN-CONSOLE-${i}`, event: i % 2 ? 'A01' : 'A03' }))).toBe('AA');
    // Live: the page polls; the newest message shows up without a reload.
    await page.getByRole('cell', { name: 'CONSOLE-6' }).waitFor({ timeout: 20_000 });
    await screenshot(page, 'messages');
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.locator('figure.chart', { hasText: 'mllp-in' }).waitFor();
    await eventually(
      async () => /received [1-9]/.test((await page.locator('figure.chart', { hasText: 'mllp-in' }).textContent()) ?? ''),
      20_000,
      250,
    );
    await page.getByRole('rowheader', { name: 'hook' }).waitFor();
    // The missing daily file: its row is marked bad and says since when.
    const fileRow = page.locator('tr', { hasText: 'aco-members' });
    await fileRow.getByText(/missing since/).waitFor();
    expect(await fileRow.getAttribute('class')).toContain('row-bad');
    expect(
      await fileRow
        .locator('td')
        .first()
        .evaluate((td) => (globalThis as any).getComputedStyle(td).backgroundColor),
    ).not.toMatch(/^rgba?\(255, 255, 255|^rgba\(0, 0, 0, 0\)/);
    await screenshot(page, 'overview');
  });

  it('searches for a message, opens it (audited) and replays it', async () => {
    await page.getByRole('link', { name: 'Messages' }).click();
    await page.getByLabel('Patient identifier').fill('MRN-CONSOLE-3');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('cell', { name: 'CONSOLE-3' }).waitFor();
    await expect.poll(async () => page.locator('table.messages tbody tr').count()).toBe(1);
    await page.locator('table.messages tbody tr a').first().click();
    await page.getByRole('heading', { name: 'Message CONSOLE-3' }).waitFor();
    // Hover a field: its name and position from the v2 definitions.
    await page.locator('[data-field="PID-3"]').hover();
    await page.locator('.field-info', { hasText: 'PID-3 Patient Identifier List' }).waitFor();
    await page.locator('.json-type', { hasText: 'Bundle' }).first().waitFor();
    await page.getByText('route adt-to-hook').waitFor();
    await screenshot(page, 'message');
    const messageId = decodeURIComponent(page.url().split('#/messages/')[1]!);
    const audit = await gw.gateway.store.listAudit({ subjectType: 'message', subjectId: messageId });
    expect(audit.items.map((a) => [a.action, a.actor])).toContainEqual(['api.message.read', 'ops-admin']);

    await page.getByRole('button', { name: 'Replay' }).click();
    await page.getByRole('status').filter({ hasText: 'Replayed as a new message' }).waitFor();
    await page.getByRole('heading', { name: 'Replays' }).waitFor();
    await eventually(async () =>
      (await gw.gateway.store.searchMessages({ controlId: 'CONSOLE-3' })).items.some((m) => m.replayOf === messageId),
    );
  });

  it('requeues a dead letter from the Dead letters page', async () => {
    broken.failNext(1, { kind: 'status', status: 500 });
    expect(await send(adtMessage('CONSOLE-UPDATE', { event: 'A08' }))).toBe('AA');
    await eventually(
      async () => (await gw.gateway.store.listDeliveries({ destination: 'ehr-feed', status: 'dead' })).items.length === 1,
      30_000,
    );
    await page.getByRole('link', { name: 'Dead letters' }).click();
    await page.locator('table.dead-letters tbody tr', { hasText: 'ehr-feed' }).waitFor();
    await screenshot(page, 'dead-letters');
    await page.locator('table.dead-letters tbody tr', { hasText: 'ehr-feed' }).getByRole('button', { name: 'Requeue' }).click();
    await page.getByRole('status').filter({ hasText: 'Requeued 1 dead letter to ehr-feed' }).waitFor();
    await eventually(() => broken.accepted.length === 1, 30_000);
  });

  it('shows the roster and the configuration read-only, secrets left out', async () => {
    await page.getByRole('link', { name: 'Roster' }).click();
    await page.getByRole('tab', { name: 'Imports' }).waitFor();
    await page.getByRole('link', { name: 'Configuration' }).click();
    await page.getByRole('rowheader', { name: 'ehr-feed' }).waitFor();
    expect(await page.content()).not.toContain(SECRET);
    await screenshot(page, 'configuration');
  });

  it('an operator key sees the operator pages but may not act for a partner', async () => {
    const ctx = await browser.newContext({ viewport: { width: 820, height: 1180 } }); // a tablet, portrait
    const p = await ctx.newPage();
    await p.goto(base);
    await p.getByLabel('API key').fill(OPERATOR_KEY);
    await p.getByLabel('API key').press('Enter'); // by keyboard
    await p.getByRole('heading', { name: 'Overview' }).waitFor();
    expect(await p.getByRole('link', { name: 'Worklist' }).count()).toBe(0);
    await screenshot(p, 'overview-tablet');
    const csrf = await p.evaluate(async () => ((await (await fetch('/console/session')).json()) as { csrf: string }).csrf);
    const refused = await p.evaluate(
      async (token) =>
        (
          await fetch('/api/roster/members/M1/consents', {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-csrf-token': token },
            body: '{"partnerId":"example-aco","category":"behavioral-health","granted":true}',
          })
        ).status,
      csrf,
    );
    expect(refused).toBe(403);
    await ctx.close();
  });

  it('signs out: the session ends on the server and the page asks for a key again', async () => {
    const cookie = (await context.cookies())[0]!;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    expect(await context.cookies()).toEqual([]);
    const after = await fetch(`${base}/api/console/overview`, { headers: { cookie: `${cookie.name}=${cookie.value}` } });
    expect(after.status).toBe(401);
    // No patient identifier ever reached a URL (searches are POST bodies; pages are message ids).
    expect(urls.filter((u) => /MRN-CONSOLE|DOE|19800101/.test(u))).toEqual([]);
    // Charts, styles and scripts all ran under the CSP.
    expect(cspViolations).toEqual([]);
  });
});
