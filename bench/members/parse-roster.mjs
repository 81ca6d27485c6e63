#!/usr/bin/env node
// @ts-check
/**
 * One measured process of the member-import benchmark: streams a roster file through the member
 * file reader (compiled JS under --dist) and prints a JSON summary on stdout: counts, a checksum
 * over every record's key fields (so the work cannot be skipped and two runs can be compared),
 * wall time and the process's own peak RSS.
 *
 *   node bench/members/parse-roster.mjs FILE [--dist dist] [--layout bench/members/roster-layout.yaml]
 *                                           [--no-raw] [--mode parse|read]
 *
 * --mode read only streams and decodes the bytes and counts line breaks: the I/O + decoding floor.
 */
import { createReadStream } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
/** @param {string} name */
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const VALUED = new Set(['--dist', '--layout', '--mode']);
const file = args.find((a, i) => !a.startsWith('--') && !VALUED.has(args[i - 1] ?? ''));
if (!file) {
  process.stderr.write('usage: parse-roster.mjs FILE [--dist dist] [--layout FILE] [--no-raw] [--mode parse|read]\n');
  process.exit(2);
}
const dist = resolve(opt('--dist') ?? resolve(here, '..', '..', 'dist'));
const mode = opt('--mode') ?? 'parse';

/** FNV-1a over a string, folded into a running 32-bit hash. @param {number} h @param {string} s */
function fnv(h, s) {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

const started = process.hrtime.bigint();
const input = createReadStream(resolve(file), { highWaterMark: 1 << 20 });
const summary = { mode, records: 0, terminations: 0, errors: 0, warnings: 0, identifiers: 0, consents: 0, checksum: 2166136261, lines: 0 };

if (mode === 'read') {
  const { decodeText } = await import(pathToFileURL(resolve(dist, 'adapters/member-common/decode-text.js')).href);
  for await (const text of decodeText(input, 'utf-8')) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) summary.lines++;
  }
} else {
  const { loadMemberLayout } = await import(pathToFileURL(resolve(dist, 'adapters/member-common/layout-loader.js')).href);
  const { readMemberFile } = await import(pathToFileURL(resolve(dist, 'adapters/member-common/read-member-file.js')).href);
  const layout = loadMemberLayout({ file: resolve(opt('--layout') ?? resolve(here, 'roster-layout.yaml')) });
  if (args.includes('--no-raw')) layout.keepRaw = false;
  let h = summary.checksum;
  for await (const item of readMemberFile(input, layout)) {
    if (item.kind === 'record') {
      const r = item.record;
      summary.records++;
      if (r.action === 'terminate') summary.terminations++;
      summary.identifiers += r.identifiers.length;
      summary.consents += r.consent?.length ?? 0;
      h = fnv(
        h,
        `${r.line}|${r.memberId}|${r.birthDate ?? ''}|${r.attribution.cp ?? ''}|${r.attribution.start ?? ''}|${r.address?.postalCode ?? ''}`,
      );
    } else if (item.kind === 'error') {
      summary.errors++;
      h = fnv(h, `E${item.error.line}`);
    } else summary.warnings++;
  }
  summary.checksum = h;
}

const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
process.stdout.write(`${JSON.stringify({ ...summary, wallSeconds, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
