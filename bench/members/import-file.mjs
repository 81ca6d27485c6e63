#!/usr/bin/env node
// @ts-check
/**
 * The whole member-file import in one process, as the gateway runs it: a roster CSV streamed
 * from disk through the member adapter (layout YAML) into Roster.importMemberFile on a fresh
 * SQLite database. Run under GNU time for peak RSS:
 *
 *   npm run build && node bench/members/gen-roster.mjs   # writes bench/out/roster-1m.csv
 *   /usr/bin/time -f '%e s %M KB' node bench/members/import-file.mjs [--file bench/out/roster-1m.csv]
 */
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
/** @param {string} name */
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const dist = resolve(opt('--dist') ?? resolve(here, '../../dist'));
const file = resolve(opt('--file') ?? resolve(here, '../out/roster-1m.csv'));
const { loadMemberLayout } = await import(pathToFileURL(resolve(dist, 'adapters/member-common/layout-loader.js')).href);
const { readMemberFile } = await import(pathToFileURL(resolve(dist, 'adapters/member-common/read-member-file.js')).href);
const { openRosterStore } = await import(pathToFileURL(resolve(dist, 'src/roster/roster-store.js')).href);

const layout = loadMemberLayout({ file: resolve(opt('--layout') ?? resolve(here, 'roster-layout.yaml')) });
const dir = mkdtempSync(join(tmpdir(), 'cb-import-'));
const roster = await openRosterStore(
  `sqlite:${join(dir, 'roster.db')}`,
  opt('--chunk-target-ms') ? { chunkTargetMs: Number(opt('--chunk-target-ms')) } : {},
);
// Hash in a streaming pass, as the SFTP poller does before handing the file over.
const hash = createHash('sha256');
for await (const chunk of createReadStream(file)) hash.update(chunk);
// How long the import holds the event loop at a time: what MLLP ACKs in the same process would wait.
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
const started = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
const result = await roster.importMemberFile({
  partnerId: 'example-aco',
  fileName: 'roster-1m.csv',
  sha256: hash.digest('hex'),
  items: readMemberFile(createReadStream(file), layout),
  fileKind: 'full',
});
const wall = Number(process.hrtime.bigint() - started) / 1e9;
const cpu = process.cpuUsage(cpu0);
loopDelay.disable();
const delayMs = (/** @type {number} */ ns) => +(ns / 1e6).toFixed(1);
console.log(
  JSON.stringify({
    wallSeconds: +wall.toFixed(1),
    cpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(1),
    rows: result.rows,
    applied: result.applied,
    errors: result.errors,
    added: result.added,
    rowsPerSecond: Math.round(result.rows / wall),
    eventLoopDelayMs: { p50: delayMs(loopDelay.percentile(50)), p99: delayMs(loopDelay.percentile(99)), max: delayMs(loopDelay.max) },
  }),
);
await roster.close();
if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
void readFileSync;
