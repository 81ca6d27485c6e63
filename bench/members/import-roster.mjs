#!/usr/bin/env node
// @ts-check
/**
 * Member-import benchmark: streams generated member records (the shape the member-file adapters
 * produce) into the roster's importMemberFile on SQLite, twice:
 *   day 1 - a first full file: every member is new (added events, identifiers, attributions);
 *   day 2 - the next day's full file: ~2 % change CP, ~1 % move, ~1 % are gone (terminated by
 *           absence), ~0.5 % are new; the rest are unchanged and only re-confirmed.
 * Prints one JSON line per phase (wall and CPU seconds, rows/s, counts) and the process's peak RSS, which
 * covers both phases. Records are generated while being consumed, so neither the file nor the
 * roster is ever in this process's memory: what RSS shows is the importer's.
 *
 *   npm run build && node bench/members/import-roster.mjs [--rows 1000000] [--dist dist]
 *        [--db FILE] [--chunk 1000] [--synchronous FULL|NORMAL] [--cache-mb 32] [--keep]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRng } from '../lib/prng.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
/** @param {string} name */
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const rows = Number(opt('--rows') ?? 1_000_000);
const chunkSize = Number(opt('--chunk') ?? 1000);
const synchronous = opt('--synchronous') === 'NORMAL' ? 'NORMAL' : 'FULL';
const cacheSizeMb = opt('--cache-mb') ? Number(opt('--cache-mb')) : undefined;
const dist = resolve(opt('--dist') ?? resolve(here, '..', '..', 'dist'));

const MEDICAID = 'https://www.mass.gov/masshealth/member-id';
const ACO_ID = 'https://example-aco.example.org/fhir/sid/member-id';
const MRN = 'urn:oid:2.16.840.1.113883.3.1.100';
const CPS = Array.from({ length: 40 }, (_, i) => `cp-${String(i + 1).padStart(2, '0')}`);
const FAMILY = ['SMITH', 'JOHNSON', 'WILLIAMS', 'BROWN', 'JONES', 'GARCIA', 'MILLER', 'DAVIS', 'RODRIGUEZ', 'MARTINEZ', 'NGUYEN', 'OBRIEN'];
const GIVEN = ['MARY', 'JOSE', 'LINDA', 'JAMES', 'ANA', 'DAVID', 'MARIA', 'JOHN', 'LUIS', 'SUSAN'];
const CITIES = [
  ['BOSTON', '021'],
  ['WORCESTER', '016'],
  ['SPRINGFIELD', '011'],
  ['LOWELL', '018'],
  ['BROCKTON', '023'],
];

/**
 * Member i's record on a given day: the base values come from a per-member seed, so day 2 can
 * re-create day 1's row and change only what the scenario says.
 * @param {number} i @param {1 | 2} day
 */
function record(i, day) {
  const rng = createRng(1_000_003 * (i + 1));
  const [city, zip] = rng.pick(CITIES);
  const id = String(100_000_000_000 + i);
  const roll = createRng(7 * (i + 1) + day).next();
  let cp = rng.pick(CPS);
  let street = `${rng.int(1, 999)} MAIN ST`;
  if (day === 2 && roll < 0.02) cp = CPS[(CPS.indexOf(cp) + 1) % CPS.length];
  else if (day === 2 && roll < 0.03) street = `${rng.int(1, 999)} ELM ST`;
  const identifiers = [
    { system: MEDICAID, value: id, type: 'MA' },
    { system: ACO_ID, value: `A${rng.digits(9)}` },
  ];
  if (rng.chance(0.7)) identifiers.push({ system: MRN, value: `MRN${rng.digits(8)}`, type: 'MR' });
  const bh = rng.next();
  return {
    line: i + 2,
    action: /** @type {'upsert'} */ ('upsert'),
    memberId: id,
    identifiers,
    name: { family: rng.pick(FAMILY), given: [rng.pick(GIVEN)] },
    birthDate: new Date(Date.UTC(1930, 0, 1) + rng.int(0, 33_000) * 86_400_000).toISOString().slice(0, 10),
    sex: rng.chance(0.52) ? 'female' : 'male',
    address: { line: [street], city, state: 'MA', postalCode: `${zip}${String(rng.int(0, 99)).padStart(2, '0')}` },
    phone: `617-555-${String(rng.int(0, 9999)).padStart(4, '0')}`,
    attribution: { aco: 'example-aco', cp, pcpNpi: `1${rng.digits(9)}`, start: '2024-01-01' },
    consent: bh < 0.2 ? [{ partner: cp, category: /** @type {'behavioral-health'} */ ('behavioral-health'), granted: true }] : [],
  };
}

