#!/usr/bin/env node
// @ts-check
/**
 * Whole-system gateway benchmark: MLLP in → validate + convert → durable store → ACK → route →
 * queue (BullMQ on the gateway's private redis-server) → signed webhook out, on this machine.
 *
 * Three processes per run, all on 127.0.0.1:
 *   - the gateway: `node <cli> start --config <generated>` (the dist build; SQLite under a fresh
 *     temp dataDir, private redis-server, one MLLP listener, one webhook destination);
 *   - receiver.mjs: the webhook endpoint (verifies signatures, dedupes by Idempotency-Key);
 *   - loadgen.mjs: N MLLP connections sending M messages from gen-adt.mjs, one in flight each.
 *
 * Reports per run and as medians: ingest msg/s (ACKed / time from first send to last ACK),
 * end-to-end msg/s (M / time from first send to the last delivery at the receiver), ACK latency
 * p50/p99, delivery lag after the last ACK, CPU seconds per process. Zero loss is checked at the
 * end of every run: every message reached the receiver (distinct Bundle identifiers == M) and the
 * store has no unfinished work (API: no `received` message, no pending/retrying delivery).
 *
 *   npx tsc -p tsconfig.build.json && node bench/gateway/run.mjs [options]
 *
 * Options: --cli PATH (default dist/src/cli/main.js) --count M (20000) --connections N (16)
 * --concurrency C (webhook deliveries in flight, 16) --runs K (3) --seed S (42)
 * --cpu-prof (profile the gateway; writes bench/out/gateway-prof/, prints the top functions)
 * --json OUT (every run's numbers) --keep (keep each run's dataDir, with gateway.log)
 * --log-level L (the gateway's, default warn; info writes one line per message step to gateway.log)
 * --ingest-only (no route: measures MLLP → store → ACK → processing alone, to see what delivery costs)
 * --store-url postgres://USER@HOST:PORT/DB (the store on Postgres instead of SQLite: each run gets a
 *   fresh database created there, dropped after the run)
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from '../lib/stats.mjs';
import { freePort, procUsage, runToEnd, spawnUntil } from './lib/processes.mjs';
import { summarizeProfile } from './prof-summary.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
/** Public demo secrets (config/demo.yaml): the bench is a local, throw-away setup. */
const ADMIN_KEY = 'carebridge-demo-admin-key';
const ADMIN_HASH = 'scrypt:b6fyPcviLCcez4CEHmQYYw==:YPQUetOYkuzE0K8j4uoEdpWlkLsqZKU935KCMTJ+QSU=';
const WEBHOOK_SECRET = 'bench-webhook-secret-0123456789abcdef';

const { values } = parseArgs({
  options: {
    cli: { type: 'string', default: join(repo, 'dist', 'src', 'cli', 'main.js') },
    count: { type: 'string', default: '20000' },
    connections: { type: 'string', default: '16' },
    concurrency: { type: 'string', default: '16' },
    runs: { type: 'string', default: '3' },
    seed: { type: 'string', default: '42' },
    'cpu-prof': { type: 'boolean', default: false },
    json: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'ingest-only': { type: 'boolean', default: false },
    'store-url': { type: 'string' },
    'log-level': { type: 'string', default: 'warn' },
  },
});
const cli = resolve(values.cli);
const count = Number(values.count);
const connections = Number(values.connections);
const concurrency = Number(values.concurrency);
const runs = Number(values.runs);
const ingestOnly = values['ingest-only'];
/** A Postgres server to run the store on (a fresh database per run); default SQLite in the run's dataDir. */
const storeUrl = values['store-url'];
const profDir = join(repo, 'bench', 'out', 'gateway-prof');

if (!existsSync(cli)) {
  process.stderr.write(`gateway bench: ${cli} not found; build first: npx tsc -p tsconfig.build.json (or pass --cli)\n`);
  process.exit(1);
}

