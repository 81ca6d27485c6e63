// Cell parsers shared by the care-plan and sign-off rows. Each returns the value or a reason that
// names the column and the rule, never the cell (cells hold member data).
import { wallTimeToUtc } from '../../src/careplan/local-date.js';
import { zoneOffsetMinutes } from '../../src/fhir/datetime.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/;

function realDate(y: number, m: number, d: number): boolean {
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** YYYY-MM-DD (a real calendar date). */
export function parseDate(column: string, text: string): Parsed<string> {
  const m = DATE.exec(text);
  if (!m || !realDate(Number(m[1]), Number(m[2]), Number(m[3]))) return { ok: false, reason: `${column}: not a date YYYY-MM-DD` };
  return { ok: true, value: text };
}

/** A FHIR dateTime for CarePlan.created: a date, or an instant with offset. */
export function parseDateOrInstant(column: string, text: string): Parsed<string> {
  if (DATE.test(text)) return parseDate(column, text);
  if (
    INSTANT.test(text) &&
    !Number.isNaN(Date.parse(text)) &&
    realDate(Number(text.slice(0, 4)), Number(text.slice(5, 7)), Number(text.slice(8, 10)))
  ) {
    return { ok: true, value: text };
  }
  return { ok: false, reason: `${column}: not a date YYYY-MM-DD or a date-time with offset (YYYY-MM-DDThh:mm:ss+hh:mm)` };
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * A FHIR instant for when something happened: an instant with offset as is; a local date-time
 * (`YYYY-MM-DD hh:mm[:ss]`) or a bare date (its midnight) is read in `timeZone`.
 */
export function parseInstant(column: string, text: string, timeZone: string): Parsed<string> {
  if (INSTANT.test(text)) {
    const r = parseDateOrInstant(column, text);
    return r.ok ? r : { ok: false, reason: `${column}: not a valid date-time` };
  }
  const m =
    LOCAL_DATE_TIME.exec(text) ??
    (DATE.test(text) ? [text, text.slice(0, 4), text.slice(5, 7), text.slice(8, 10), '00', '00', '00'] : null);
  if (!m) return { ok: false, reason: `${column}: not a date-time (YYYY-MM-DDThh:mm:ss+hh:mm, YYYY-MM-DD hh:mm or YYYY-MM-DD)` };
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0));
  if (!realDate(y!, mo!, d!) || h! > 23 || mi! > 59 || s! > 59) return { ok: false, reason: `${column}: not a valid date-time` };
  const utc = wallTimeToUtc(Date.UTC(y!, mo! - 1, d!, h, mi, s), timeZone);
  const offset = zoneOffsetMinutes(utc, timeZone) ?? 0;
  const local = new Date(utc + offset * 60_000);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return {
    ok: true,
    value:
      `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}` +
      `T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`,
  };
}

/** A National Provider Identifier: 10 digits whose last is the Luhn check digit over "80840" + the first 9. */
export function parseNpi(column: string, text: string): Parsed<string> {
  if (!/^\d{10}$/.test(text)) return { ok: false, reason: `${column}: an NPI has 10 digits` };
  const digits = `80840${text.slice(0, 9)}`;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let n = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      n *= 2;
      if (n > 9) n -= 9;
    }
    sum += n;
  }
  const check = (10 - (sum % 10)) % 10;
  return check === Number(text[9]) ? { ok: true, value: text } : { ok: false, reason: `${column}: NPI check digit is wrong` };
}

/** `a | b | c` → ['a', 'b', 'c'] (empty parts dropped). */
export function splitList(text: string): string[] {
  return text
    .split('|')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
