#!/usr/bin/env node
// @ts-check
/**
 * Deterministic generator of realistic HL7 v2.5.1 ADT messages for the conversion benchmark.
 *
 *   node bench/gen-adt.mjs [--count 50000] [--seed 42] [--out bench/out/adt-50k.hl7] [--separator lf|cr]
 *
 * Segments end in CR; messages are separated by LF (default) or by nothing but the CR that ends the
 * last segment (--separator cr). Same count + seed + separator => byte-identical file.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRng } from './lib/prng.mjs';
import { formatDtm } from './lib/hl7-time.mjs';
import * as V from './lib/adt-vocab.mjs';

/** @typedef {import('./lib/prng.mjs').Rng} Rng */

export const DEFAULT_COUNT = 50_000;
export const DEFAULT_SEED = 42;
export const DEFAULT_OUT = resolve(dirname(fileURLToPath(import.meta.url)), 'out', 'adt-50k.hl7');

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** First message time: 2024-01-02 00:00 UTC. Fixed so output never depends on the clock. */
const START_MS = Date.UTC(2024, 0, 2);

/** Event mix of a typical hospital ADT feed to an ACO/CP. */
const EVENTS = /** @type {const} */ ([
  ['A01', 25],
  ['A02', 10],
  ['A03', 25],
  ['A04', 25],
  ['A08', 15],
]);
const STRUCTURE = { A01: 'ADT_A01', A02: 'ADT_A02', A03: 'ADT_A03', A04: 'ADT_A01', A08: 'ADT_A01' };

/** Escapes text for an HL7 field with the default delimiters |^~\&. @param {string} text */
export function escapeHl7(text) {
  return text.replace(/\\/g, '\\E\\').replace(/\|/g, '\\F\\').replace(/\^/g, '\\S\\').replace(/&/g, '\\T\\').replace(/~/g, '\\R\\');
}

/**
 * Joins parts with `sep`, dropping trailing empty ones as most senders do.
 * @param {(string | undefined)[]} parts @param {string} sep
 */
function joinTrimmed(parts, sep) {
  let end = parts.length;
  while (end > 0 && (parts[end - 1] === '' || parts[end - 1] === undefined)) end--;
  return parts
    .slice(0, end)
    .map((p) => p ?? '')
    .join(sep);
}
/** @param {...(string | undefined)} parts */
const comp = (...parts) => joinTrimmed(parts, '^');
/** @param {...(string | undefined)} parts */
const sub = (...parts) => joinTrimmed(parts, '&');
/** @param {(string | undefined | false)[]} parts */
const reps = (parts) => parts.filter((p) => typeof p === 'string' && p !== '').join('~');
/** A segment from fields 1..n (index 0 of `fields` is field 1). @param {string} name @param {(string | undefined)[]} fields */
const segment = (name, fields) => joinTrimmed([name, ...fields], '|');

/** @param {Rng} rng @param {number} utcMs */
function dtm(rng, utcMs, precision = /** @type {'minute' | 'second'} */ ('second')) {
  // ~10 % of timestamps come without an offset (local time of the sender).
  return formatDtm(utcMs, { precision, offset: !rng.chance(0.1) });
}

/** @param {Rng} rng @param {string} use @param {string} equipment */
function phone(rng, use, equipment) {
  return comp('', use, equipment, '', '1', rng.pick(V.AREA_CODES), rng.digits(7));
}

/** @typedef {ReturnType<typeof doctor>} Doctor */
/** @param {Rng} rng */
function doctor(rng) {
  const female = rng.chance(0.5);
  return {
    npi: rng.digits(10),
    family: rng.pick(V.FAMILY_NAMES),
    given: rng.pick(female ? V.FEMALE_GIVEN : V.MALE_GIVEN),
    degree: rng.pick(['MD', 'MD', 'DO', 'NP', 'PA']),
  };
}
/** XCN with an NPI in the CMS NPI OID. @param {Doctor} d */
const xcn = (d) =>
  comp(
    d.npi,
    escapeHl7(d.family),
    escapeHl7(d.given),
    '',
    '',
    '',
    d.degree,
    '',
    sub('NPI', '2.16.840.1.113883.4.6', 'ISO'),
    'L',
    '',
    '',
    'NPI',
  );

