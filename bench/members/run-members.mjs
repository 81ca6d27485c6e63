#!/usr/bin/env node
// @ts-check
/**
 * Member-import benchmark: streams a seeded 1M-row roster CSV through the member file reader
 * (tokenize + map every row to a MemberRecord, nothing stored) and reports wall time, rows/s and
 * peak RSS, next to a floor that only reads and decodes the bytes.
 *
 *   node bench/members/run-members.mjs [--rows 1000000] [--runs 3] [--dist dist] [--json OUT]
 *
 * Needs the compiled reader: `npm run build` (dist/), or any outDir passed with --dist, e.g.
 * `npx tsc -p tsconfig.build.json --outDir bench/out/dist` then `--dist bench/out/dist`.
 * Each contender is a whole `node` process measured by GNU time (bench/lib/measure.mjs); one
 * untimed check run first verifies counts and that both parse variants read identical records.
 */
import { execFile } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { measure } from '../lib/measure.mjs';
import { max, median, min } from '../lib/stats.mjs';
import { DEFAULT_OUT, DEFAULT_ROWS, writeRosterFile } from './gen-roster.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
/** @param {string} name */
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const rows = Number(opt('--rows') ?? DEFAULT_ROWS);
const runs = Number(opt('--runs') ?? 3);
const dist = resolve(root, opt('--dist') ?? 'dist');
const file = rows === DEFAULT_ROWS ? DEFAULT_OUT : DEFAULT_OUT.replace('1m', String(rows));

if (!existsSync(resolve(dist, 'adapters/member-common/read-member-file.js'))) {
  process.stderr.write(
    `no compiled member reader under ${relative(root, dist) || '.'}: run \`npm run build\` (or tsc --outDir DIR and pass --dist DIR)\n`,
  );
  process.exit(1);
}
if (!existsSync(file)) {
  process.stderr.write(`generating ${relative(root, file)} (${rows} rows)...\n`);
  writeRosterFile({ rows, out: file });
}

const parser = resolve(root, 'bench/members/parse-roster.mjs');
const contenders = [
  { id: 'read floor', argv: ['--mode', 'read'] },
  { id: 'parse + map (raw kept)', argv: [] },
  { id: 'parse + map (keepRaw: false)', argv: ['--no-raw'] },
];

// Check runs: counts must add up and both parse variants must read the same records.
/** @type {Record<string, any>} */
const checks = {};
for (const c of contenders) {
  const { stdout } = await promisify(execFile)(process.execPath, [parser, file, '--dist', dist, ...c.argv], {
    cwd: root,
    maxBuffer: 1 << 20,
  });
  checks[c.id] = JSON.parse(stdout);
}
const a = checks[contenders[1].id];
const b = checks[contenders[2].id];
if (a.records + a.errors !== rows || a.checksum !== b.checksum || a.records !== b.records) {
  process.stderr.write(`check failed: ${JSON.stringify(checks)}\n`);
  process.exit(1);
}

/** @type {Record<string, import('../lib/measure.mjs').Measurement[]>} */
const results = Object.fromEntries(contenders.map((c) => [c.id, []]));
for (let round = 0; round < runs; round++) {
  for (let k = 0; k < contenders.length; k++) {
    const c = contenders[(k + round) % contenders.length]; // rotate the order: spread drift evenly
    const m = await measure([process.execPath, parser, file, '--dist', dist, ...c.argv], { cwd: root });
    if (m.exitCode !== 0) {
      process.stderr.write(`${c.id} failed: ${m.stderrTail}\n`);
      process.exit(1);
    }
    results[c.id].push(m);
  }
}

const bytes = statSync(file).size;
const fmt = (/** @type {number | null} */ v, d = 2) => (v === null || !Number.isFinite(v) ? 'n/a' : v.toFixed(d));
const lines = [
  `File: ${relative(root, file)}, ${rows.toLocaleString('en-US')} rows, ${(bytes / 1e6).toFixed(1)} MB; ${a.records.toLocaleString('en-US')} records ` +
    `(${a.terminations.toLocaleString('en-US')} terminations), ${a.errors.toLocaleString('en-US')} row errors. Node ${process.version}, ${runs} runs each.`,
  '',
  '| contender | median wall (s) | min–max (s) | rows/s (median) | peak RSS MB (median / max) | CPU user+sys (s) |',
  '|---|---:|---:|---:|---:|---:|',
];
for (const c of contenders) {
  const r = results[c.id];
  const walls = r.map((m) => m.wallSeconds);
  const rss = /** @type {number[]} */ (r.map((m) => m.peakRssKb).filter((v) => v !== null)).map((v) => v / 1024);
  const cpu = /** @type {number[]} */ (r.map((m) => m.cpuSeconds).filter((v) => v !== null));
  const isFloor = c.id === 'read floor';
  lines.push(
    `| ${c.id} | ${fmt(median(walls))} | ${fmt(min(walls))}–${fmt(max(walls))} | ${isFloor ? '' : Math.round(rows / median(walls)).toLocaleString('en-US')} | ` +
      `${rss.length ? `${fmt(median(rss), 0)} / ${fmt(max(rss), 0)}` : 'n/a'} | ${cpu.length ? fmt(median(cpu)) : 'n/a'} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
const jsonOut = opt('--json');
if (jsonOut) writeFileSync(resolve(jsonOut), JSON.stringify({ rows, bytes, checks, results }, null, 2));
