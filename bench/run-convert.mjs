#!/usr/bin/env node
// @ts-check
/**
 * Conversion benchmark: whole-process `carebridge convert` against two peer parsers on the same
 * generated ADT file, each run K times, interleaved, reporting medians and peak RSS.
 *
 *   node bench/run-convert.mjs [--file FILE | --count N] [--runs K] [--only id,id] [--json OUT] [--cli PATH]
 *
 * Contenders: carebridge (skipped until dist/src/cli/main.js exists), medplum, hl7-standard, and
 * split-only (a floor for context). Exit 0 when every available contender passed its check run.
 */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_COUNT, writeAdtFile } from './gen-adt.mjs';
import { checkRun, listContenders } from './lib/contenders.mjs';
import { GNU_TIME, hasGnuTime, measure } from './lib/measure.mjs';
import { markdownReport, summarize } from './lib/report.mjs';

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(benchDir, '..');

/** @param {string[]} argv */
function parseArgs(argv) {
  /** @type {{ file: string | null, count: number, runs: number, only: string[] | null, json: string | null, cli: string | undefined }} */
  const options = { file: null, count: DEFAULT_COUNT, runs: 5, only: null, json: null, cli: undefined };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`missing value for ${flag}`);
    if (flag === '--file') options.file = resolve(value);
    else if (flag === '--count') options.count = Number(value);
    else if (flag === '--runs') options.runs = Number(value);
    else if (flag === '--only') options.only = value.split(',');
    else if (flag === '--json') options.json = resolve(value);
    else if (flag === '--cli') options.cli = resolve(value);
    else throw new Error(`unknown option ${flag}`);
  }
  if (!Number.isInteger(options.count) || options.count < 1) throw new Error('--count must be a positive integer');
  if (!Number.isInteger(options.runs) || options.runs < 1) throw new Error('--runs must be a positive integer');
  return options;
}

/** Message count of an existing file: the number of MSH segments at the start of a line. @param {string} file */
async function countMessages(file) {
  const { forEachMessage } = await import('./lib/message-splitter.mjs');
  return forEachMessage(file, () => {});
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  let file = options.file;
  let messages = options.count;
  if (file) {
    if (!existsSync(file)) throw new Error(`no such file: ${file}`);
    messages = await countMessages(file);
  } else {
    const name = messages === 50_000 ? 'adt-50k.hl7' : `adt-${messages}.hl7`;
    file = join(benchDir, 'out', name);
    if (!existsSync(file)) {
      console.error(`generating ${messages} messages into ${relative(repoRoot, file)} ...`);
      writeAdtFile({ count: messages, out: file });
    }
  }
  if (!hasGnuTime()) console.error(`warning: ${GNU_TIME} missing (apt-get install time); peak RSS and CPU will be n/a`);

  const all = listContenders(repoRoot, options.cli).filter((c) => !options.only || options.only.includes(c.id));
  /** @type {import('./lib/report.mjs').ContenderResult[]} */
  const results = all.map((contender) => ({ contender, status: 'ok', note: '', runs: [] }));

  // Untimed check run of each: correctness first, and it warms the page cache.
  for (const result of results) {
    const { contender } = result;
    if (contender.unavailable) {
      Object.assign(result, { status: 'skipped', note: contender.unavailable });
      console.error(`${contender.id}: skipped, ${contender.unavailable}`);
      continue;
    }
    const verdict = contender.verify(await checkRun(contender.command(file), repoRoot), messages);
    if (verdict.ok) {
      result.note = verdict.detail;
      console.error(`${contender.id}: check ok (${verdict.detail})`);
    } else {
      Object.assign(result, { status: 'failed', note: verdict.reason });
      console.error(`${contender.id}: check FAILED, ${verdict.reason}`);
    }
  }
  const checksums = new Set(
    results.filter((r) => r.status === 'ok' && ['medplum', 'hl7-standard'].includes(r.contender.id)).map((r) => r.note),
  );
  if (checksums.size > 1) console.error('warning: medplum and hl7-standard read different field values (checksums differ)');

  // Interleaved rounds, starting each round one contender later, so drift (thermal, other load)
  // and position effects spread evenly instead of landing on one contender.
  const runnable = results.filter((r) => r.status === 'ok');
  for (let round = 0; round < options.runs; round++) {
    for (let i = 0; i < runnable.length; i++) {
      const result = runnable[(i + round) % runnable.length];
      const run = await measure(result.contender.command(file), { cwd: repoRoot });
      if (run.exitCode !== 0) {
        Object.assign(result, { status: 'failed', note: `timed run exited ${run.exitCode}: ${run.stderrTail.slice(-200)}` });
      }
      result.runs.push(run);
      console.error(
        `round ${round + 1}/${options.runs} ${result.contender.id}: ${run.wallSeconds.toFixed(2)} s, ` +
          `${run.peakRssKb === null ? 'n/a' : Math.round(run.peakRssKb / 1024)} MB`,
      );
    }
  }

  const report = markdownReport(results, {
    messages,
    fileBytes: statSync(file).size,
    runs: options.runs,
    file: relative(repoRoot, file),
  });
  console.log(report);
  if (options.json) {
    const data = results.map((r) => ({
      id: r.contender.id,
      status: r.status,
      note: r.note,
      ...(r.runs.length ? summarize(r) : {}),
      runs: r.runs.map(({ stderrTail, ...run }) => run),
    }));
    writeFileSync(options.json, JSON.stringify({ node: process.version, messages, file, results: data }, null, 2) + '\n');
  }
  return results.some((r) => r.status === 'failed') || checksums.size > 1 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`run-convert: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);