/** @param {Rng} rng @param {number} nowMs */
function newPatient(rng, nowMs) {
  const sex = rng.weighted([
    ['F', 52],
    ['M', 47],
    ['U', 1],
  ]);
  const female = sex === 'F';
  const [city, zipPrefix] = rng.pick(V.CITIES);
  const ageYears = rng.int(0, 94);
  return {
    facility: rng.pick(V.FACILITIES),
    mrn: rng.digits(rng.int(7, 8)),
    medicaidId: rng.chance(0.75) ? '1' + rng.digits(11) : undefined,
    ssn: rng.chance(0.35) ? `${rng.int(100, 899)}-${rng.int(10, 99)}-${rng.int(1000, 9999)}` : undefined,
    empi: rng.chance(0.3) ? 'E' + rng.digits(9) : undefined,
    family: rng.pick(V.FAMILY_NAMES),
    given: rng.pick(female ? V.FEMALE_GIVEN : V.MALE_GIVEN),
    middle: rng.chance(0.6) ? String.fromCharCode(65 + rng.int(0, 25)) : '',
    suffix: !female && rng.chance(0.05) ? rng.pick(V.NAME_SUFFIXES) : '',
    maiden: female && rng.chance(0.15) ? rng.pick(V.FAMILY_NAMES) : '',
    sex,
    dob: formatDtm(nowMs - ageYears * 365.25 * DAY - rng.int(0, 364) * DAY, { precision: 'date', offset: false }),
    races: rng.chance(0.05) ? [rng.weighted(V.RACES), rng.weighted(V.RACES)] : [rng.weighted(V.RACES)],
    ethnicity: rng.weighted(V.ETHNICITIES),
    street: `${rng.int(1, 999)} ${rng.pick(V.STREETS)}`,
    unit: rng.chance(0.35) ? `APT ${rng.int(1, 40)}${rng.pick(['', 'A', 'B'])}` : '',
    city,
    zip: zipPrefix + rng.digits(2).padStart(2, '0'),
    mailing: rng.chance(0.08) ? `PO BOX ${rng.int(10, 9999)}` : '',
    homePhone: phone(rng, 'PRN', 'PH'),
    cellPhone: rng.chance(0.6) ? phone(rng, 'PRN', 'CP') : '',
    email: rng.chance(0.3) ? `member${rng.digits(6)}@example.org` : '',
    workPhone: rng.chance(0.2) ? phone(rng, 'WPN', 'PH') : '',
    language: rng.weighted(V.LANGUAGES),
    marital: ageYears < 18 ? ['S', 'Single'] : rng.weighted(V.MARITAL),
    pcp: rng.chance(0.7) ? { practice: rng.pick(V.PCP_PRACTICES), orgId: rng.digits(6), doctor: doctor(rng) } : undefined,
    nextOfKin: Array.from(
      {
        length: rng.weighted([
          [0, 25],
          [1, 55],
          [2, 20],
        ]),
      },
      () => ({
        family: rng.chance(0.6) ? '' : rng.pick(V.FAMILY_NAMES),
        given: rng.pick(rng.chance(0.5) ? V.FEMALE_GIVEN : V.MALE_GIVEN),
        relation: rng.pick(V.RELATIONSHIPS),
        phone: phone(rng, 'PRN', 'PH'),
      }),
    ),
    aco: rng.chance(0.8) ? rng.pick(V.ACOS) : undefined,
  };
}

/** @param {Rng} rng @param {ReturnType<typeof newPatient>} patient @param {number} admitMs @param {string} patientClass */
function newEncounter(rng, patient, admitMs, patientClass) {
  const unit = patientClass === 'E' ? V.UNITS[0] : rng.pick(V.UNITS.slice(patientClass === 'O' ? 6 : 1));
  return {
    patient,
    patientClass,
    visitNumber: rng.digits(10),
    account: rng.digits(9),
    admitMs,
    unit,
    room: String(rng.int(100, 599)),
    bed: rng.pick(['A', 'B', 'C', '1', '2']),
    admitType: patientClass === 'E' ? 'E' : rng.pick(['E', 'U', 'EL', 'EL', 'N']),
    admitSource: patientClass === 'E' ? '7' : rng.pick(['1', '2', '4', '7', '8']),
    attending: doctor(rng),
    referring: rng.chance(0.4) ? doctor(rng) : undefined,
    diagnoses: Array.from(
      {
        length: rng.weighted([
          [1, 60],
          [2, 30],
          [3, 10],
        ]),
      },
      () => rng.pick(V.DIAGNOSES),
    ),
    insured: rng.chance(0.5),
    /** @type {[string, string] | undefined} set when the stay ends (A03) */
    disposition: undefined,
  };
}