/**
 * @typedef {{ run: number, acked: number, ingestPerSec: number, deliveredPerSec: number,
 *   ackP50Ms: number, ackP99Ms: number, ackMaxMs: number, deliveryLagMs: number,
 *   resendsAbsorbed: number, gatewayCpuSec: number, gatewayPeakRssMb: number, redisCpuSec: number,
 *   receiverCpuSec: number, loadgenCpuSec: number, wallSec: number, redisCallsPerMsg: number, loadAvg1: number }} RunResult
 */

/** @param {number} run @returns {Promise<RunResult>} */
async function oneRun(run) {
  const dataDir = mkdtempSync(join(tmpdir(), 'cb-bench-gw-'));
  /** @type {(() => Promise<void>)[]} */
  const cleanup = [];
  try {
    const runStoreUrl = storeUrl ? await freshDatabase(storeUrl, `cb_bench_${process.pid}_${run}`, cleanup) : undefined;
    const receiver = spawnUntil(process.execPath, [join(here, 'receiver.mjs'), '--secret', WEBHOOK_SECRET], {
      stream: 'stdout',
      pattern: /"port"/,
      timeoutMs: 10_000,
    });
    cleanup.push(() => stop(receiver));
    const receiverPort = /** @type {{ port: number }} */ (JSON.parse(await receiver.matched)).port;

    const httpPort = await freePort();
    const mllpPort = await freePort();
    const configFile = join(dataDir, 'gateway.yaml');
    // JSON is YAML: no dependency needed to write it.
    writeFileSync(
      configFile,
      JSON.stringify(
        {
          server: { http: { host: '127.0.0.1', port: httpPort }, logLevel: values['log-level'], shutdownTimeoutMs: 10_000 },
          dataDir,
          store: { retentionDays: 0, ...(runStoreUrl ? { url: runStoreUrl } : {}) },
          sources: [{ id: 'bench-mllp', type: 'mllp', host: '127.0.0.1', port: mllpPort, maxConnectionsPerAddress: 0 }],
          destinations: [
            { id: 'receiver', type: 'webhook', url: `http://127.0.0.1:${receiverPort}/hook`, secret: WEBHOOK_SECRET, concurrency },
          ],
          routes: ingestOnly ? [] : [{ id: 'all-adt', match: { events: ['A01', 'A02', 'A03', 'A04', 'A08'] }, to: ['receiver'] }],
          apiKeys: [{ id: 'bench-admin', hash: ADMIN_HASH, partners: ['*'] }],
        },
        null,
        2,
      ),
    );
    const logFd = openSync(join(dataDir, 'gateway.log'), 'a');
    const nodeFlags = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [];
    if (values['cpu-prof']) mkdirSync(profDir, { recursive: true });
    const gateway = spawnUntil(process.execPath, [...nodeFlags, cli, 'start', '--config', configFile], {
      stream: 'stderr',
      pattern: /gateway running/,
      timeoutMs: 60_000,
      stdoutFd: logFd,
      cwd: dataDir,
    });
    cleanup.push(async () => {
      await stop(gateway);
      closeSync(logFd);
    });
    await gateway.matched;
    const gatewayPid = /** @type {number} */ (gateway.child.pid);

    const loadgen = runToEnd(process.execPath, [
      join(here, 'loadgen.mjs'),
      '--port',
      String(mllpPort),
      '--connections',
      String(connections),
      '--count',
      String(count),
      '--seed',
      String(values.seed),
    ]);
    const { code, out } = await loadgen.done;
    if (code !== 0) throw new Error(`load generator failed (exit ${code}): ${out.trim()}`);
    const load = JSON.parse(out.trim().split('\n').pop() ?? '{}');

    // Delivery finishes after the last ACK: wait for the receiver to have every message.
    const receiverStats = await until(
      async () => {
        /** @type {ReceiverStats} */
        const s = await getJson(`http://127.0.0.1:${receiverPort}/stats`);
        // A refused delivery will not be retried into success (a signature scheme the receiver does not know, say): stop now.
        if (s.rejected > 0) throw new Error(`the receiver rejected ${s.rejected} deliveries`);
        return ingestOnly || s.distinctMessages >= count ? s : undefined;
      },
      Math.max(120_000, count * 20),
      `the receiver to get all ${count} messages`,
    );
    if (receiverStats.rejected > 0) throw new Error(`the receiver rejected ${receiverStats.rejected} deliveries`);
    if (!ingestOnly && receiverStats.distinctMessages !== count)
      throw new Error(`the receiver got ${receiverStats.distinctMessages} distinct messages, expected ${count}`);
    // The store records the outcome just after the receiver answered: give it a moment.
    await until(() => noUnfinishedWork(httpPort), 60_000, 'the store to have no unfinished work');
    const doneAt = ingestOnly ? Date.now() : receiverStats.lastAt;
    const stored = await getJson(`http://127.0.0.1:${httpPort}/api/messages?status=processed&limit=1000`);
    if (stored.items.length < Math.min(count, 1000)) throw new Error(`only ${stored.items.length} processed messages in the store`);

    const redisCalls = await redisCommandCount(dataDir);
    const gatewayUsage = procUsage(gatewayPid);
    const redisUsage = redisPid(dataDir) !== undefined ? procUsage(/** @type {number} */ (redisPid(dataDir))) : undefined;
    const deliveredSpanSec = (doneAt - load.startAt) / 1000;
    return {
      run,
      acked: load.acked,
      ingestPerSec: load.acked / ((load.endAt - load.startAt) / 1000),
      deliveredPerSec: ingestOnly ? NaN : count / deliveredSpanSec,
      ackP50Ms: load.p50,
      ackP99Ms: load.p99,
      ackMaxMs: load.max,
      deliveryLagMs: ingestOnly ? NaN : Math.max(0, receiverStats.lastAt - load.endAt),
      resendsAbsorbed: receiverStats.duplicates,
      gatewayCpuSec: gatewayUsage?.cpuSec ?? NaN,
      gatewayPeakRssMb: gatewayUsage?.peakRssMb ?? NaN,
      redisCpuSec: redisUsage?.cpuSec ?? NaN,
      receiverCpuSec: receiverStats.cpuSec,
      loadgenCpuSec: load.cpuSec,
      wallSec: deliveredSpanSec,
      redisCallsPerMsg: redisCalls / count,
      loadAvg1: loadavg()[0],
    };
  } finally {
    for (const c of cleanup.reverse()) await c().catch(() => {});
    if (!values.keep) rmSync(dataDir, { recursive: true, force: true });
    else process.stderr.write(`run ${run}: kept ${dataDir}\n`);
  }
}

