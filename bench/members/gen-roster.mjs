#!/usr/bin/env node
// @ts-check
/**
 * Deterministic generator of a member (roster) CSV for the member-import benchmark, in the
 * shape of an ACO's daily assignment file (columns of bench/members/roster-layout.yaml).
 *
 *   node bench/members/gen-roster.mjs [--rows 1000000] [--seed 7] [--out bench/out/roster-1m.csv]
 *
 * Same rows + seed => byte-identical file. RFC 4180 quoting where needed: ~6 % of names carry a
 * comma ("SMITH, JR"), ~1 % of addresses a quoted line break, some values quotes ("" escapes).
 * ~0.1 % of rows are deliberately bad (an impossible date or a missing member id) so the error
 * path is timed too. Lines end in CRLF, as Windows exports do. Everything is invented.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRng } from '../lib/prng.mjs';
import * as V from '../lib/adt-vocab.mjs';

export const DEFAULT_ROWS = 1_000_000;
export const DEFAULT_SEED = 7;
export const DEFAULT_OUT = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'out', 'roster-1m.csv');

export const HEADER = [
  'MEMBER_ID',
  'LAST_NAME',
  'FIRST_NAME',
  'MIDDLE_NAME',
  'DOB',
  'GENDER',
  'ADDRESS_1',
  'ADDRESS_2',
  'CITY',
  'STATE',
  'ZIP',
  'PHONE',
  'CP_ID',
  'PCP_NPI',
  'ASSIGNMENT_START',
  'ASSIGNMENT_END',
  'STATUS',
  'ACO_MEMBER_ID',
  'MRN',
  'SSN',
  'BH_CONSENT',
  'SUD_CONSENT',
];

/** RFC 4180: quote when the value holds a comma, quote or line break. @param {string} v */
const csv = (v) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
/** @param {number} n @param {number} width */
const pad = (n, width) => String(n).padStart(width, '0');

/** A valid NPI: 9 digits + the Luhn check digit over "80840" + them. @param {string} nine */
export function npiWithCheckDigit(nine) {
  let sum = 24;
  for (let i = 8; i >= 0; i--) {
    let d = Number(nine[i]);
    if ((8 - i) % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return nine + String((10 - (sum % 10)) % 10);
}

/**
 * @param {{ rows?: number; seed?: number }} [options]
 * @returns {Generator<string>} the header line, then one line per row (each ends in CRLF)
 */
export function* generateRosterLines({ rows = DEFAULT_ROWS, seed = DEFAULT_SEED } = {}) {
  const rng = createRng(seed);
  const pcps = Array.from({ length: 400 }, () => npiWithCheckDigit(`1${rng.digits(8)}`));
  yield HEADER.join(',') + '\r\n';
  for (let i = 0; i < rows; i++) {
    const female = rng.chance(0.52);
    const [city, zipPrefix] = rng.pick(V.CITIES);
    const start = new Date(Date.UTC(2023, 0, 1) + rng.int(0, 1000) * 86_400_000);
    const dob = new Date(Date.UTC(1930, 0, 1) + rng.int(0, 33_000) * 86_400_000);
    const termed = rng.chance(0.03);
    let last = rng.pick(V.FAMILY_NAMES);
    if (rng.chance(0.06)) last += `, ${rng.pick(V.NAME_SUFFIXES)}`;
    let addr2 = rng.chance(0.3) ? `APT ${rng.int(1, 40)}${rng.pick(['', 'A', 'B'])}` : '';
    if (rng.chance(0.01)) addr2 = `C/O "${rng.pick(V.FAMILY_NAMES)}"\r\nREAR DOOR`;
    let dobText = `${pad(dob.getUTCMonth() + 1, 2)}/${pad(dob.getUTCDate(), 2)}/${dob.getUTCFullYear()}`;
    let memberId = String(100_000_000_000 + i);
    const bad = rng.next();
    if (bad < 0.0005) dobText = `02/30/${dob.getUTCFullYear()}`;
    else if (bad < 0.001) memberId = '';
    const row = [
      memberId,
      last,
      rng.pick(female ? V.FEMALE_GIVEN : V.MALE_GIVEN),
      rng.chance(0.4) ? String.fromCharCode(65 + rng.int(0, 25)) : '',
      dobText,
      rng.weighted([
        ['F', 52],
        ['M', 47],
        ['U', 1],
      ]),
      `${rng.int(1, 999)} ${rng.pick(V.STREETS)}`,
      addr2,
      city,
      'MA',
      `${zipPrefix}${pad(rng.int(0, 99), 2)}`,
      `${rng.pick(V.AREA_CODES)}-555-${pad(rng.int(0, 9999), 4)}`,
      rng.pick(V.COMMUNITY_PARTNERS),
      rng.pick(pcps),
      start.toISOString().slice(0, 10).replace(/-/g, ''),
      termed ? `${pad(rng.int(1, 12), 2)}/28/2026` : '12/31/9999',
      termed ? 'T' : 'A',
      `A${rng.digits(9)}`,
      rng.chance(0.7) ? `MRN${rng.digits(8)}` : '',
      rng.chance(0.5) ? rng.digits(9) : '',
      rng.weighted([
        ['Y', 20],
        ['N', 10],
        ['', 70],
      ]),
      rng.weighted([
        ['Y', 5],
        ['N', 5],
        ['', 90],
      ]),
    ];
    yield row.map(csv).join(',') + '\r\n';
  }
}

/** @param {{ rows?: number; seed?: number; out?: string }} [options] */
export function writeRosterFile({ rows = DEFAULT_ROWS, seed = DEFAULT_SEED, out = DEFAULT_OUT } = {}) {
  mkdirSync(dirname(out), { recursive: true });
  const fd = openSync(out, 'w');
  try {
    let batch = '';
    for (const line of generateRosterLines({ rows, seed })) {
      batch += line;
      if (batch.length > 1 << 20) {
        writeSync(fd, batch);
        batch = '';
      }
    }
    writeSync(fd, batch);
  } finally {
    closeSync(fd);
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  /** @param {string} name */
  const opt = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const rows = Number(opt('--rows') ?? DEFAULT_ROWS);
  const out = writeRosterFile({
    rows,
    seed: Number(opt('--seed') ?? DEFAULT_SEED),
    out: resolve(opt('--out') ?? (rows === DEFAULT_ROWS ? DEFAULT_OUT : DEFAULT_OUT.replace('1m', String(rows)))),
  });
  process.stdout.write(`${out}\n`);
}