/** @typedef {ReturnType<typeof newEncounter>} Encounter */
/**
 * Builds one message; `seq` (0-based) makes MSH-10 unique. Returns segments joined by CR with a final CR.
 * @param {Rng} rng @param {number} seq @param {number} nowMs @param {keyof typeof STRUCTURE} event
 * @param {Encounter} enc @param {string | undefined} previousLocation
 */
function buildMessage(rng, seq, nowMs, event, enc, previousLocation) {
  const p = enc.patient;
  const [facCode, facOid, , sendingApp] = p.facility;
  const hd = sub(facCode, facOid, 'ISO');
  const isDischarge = event === 'A03';
  const dischargeMs = isDischarge ? nowMs - rng.int(0, 30) * MINUTE : 0;
  const segs = [];

  segs.push(
    'MSH|^~\\&|' +
      joinTrimmed(
        [
          sendingApp,
          hd,
          'CAREBRIDGE',
          'CP_GATEWAY',
          dtm(rng, nowMs),
          '',
          comp('ADT', event, STRUCTURE[event]),
          `${facCode}${String(seq + 1).padStart(9, '0')}`,
          'P',
          '2.5.1',
          '',
          '',
          'AL',
          'NE',
          'USA',
        ],
        '|',
      ),
  );
  segs.push(
    segment('EVN', [
      event,
      dtm(rng, nowMs),
      '',
      '',
      comp(`U${rng.digits(5)}`, 'REGISTRAR', 'ADT', '', '', '', '', '', facCode),
      dtm(rng, nowMs - rng.int(0, 20) * MINUTE),
      comp(facCode, facOid, 'ISO'),
    ]),
  );

  const ids = reps([
    comp(p.mrn, '', '', hd, 'MR', facCode),
    p.medicaidId && comp(p.medicaidId, '', '', sub('MAMMIS', '2.16.840.1.113883.3.9002', 'ISO'), 'MA'),
    p.empi && comp(p.empi, '', '', 'ACO_EMPI', 'PI'),
    p.ssn && comp(p.ssn, '', '', 'SSA', 'SS'),
  ]);
  const names = reps([
    comp(escapeHl7(p.family), escapeHl7(p.given), p.middle, p.suffix, '', '', 'L'),
    p.maiden && comp(escapeHl7(p.maiden), escapeHl7(p.given), '', '', '', '', 'M'),
  ]);
  const address = reps([
    comp(p.street, p.unit, p.city, 'MA', p.zip, 'USA', 'H'),
    p.mailing && comp(p.mailing, '', p.city, 'MA', p.zip, 'USA', 'M'),
  ]);
  const homeContacts = reps([p.homePhone, p.cellPhone, p.email && comp('', 'NET', 'Internet', p.email)]);
  const deceased = isDischarge && enc.disposition?.[0] === '20';
  segs.push(
    segment('PID', [
      '1',
      '',
      ids,
      '',
      names,
      p.maiden ? escapeHl7(rng.pick(V.FAMILY_NAMES)) : '',
      p.dob,
      p.sex,
      '',
      reps(p.races.map(([code, text]) => comp(code, text, 'CDCREC'))),
      address,
      '',
      homeContacts,
      p.workPhone,
      comp(p.language[0], p.language[1], 'ISO6391'),
      comp(p.marital[0], p.marital[1], 'HL70002'),
      '',
      comp(enc.account, '', '', hd, 'AN'),
      '',
      '',
      '',
      comp(p.ethnicity[0], p.ethnicity[1], 'CDCREC'),
      '',
      '',
      '',
      '',
      '',
      '',
      deceased ? formatDtm(dischargeMs, { precision: 'minute', offset: true }) : '',
      deceased ? 'Y' : '',
    ]),
  );
  if (p.pcp) {
    segs.push(segment('PD1', ['', '', comp(escapeHl7(p.pcp.practice), 'L', p.pcp.orgId), xcn(p.pcp.doctor)]));
  }
  if (event !== 'A02') {
    p.nextOfKin.forEach((k, i) => {
      segs.push(
        segment('NK1', [
          String(i + 1),
          comp(escapeHl7(k.family || p.family), escapeHl7(k.given), '', '', '', '', 'L'),
          comp(k.relation[0], k.relation[1], 'HL70063'),
          comp(p.street, p.unit, p.city, 'MA', p.zip, 'USA', 'H'),
          k.phone,
          '',
          comp('EC', 'Emergency Contact', 'HL70131'),
        ]),
      );
    });
  }

  const [pointOfCare, unitName, service] = enc.unit;
  const location = comp(escapeHl7(pointOfCare), enc.room, enc.bed, hd, '', 'N', '', '', escapeHl7(unitName));
  const pv1 = Array(45).fill('');
  pv1[0] = '1';
  pv1[1] = enc.patientClass;
  pv1[2] = location;
  pv1[3] = enc.admitType;
  pv1[5] = previousLocation ?? '';
  pv1[6] = xcn(enc.attending);
  pv1[7] = enc.referring ? xcn(enc.referring) : '';
  pv1[9] = service;
  pv1[13] = enc.admitSource;
  pv1[16] = xcn(enc.attending);
  pv1[17] = enc.patientClass === 'I' ? 'IP' : enc.patientClass === 'E' ? 'ER' : 'OP';
  pv1[18] = comp(enc.visitNumber, '', '', hd, 'VN');
  pv1[19] = 'MCD';
  if (isDischarge) {
    const [code, text] = enc.disposition ?? ['01', 'Discharged to home or self care'];
    pv1[35] = comp(code, text, 'HL70112');
    pv1[36] = code === '03' ? comp('SNF', 'Skilled Nursing Facility') : '';
  }
  pv1[38] = facCode;
  pv1[43] = dtm(rng, enc.admitMs);
  pv1[44] = isDischarge ? dtm(rng, dischargeMs) : '';
  segs.push(segment('PV1', pv1));

  if (rng.chance(0.8)) {
    const [code, text] = enc.diagnoses[0];
    segs.push(
      segment('PV2', [
        '',
        '',
        comp(code, escapeHl7(text), 'I10'),
        '',
        '',
        '',
        '',
        enc.patientClass === 'I' && !isDischarge ? formatDtm(enc.admitMs + rng.int(2, 7) * DAY, { precision: 'date', offset: false }) : '',
      ]),
    );
  }
  if (event !== 'A02') {
    enc.diagnoses.forEach(([code, text], i) => {
      const type = isDischarge ? 'F' : i === 0 ? 'A' : 'W';
      segs.push(segment('DG1', [String(i + 1), '', comp(code, escapeHl7(text), 'I10'), '', dtm(rng, enc.admitMs), type]));
    });
  }
  if (enc.insured && event !== 'A02') {
    segs.push(
      segment('IN1', [
        '1',
        comp('MH-STD', 'MassHealth Standard'),
        comp('MASSHEALTH', '', '', 'MAMMIS'),
        'MassHealth',
        comp('PO BOX 4405', '', 'TAUNTON', 'MA', '02780'),
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        comp(escapeHl7(p.family), escapeHl7(p.given)),
        comp('SEL', 'Self', 'HL70063'),
        p.dob,
      ]),
    );
  }
  if (p.aco && rng.chance(0.4)) {
    // Z-segment as partners send it: attribution plus a free-text note with a line break escape.
    const [acoId, acoName] = p.aco;
    segs.push(
      segment('ZPI', [
        '1',
        comp(acoId, escapeHl7(acoName)),
        rng.pick(V.COMMUNITY_PARTNERS),
        formatDtm(START_MS - rng.int(30, 900) * DAY, { precision: 'date', offset: false }),
        `Prefers ${p.language[1]}\\.br\\Call ${p.cellPhone ? 'cell' : 'home'} first`,
      ]),
    );
  }
  return segs.join('\r') + '\r';
}