/**
 * SIGTERM (graceful: the gateway drains and stops its Redis), SIGKILL after 30 s.
 * @param {{ child: import('node:child_process').ChildProcess, exited: Promise<unknown> }} proc
 */
async function stop(proc) {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 30_000);
  await proc.exited;
  clearTimeout(timer);
}

/** @param {string} dataDir @returns {{ pid: number, port: number } | undefined} */
function redisInfo(dataDir) {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'redis', 'carebridge-redis.pid'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** @param {string} dataDir */
const redisPid = (dataDir) => redisInfo(dataDir)?.pid;

/**
 * Commands the private Redis executed so far (INFO commandstats, summed; scripts count once): how
 * chatty the queue layer is per message.
 * @param {string} dataDir @returns {Promise<number>}
 */
function redisCommandCount(dataDir) {
  const port = redisInfo(dataDir)?.port;
  if (!port) return Promise.resolve(NaN);
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write('INFO commandstats\r\n'));
    let text = '';
    const finish = () => {
      socket.destroy();
      let calls = 0;
      for (const m of text.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)) calls += Number(m[1]);
      resolve(calls || NaN);
    };
    socket.setTimeout(2_000, finish);
    socket.on('data', (c) => {
      text += c.toString('latin1');
      const header = /^\$(\d+)\r\n/.exec(text);
      if (header && text.length >= header[0].length + Number(header[1])) finish();
    });
    socket.on('error', finish);
  });
}

/**
 * @typedef {{ accepted: number, duplicates: number, rejected: number, firstAt: number, lastAt: number,
 *   distinctKeys: number, distinctMessages: number, cpuSec: number }} ReceiverStats
 */

