// @ts-check
// In-process A/B of the message store's hot path on SQLite, for two built trees in one process:
// acceptInbound, completeProcessingBatch (one delivery each) and the delivery side (getDelivery and
// hasEarlierUndelivered per delivery, recordDeliveryResults per batch) of N messages in batches of B,
// rounds alternated. synchronous=NORMAL, so fsync latency (the disk, not the code)
// stays out of the CPU time. The gateway benchmark is the whole story; this isolates the store.
//
//   node bench/store-batches-ab.mjs --a /path/to/base [--b .] [--messages 6000] [--batch 32] [--rounds 7]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './lib/stats.mjs';

const { values } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string', default: '.' },
    messages: { type: 'string', default: '6000' },
    batch: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '7' },
  },
});
if (!values.a) throw new Error('--a DIR (a built carebridge tree) is required');
const N = Number(values.messages);
const B = Number(values.batch);

/**
 * @typedef {{
 *   acceptInbound(b: object[]): Promise<{ id: string }[]>,
 *   completeProcessingBatch(i: object[]): Promise<unknown[]>,
 *   getDelivery(id: string): Promise<unknown>,
 *   hasEarlierUndelivered(destination: string, patientKey: string, seq: number): Promise<boolean>,
 *   recordDeliveryResults(items: object[]): Promise<boolean[]>,
 *   close(): Promise<void>,
 * }} Store
 */
/** @param {string} root @returns {Promise<(file: string) => Store>} */
async function load(root) {
  const mod = await import(pathToFileURL(resolve(root, 'dist/src/store/open-store.js')).href);
  if (mod.openSqliteStore) return (file) => mod.openSqliteStore(file, { synchronous: 'NORMAL' });
  // Trees before the shared SQL layer (cee1deb and older) open SQLite through SqliteStore.open.
  const old = await import(pathToFileURL(resolve(root, 'dist/src/store/sqlite/sqlite-store.js')).href);
  return (file) => old.SqliteStore.open(file, { synchronous: 'NORMAL' });
}

// An 8-segment raw message and a 40-entry Bundle: the sizes, not the content, matter here.
const raw = Buffer.from('MSH|^~\\&|EPIC|MGH|CB|CP|20240501083000||ADT^A01|X|P|2.5.1\rPID|1||123^^^MGH^MR||DOE^JANE\r'.repeat(8));
const fhir = JSON.stringify({
  resourceType: 'Bundle',
  entry: Array.from({ length: 40 }, (_, i) => ({ fullUrl: `urn:uuid:${i}`, resource: { resourceType: 'Patient', id: String(i) } })),
});

/** CPU µs per message: [accept, complete, deliver]. @param {(file: string) => Store} open @param {string} tag */
async function run(open, tag) {
  const dir = mkdtempSync(join(tmpdir(), 'cb-store-ab-'));
  const store = open(join(dir, 'store.db'));
  const cpu = [0, 0, 0];
  /** @param {number} phase @param {() => Promise<any>} fn */
  const timed = async (phase, fn) => {
    const t = process.cpuUsage();
    const out = await fn();
    const used = process.cpuUsage(t);
    cpu[phase] += used.user + used.system;
    return out;
  };
  for (let i = 0; i < N; i += B) {
    const batch = Array.from({ length: B }, (_, k) => ({
      sourceKind: 'mllp',
      sourceName: 'in',
      partnerId: 'p',
      sender: 'EPIC^MGH',
      controlId: `${tag}-${i + k}`,
      messageType: 'ADT',
      triggerEvent: 'A01',
      version: '2.5.1',
      dedupeKey: `EPIC^MGH|${tag}-${i + k}`,
      raw,
      identifiers: [{ system: 'urn:mrn', value: `M${i + k}` }],
    }));
    const stored = await timed(0, () => store.acceptInbound(batch));
    const completed = await timed(1, () =>
      store.completeProcessingBatch(
        stored.map((/** @type {{ id: string }} */ r) => ({
          messageId: r.id,
          outcome: {
            status: 'processed',
            fhir,
            identifiers: [],
            deliveries: [{ destination: 'hook', patientKey: `pk${r.id.slice(-3)}`, payload: fhir }],
          },
        })),
      ),
    );
    /** @type {{ id: string, seq: number, patientKey: string }[]} */
    const deliveries = completed.flatMap((/** @type {any} */ c) => c.result.deliveries);
    await timed(2, async () => {
      for (const d of deliveries) {
        await store.getDelivery(d.id);
        await store.hasEarlierUndelivered('hook', d.patientKey, d.seq);
      }
      const attempt = { startedAt: new Date(), durationMs: 3, outcome: 'success', httpStatus: 200, ackCode: null, error: null };
      await store.recordDeliveryResults(deliveries.map((d) => ({ deliveryId: d.id, attempt, next: 'delivered' })));
    });
  }
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return cpu.map((c) => c / N);
}

const sides = { a: await load(values.a), b: await load(values.b) };
for (let w = 0; w < 2; w++) {
  await run(sides.a, `wa${w}`);
  await run(sides.b, `wb${w}`);
}
/** @type {Record<'a' | 'b', number[][]>} */
const per = { a: [], b: [] };
/** @type {('a' | 'b')[][]} */
const ORDERS = [
  ['a', 'b'],
  ['b', 'a'],
];
for (let r = 0; r < Number(values.rounds); r++) {
  for (const side of ORDERS[r % 2]) per[side].push(await run(sides[side], `${side}${r}`));
}
const round1 = (/** @type {number} */ x) => Math.round(x * 10) / 10;
for (const side of ORDERS[0]) {
  const tree = side === 'a' ? values.a : values.b;
  const [accept, complete, deliver] = [0, 1, 2].map((k) => round1(median(per[side].map((p) => p[k]))));
  const total = round1(median(per[side].map((p) => p[0] + p[1] + p[2])));
  console.log(
    `${side} ${tree}: accept ${accept}, complete ${complete}, deliver ${deliver}, all ${total} µs/msg (CPU, median of ${per[side].length})`,
  );
}