/**
 * Yields `count` ADT messages (each ending with CR). Patients come back: discharges, transfers and
 * updates mostly refer to an encounter opened earlier in the file, as in a real feed.
 * @param {{ count?: number, seed?: number }} [options]
 */
export function* generateAdtMessages({ count = DEFAULT_COUNT, seed = DEFAULT_SEED } = {}) {
  const rng = createRng(seed);
  /** @type {Encounter[]} */
  const open = [];
  let nowMs = START_MS;
  for (let seq = 0; seq < count; seq++) {
    nowMs += rng.int(1, 600) * 1000;
    const event = rng.weighted(EVENTS);
    let enc;
    let previousLocation;
    if (event === 'A01' || event === 'A04' || open.length === 0 || rng.chance(0.1)) {
      const reuse = open.length > 0 && rng.chance(0.15) ? open[rng.int(0, open.length - 1)].patient : undefined;
      const patient = reuse ?? newPatient(rng, nowMs);
      const patientClass =
        event === 'A01'
          ? rng.chance(0.9)
            ? 'I'
            : 'O'
          : event === 'A04'
            ? rng.chance(0.6)
              ? 'E'
              : 'O'
            : event === 'A02'
              ? 'I'
              : rng.pick(['I', 'E', 'O']);
      const admitMs = event === 'A01' || event === 'A04' ? nowMs - rng.int(0, 30) * MINUTE : nowMs - rng.int(1, 240) * HOUR;
      enc = newEncounter(rng, patient, admitMs, patientClass);
      if (event !== 'A03') {
        open.push(enc);
        // Bounded, so memory stays flat however many messages are generated.
        if (open.length > 5000) open.splice(0, open.length - 5000);
      }
    } else {
      const index = rng.int(0, open.length - 1);
      enc = open[index];
      if (event === 'A03') open.splice(index, 1);
    }
    if (event === 'A02') {
      previousLocation = comp(escapeHl7(enc.unit[0]), enc.room, enc.bed, sub(enc.patient.facility[0], enc.patient.facility[1], 'ISO'));
      enc.patientClass = 'I';
      enc.unit = rng.pick(V.UNITS.slice(1, 6));
      enc.room = String(rng.int(100, 599));
    }
    if (event === 'A03') enc.disposition = rng.weighted(V.DISPOSITIONS);
    yield buildMessage(rng, seq, nowMs, event, enc, previousLocation);
  }
}