/** @param {string} url @returns {Promise<any>} */
async function getJson(url) {
  const res = await fetch(url, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

/** @param {number} httpPort */
async function noUnfinishedWork(httpPort) {
  const base = `http://127.0.0.1:${httpPort}`;
  for (const path of [
    '/api/messages?status=received&limit=1',
    '/api/deliveries?status=pending&limit=1',
    '/api/deliveries?status=failed-retrying&limit=1',
  ]) {
    if ((await getJson(base + path)).items.length > 0) return undefined;
  }
  return true;
}

/**
 * Polls until `probe` returns something, or fails after timeoutMs.
 * @template T @param {() => Promise<T | undefined>} probe @param {number} timeoutMs @param {string} what
 * @returns {Promise<T>}
 */
async function until(probe, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** @param {number} x @param {number} digits */
const fmt = (x, digits = 0) =>
  Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';

process.stderr.write(
  `gateway bench: ${count} messages, ${connections} MLLP connections, webhook concurrency ${concurrency}, ${runs} run(s), cli ${cli}\n`,
);
/** @type {RunResult[]} */
const results = [];
for (let run = 1; run <= runs; run++) {
  const started = Date.now();
  const r = await oneRun(run);
  results.push(r);
  process.stderr.write(
    `run ${run}: ingest ${fmt(r.ingestPerSec)} msg/s, delivered ${fmt(r.deliveredPerSec)} msg/s, ACK p50 ${fmt(r.ackP50Ms, 1)} ms p99 ${fmt(r.ackP99Ms, 1)} ms (${fmt((Date.now() - started) / 1000, 1)} s)\n`,
  );
}

const cols = /** @type {const} */ ([
  ['ingest msg/s', 'ingestPerSec', 0],
  ['end-to-end msg/s', 'deliveredPerSec', 0],
  ['ACK p50 ms', 'ackP50Ms', 1],
  ['ACK p99 ms', 'ackP99Ms', 1],
  ['ACK max ms', 'ackMaxMs', 0],
  ['delivery lag after last ACK ms', 'deliveryLagMs', 0],
  ['gateway CPU s', 'gatewayCpuSec', 1],
  ['gateway peak RSS MB', 'gatewayPeakRssMb', 0],
  ['redis CPU s', 'redisCpuSec', 1],
  ['redis commands per msg (incl. in scripts)', 'redisCallsPerMsg', 1],
  ['receiver CPU s', 'receiverCpuSec', 1],
  ['loadgen CPU s', 'loadgenCpuSec', 1],
  ['load avg (1 min) at end', 'loadAvg1', 1],
]);
const lines = [
  `| run | ${cols.map((c) => c[0]).join(' | ')} |`,
  `|---|${cols.map(() => '---:').join('|')}|`,
  ...results.map((r) => `| ${r.run} | ${cols.map(([, k, d]) => fmt(r[k], d)).join(' | ')} |`),
  `| **median** | ${cols.map(([, k, d]) => `**${fmt(median(results.map((r) => r[k])), d)}**`).join(' | ')} |`,
];
const verdict = ingestOnly
  ? `Every run ACKed ${count}/${count} messages and left no unfinished work in the store (ingest only: no route).`
  : `Zero loss: every run delivered ${count}/${count} distinct messages and left no unfinished work in the store.`;
process.stdout.write(`\n${lines.join('\n')}\n\n${verdict}\n`);
if (values.json) writeFileSync(values.json, JSON.stringify({ count, connections, concurrency, cli, results }, null, 2));

if (values['cpu-prof']) {
  const newest = readdirSync(profDir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(profDir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (newest) process.stdout.write(`\nGateway CPU profile (last run): ${newest}\n${summarizeProfile(newest, 30)}\n`);
}

/**
 * Creates `name` on the Postgres server of `serverUrl` and returns its URL; the database is dropped
 * at cleanup (after the gateway stopped: cleanup runs last-pushed first).
 * @param {string} serverUrl @param {string} name @param {(() => Promise<void>)[]} cleanup
 */
async function freshDatabase(serverUrl, name, cleanup) {
  const { default: pg } = await import('pg');
  const admin = async (/** @type {string} */ sql) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  cleanup.unshift(() => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
