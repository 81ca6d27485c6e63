// Calendar dates in an IANA time zone, and the instants that bound them.
//
// A "local date" is what a wall calendar in the zone shows (YYYY-MM-DD, no zone attached). Internally a
// date is a day number: days since 1970-01-01 of the proleptic Gregorian calendar, so adding days and
// finding the weekday is integer arithmetic and never touches DST. Only the two conversions between an
// instant and a local date consult the zone (via the Intl-based offsets of src/fhir/datetime.ts), which
// is what keeps business-day arithmetic DST-safe.
import { formatOffset, isValidTimeZone, zoneOffsetMinutes } from '../fhir/datetime.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** Days since 1970-01-01 (negative before). */
export type DayNumber = number;

/** 0 = Sunday ... 6 = Saturday, as Date#getUTCDay. */
export type Weekday = 0 | 1 | 2 | 3 | 4 | 5 | 6;

const LOCAL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
// FHIR instant (and a dateTime with a time): seconds and an offset are required.
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|([+-])(\d{2}):(\d{2}))$/;

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

function utcDayMs(year: number, month: number, day: number): number {
  const date = new Date(Date.UTC(2000, month - 1, day));
  // Date.UTC maps years 0-99 to 1900-1999; set the year explicitly.
  date.setUTCFullYear(year, month - 1, day);
  return date.getTime();
}

function isRealDate(year: number, month: number, day: number): boolean {
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const d = new Date(utcDayMs(year, month, day));
  return d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

/** Day number of a YYYY-MM-DD string, or undefined when it is not a real calendar date. */
export function parseLocalDate(text: string): DayNumber | undefined {
  const m = LOCAL_DATE.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (!isRealDate(year, month, day)) return undefined;
  return utcDayMs(year, month, day) / DAY_MS;
}

/** YYYY-MM-DD of a day number. */
export function formatLocalDate(day: DayNumber): string {
  const d = new Date(day * DAY_MS);
  return `${String(d.getUTCFullYear()).padStart(4, '0')}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
}

export function weekdayOf(day: DayNumber): Weekday {
  // 1970-01-01 was a Thursday (4).
  return ((((day + 4) % 7) + 7) % 7) as Weekday;
}

/**
 * Milliseconds since the epoch of a FHIR instant (YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm)) or a Date, or
 * undefined when the text is not one. Stricter than Date.parse, which accepts Feb 30 and 24:00.
 */
export function instantMillis(value: string | Date): number | undefined {
  if (value instanceof Date) {
    const ms = value.getTime();
    return Number.isNaN(ms) ? undefined : ms;
  }
  const m = INSTANT.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  if (!isRealDate(year!, month!, day!) || hour! > 23 || minute! > 59 || second! > 59) return undefined;
  let offsetMinutes = 0;
  if (m[8] !== 'Z') {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 14 || om > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const fractionMs = m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0;
  return utcDayMs(year!, month!, day!) + hour! * HOUR_MS + minute! * 60_000 + second! * 1000 + fractionMs - offsetMinutes * 60_000;
}

/** Throws a RangeError for a zone name the runtime does not know. */
export function assertTimeZone(timeZone: string): void {
  if (!isValidTimeZone(timeZone)) throw new RangeError(`unknown time zone "${timeZone}"`);
}

function offsetOrThrow(utcMs: number, timeZone: string): number {
  const offset = zoneOffsetMinutes(utcMs, timeZone);
  if (offset === undefined) throw new RangeError(`unknown time zone "${timeZone}"`);
  return offset;
}

/** The local date, in `timeZone`, at the instant `utcMs`. */
export function localDayAt(utcMs: number, timeZone: string): DayNumber {
  return Math.floor((utcMs + offsetOrThrow(utcMs, timeZone) * 60_000) / DAY_MS);
}

/** FHIR instant for `utcMs` written with the zone's offset at that instant (whole seconds). */
export function formatInstantInZone(utcMs: number, timeZone: string): string {
  const whole = Math.floor(utcMs / 1000) * 1000;
  const offset = offsetOrThrow(whole, timeZone);
  const local = new Date(whole + offset * 60_000);
  return (
    `${formatLocalDate(Math.floor(local.getTime() / DAY_MS))}` +
    `T${pad2(local.getUTCHours())}:${pad2(local.getUTCMinutes())}:${pad2(local.getUTCSeconds())}${formatOffset(offset)}`
  );
}

/**
 * The last whole second whose local date in `timeZone` is `day`, or undefined when the zone skipped that
 * date entirely (Samoa, 2011-12-30). Found by bisection on the instant rather than by resolving the
 * wall time 23:59:59, so zones whose DST switch happens at midnight are handled without special cases.
 */
export function lastSecondOfLocalDay(day: DayNumber, timeZone: string): number | undefined {
  const nextMidnightWall = (day + 1) * DAY_MS;
  // UTC offsets lie within -12h..+14h, so local midnight of the next day is inside this bracket.
  let lo = nextMidnightWall - 15 * HOUR_MS; // local date <= day
  let hi = nextMidnightWall + 13 * HOUR_MS; // local date >= day + 1
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (localDayAt(mid, timeZone) > day) hi = mid;
    else lo = mid;
  }
  return localDayAt(lo, timeZone) === day ? lo : undefined;
}

/**
 * The instant a wall-clock time (given as if it were UTC: Date.UTC(y, m, d, h, mi, s)) shows in
 * `timeZone`. A time the zone repeats (fall back) is its first occurrence; a time it skips (spring
 * forward) is read with the offset before the gap, which lands just after it (02:30 → 03:30).
 */
export function wallTimeToUtc(wallMs: number, timeZone: string): number {
  const before = offsetOrThrow(wallMs - DAY_MS, timeZone);
  const after = offsetOrThrow(wallMs + DAY_MS, timeZone);
  const fits = [wallMs - before * 60_000, wallMs - after * 60_000].filter(
    (utc, i) => offsetOrThrow(utc, timeZone) === (i === 0 ? before : after),
  );
  return fits.length ? Math.min(...fits) : wallMs - before * 60_000;
}