/**
 * Writes the generated messages to `out`.
 * @param {{ count?: number, seed?: number, out?: string, separator?: 'lf' | 'cr' }} [options]
 * @returns {{ out: string, count: number, bytes: number }}
 */
export function writeAdtFile({ count = DEFAULT_COUNT, seed = DEFAULT_SEED, out = DEFAULT_OUT, separator = 'lf' } = {}) {
  mkdirSync(dirname(out), { recursive: true });
  const fd = openSync(out, 'w');
  const between = separator === 'lf' ? '\n' : '';
  let bytes = 0;
  /** @type {string[]} */
  let pending = [];
  const flush = () => {
    const chunk = pending.join('');
    bytes += writeSync(fd, chunk);
    pending = [];
  };
  try {
    for (const message of generateAdtMessages({ count, seed })) {
      pending.push(message + between);
      if (pending.length === 1000) flush();
    }
    flush();
  } finally {
    closeSync(fd);
  }
  return { out, count, bytes };
}

/** @param {string[]} argv */
function parseArgs(argv) {
  const options = { count: DEFAULT_COUNT, seed: DEFAULT_SEED, out: DEFAULT_OUT, separator: /** @type {'lf' | 'cr'} */ ('lf') };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--count') options.count = Number(value);
    else if (flag === '--seed') options.seed = Number(value);
    else if (flag === '--out') options.out = resolve(value);
    else if (flag === '--separator' && (value === 'lf' || value === 'cr')) options.separator = value;
    else throw new Error(`unknown or invalid option: ${flag}`);
    i++;
  }
  if (!Number.isInteger(options.count) || options.count < 1) throw new Error('--count must be a positive integer');
  if (!Number.isInteger(options.seed)) throw new Error('--seed must be an integer');
  return options;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const { out, count, bytes } = writeAdtFile(parseArgs(process.argv.slice(2)));
    console.log(`wrote ${count} messages, ${bytes} bytes to ${out}`);
  } catch (err) {
    console.error(`gen-adt: ${err instanceof Error ? err.message : String(err)}`);
    console.error('usage: node bench/gen-adt.mjs [--count N] [--seed S] [--out FILE] [--separator lf|cr]');
    process.exit(2);
  }
}
