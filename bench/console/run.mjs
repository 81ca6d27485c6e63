#!/usr/bin/env node
// @ts-check
/**
 * The console on the demo, measured in Debian's Chromium (playwright-core): how long the first page
 * takes, and whether the message list stays fast with many stored messages (server-side paging).
 *
 *   npm run build && node bench/console/run.mjs [--messages 100000] [--runs 5]
 *
 * 1. Seeds a fresh SQLite store (in a temp dataDir) with N processed ADT messages, each with a
 *    patient identifier, through the store's own API (as the pipeline would leave them).
 * 2. Starts the demo (`carebridge start`, config/demo.yaml) on that dataDir, on free ports.
 * 3. Per run, in a fresh browser context (cold cache): the sign-in page, signing in to the Overview,
 *    the Messages page (first 50 of N), the next page, a search by control id and by patient
 *    identifier. Each time is from the action to the awaited element being visible.
 * 4. API times for the same lists with an API key (what the pages wait on), incl. page 100.
 * Prints medians (ms) per step.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { median } from '../lib/stats.mjs';
import { freePort } from '../gateway/lib/processes.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const { values } = parseArgs({ options: { messages: { type: 'string', default: '100000' }, runs: { type: 'string', default: '5' } } });
const N = Number(values.messages);
const RUNS = Number(values.runs);
const KEY = 'carebridge-demo-admin-key';

const { openStore } = await import(join(root, 'dist/src/store/index.js'));

function adt(i) {
  const t = `2024${String((i % 12) + 1).padStart(2, '0')}${String((i % 28) + 1).padStart(2, '0')}083000`;
  return Buffer.from(
    [
      `MSH|^~\\&|EPICADT|MGH|CAREBRIDGE|CP|${t}-0400||ADT^A0${(i % 4) + 1}^ADT_A01|SEED-${i}|P|2.5.1`,
      `EVN|A01|${t}`,
      `PID|1||MRN${i}^^^MGH^MR||DOE^JANE||19800101|F`,
      `PV1|1|I|4N^401^A^MGH|||||||||||||||VN${i}^^^MGH^VN`,
    ].join('\r') + '\r',
  );
}

async function seed(dataDir) {
  const store = await openStore(`sqlite:${join(dataDir, 'carebridge.db')}`);
  const started = Date.now();
  const base = Date.now() - N * 1000;
  for (let from = 0; from < N; from += 1000) {
    const batch = [];
    for (let i = from; i < Math.min(N, from + 1000); i++) {
      batch.push({
        receivedAt: new Date(base + i * 1000),
        sourceKind: 'mllp',
        sourceName: 'demo-mllp',
        partnerId: 'example-aco',
        sender: 'EPICADT^MGH',
        controlId: `SEED-${i}`,
        messageType: 'ADT',
        triggerEvent: `A0${(i % 4) + 1}`,
        version: '2.5.1',
        dedupeKey: `seed-${i}`,
        raw: adt(i),
        identifiers: [{ system: 'urn:oid:2.16.840.1.113883.3.1.100', value: `MRN${i}` }],
      });
    }
    const accepted = await store.acceptInbound(batch);
    await store.completeProcessingBatch(
      accepted.map((r) => ({ messageId: r.id, outcome: { status: 'processed', fhir: '{"resourceType":"Bundle"}' } })),
    );
  }
  await store.close();
  console.log(`seeded ${N} messages in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function waitReady(base) {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${base}/ready`)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error('gateway not ready');
}

const time = async (fn) => {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
};

const dataDir = mkdtempSync(join(tmpdir(), 'cb-console-bench-'));
const [httpPort, mllpPort] = [await freePort(), await freePort()];
await seed(dataDir);
const gateway = spawn(process.execPath, [join(root, 'dist/src/cli/main.js'), 'start'], {
  cwd: dataDir,
  stdio: 'ignore',
  env: {
    ...process.env,
    CAREBRIDGE_DATA_DIR: dataDir,
    CAREBRIDGE_HTTP_PORT: String(httpPort),
    CAREBRIDGE_MLLP_PORT: String(mllpPort),
    CAREBRIDGE_LOG_LEVEL: 'warn',
  },
});
const base = `http://127.0.0.1:${httpPort}`;
const browser = await chromium.launch({
  executablePath: process.env.CAREBRIDGE_CHROMIUM_BIN ?? '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
});
try {
  await waitReady(base);
  /** @type {Record<string, number[]>} */
  const steps = {};
  const record = (name, ms) => (steps[name] ??= []).push(ms);
  for (let run = 0; run < RUNS; run++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    record(
      'sign-in page (navigation → form)',
      await time(async () => {
        await page.goto(base);
        await page.getByLabel('API key').waitFor();
      }),
    );
    await page.getByLabel('API key').fill(KEY);
    record(
      'sign in → Overview with data',
      await time(async () => {
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.locator('table tbody th', { hasText: 'demo-receiver' }).waitFor();
      }),
    );
    record(
      `Messages, first 50 of ${N}`,
      await time(async () => {
        await page.getByRole('link', { name: 'Messages' }).click();
        await page.getByRole('cell', { name: `SEED-${N - 1}`, exact: true }).waitFor();
      }),
    );
    record(
      'Messages, next page',
      await time(async () => {
        await page.getByRole('button', { name: 'Older →' }).click();
        await page.getByRole('cell', { name: `SEED-${N - 51}`, exact: true }).waitFor();
      }),
    );
    const target = Math.floor(N / 3) + run;
    await page.getByLabel('Control id (MSH-10)').fill(`SEED-${target}`);
    record(
      'search by control id',
      await time(async () => {
        await page.getByRole('button', { name: 'Search' }).click();
        await page.getByRole('cell', { name: `SEED-${target}`, exact: true }).waitFor();
      }),
    );
    await page.getByLabel('Control id (MSH-10)').fill('');
    await page.getByLabel('Patient identifier').fill(`MRN${target + 7}`);
    record(
      'search by patient identifier',
      await time(async () => {
        await page.getByRole('button', { name: 'Search' }).click();
        await page.getByRole('cell', { name: `SEED-${target + 7}`, exact: true }).waitFor();
      }),
    );
    await context.close();

    const api = (path) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${KEY}` } }).then((r) => r.json());
    record('API: first page (50)', await time(() => api('/api/messages?limit=50')));
    let cursor = null;
    for (let p = 1; p < 100; p++)
      cursor = (await api(`/api/messages?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).next;
    record('API: page 100 (50)', await time(() => api(`/api/messages?limit=50&cursor=${encodeURIComponent(cursor)}`)));
    record('API: by status processed (50)', await time(() => api('/api/messages?limit=50&status=processed')));
    record('API: by sender (50)', await time(() => api('/api/messages?limit=50&sender=EPICADT%5EMGH')));
  }
  console.log(`\nconsole on the demo, ${N} stored messages, ${RUNS} runs (median ms; min–max):`);
  for (const [name, ms] of Object.entries(steps)) {
    console.log(
      `  ${name.padEnd(40)} ${median(ms).toFixed(0).padStart(6)}   (${Math.min(...ms).toFixed(0)}–${Math.max(...ms).toFixed(0)})`,
    );
  }
} finally {
  await browser.close();
  gateway.kill('SIGTERM');
  await new Promise((r) => gateway.once('exit', r));
  rmSync(dataDir, { recursive: true, force: true });
}