/** @param {1 | 2} day */
async function* memberItems(day) {
  const total = day === 1 ? rows : Math.floor(rows * 1.005);
  for (let i = 0; i < total; i++) {
    // ~1 % of day 1's members are gone on day 2 (not in the file): terminated by absence.
    if (day === 2 && i < rows && createRng(13 * (i + 1)).next() < 0.01) continue;
    // ~0.1 % of rows are unusable, as in real files: reported with their line, the rest applies.
    if (createRng(17 * (i + 1) + day).next() < 0.001) {
      yield {
        kind: /** @type {'error'} */ ('error'),
        error: { line: i + 2, reason: 'column DOB: not a date in MM/DD/YYYY', memberId: String(100_000_000_000 + i) },
      };
      continue;
    }
    yield { kind: /** @type {'record'} */ ('record'), record: record(i, day) };
  }
}

const rosterModule = pathToFileURL(resolve(dist, 'src/roster/index.js')).href;
/** @type {typeof import('../../src/roster/index.js')} */
let roster;
try {
  roster = await import(rosterModule);
} catch (err) {
  process.stderr.write(`cannot load ${rosterModule} (run npm run build first): ${/** @type {Error} */ (err).message}\n`);
  process.exit(2);
}

const tempDir = opt('--db') ? null : mkdtempSync(join(tmpdir(), 'cb-roster-bench-'));
const dbFile = resolve(opt('--db') ?? join(/** @type {string} */ (tempDir), 'carebridge.db'));
const cleanup = () => {
  if (tempDir && !args.includes('--keep')) rmSync(tempDir, { recursive: true, force: true });
};
process.stdout.on('error', () => {}); // a closed pipe (| head) must not skip the cleanup
const store = await roster.openRosterStore(`sqlite:${dbFile}`, { chunkSize, sqlite: { synchronous, cacheSizeMb } });
const mb = () => Math.round(process.resourceUsage().maxRSS / 1024);
try {
  for (const [day, date] of /** @type {const} */ ([
    [1, '2024-03-01'],
    [2, '2024-03-02'],
  ])) {
    const started = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const result = await store.importMemberFile({
      partnerId: 'example-aco',
      fileName: `roster-${date}.csv`,
      sha256: `${String(day).repeat(8)}${'0'.repeat(56)}`,
      importDate: date,
      items: memberItems(day),
    });
    const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const used = process.cpuUsage(cpu);
    const cpuSeconds = Number(((used.user + used.system) / 1e6).toFixed(1));
    const { importId: _id, resolvedUnmatched: _r, ...counts } = result;
    process.stdout.write(
      `${JSON.stringify({ phase: `day ${day}`, rows: counts.rows, wallSeconds: Number(wallSeconds.toFixed(1)), cpuSeconds, rowsPerSecond: Math.round(counts.rows / wallSeconds), peakRssMbSoFar: mb(), heapMb: Math.round(process.memoryUsage().heapUsed / 2 ** 20), ...counts })}\n`,
    );
  }
  const dbMb = Math.round(statSync(dbFile).size / 2 ** 20);
  process.stdout.write(
    `${JSON.stringify({ peakRssMb: mb(), dbFileMb: dbMb, chunkSize, synchronous, cacheSizeMb: cacheSizeMb ?? 32, node: process.version })}\n`,
  );
} finally {
  await store.close();
  cleanup();
}
