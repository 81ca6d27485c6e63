// HL7 v2 TS/DTM -> FHIR date / dateTime / instant.
//
// v2: YYYY[MM[DD[HH[MM[SS[.S+]]]]]][+/-ZZZZ]. FHIR keeps the precision of the source (a year stays
// "2024", a day stays "2024-05-01"), but any value with a time needs seconds and an offset. A value
// without an offset is read as wall-clock time in a given IANA zone (profile setting, default
// America/New_York); the offset is computed with Intl, so it follows that zone's DST rules on that date.
//
// Wall-clock times that do not map to exactly one instant (DST switches) are resolved like
// java.time and Temporal's "compatible" mode, and the result says so in `adjustment`:
//   - gap (spring forward, e.g. 2024-03-10 02:30 in New York does not exist): read it with the offset in
//     force before the switch and report the same instant in the new offset -> 03:30:00-04:00
//     ('dst-gap-shifted'). Senders that emit such times are usually a clock that had not jumped yet.
//   - overlap (fall back, 2024-11-03 01:30 happens twice): take the earlier instant, the one still in
//     daylight time -> 01:30:00-04:00 ('dst-ambiguous-earlier').
// Invalid input (month 13, Feb 30, hour 25, garbage) is a typed failure, never an invalid FHIR value.

export const DEFAULT_TIME_ZONE = 'America/New_York';

export type Hl7Precision = 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second';

export interface ParsedHl7DateTime {
  year: number;
  month?: number;
  day?: number;
  hour?: number;
  minute?: number;
  second?: number;
  /** Fraction-of-second digits exactly as sent (no leading dot). */
  fraction?: string;
  /** Explicit UTC offset from the value, in minutes; undefined when the value had none. */
  offsetMinutes?: number;
  precision: Hl7Precision;
}

export type DstAdjustment = 'dst-gap-shifted' | 'dst-ambiguous-earlier';

export type DateTimeFailureCode = 'syntax' | 'range' | 'precision' | 'time-zone';

export type DateTimeFailure = { ok: false; code: DateTimeFailureCode; reason: string };

export type FhirTemporalResult = { ok: true; value: string; precision: Hl7Precision; adjustment?: DstAdjustment } | DateTimeFailure;

export type ParseResult = { ok: true; value: ParsedHl7DateTime } | DateTimeFailure;

export interface TimeZoneOptions {
  /** IANA zone used when the value has no offset. Default America/New_York. */
  timeZone?: string;
}

const V2_DTM = /^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,9}))?)?)?)?)?)?(?:([+-])(\d{2})(\d{2}))?$/;

const PRECISIONS: readonly Hl7Precision[] = ['year', 'month', 'day', 'hour', 'minute', 'second'];

function fail(code: DateTimeFailureCode, reason: string): DateTimeFailure {
  return { ok: false, code, reason };
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Parses and range-checks a v2 TS/DTM value (the first component only). */
export function parseHl7DateTime(input: string): ParseResult {
  const text = input.trim();
  const m = V2_DTM.exec(text);
  if (!m) {
    // The value itself is not echoed: birth dates are PHI and reasons end up in warnings and logs.
    return fail('syntax', `not a v2 date/time (expected YYYY[MM[DD[HH[MM[SS[.S]]]]]][+/-ZZZZ], got ${text.length} characters)`);
  }
  const year = Number(m[1]);
  if (year === 0) return fail('range', 'year 0000 is not a valid year');
  const parsed: ParsedHl7DateTime = { year, precision: 'year' };
  let level = 0;
  if (m[2] !== undefined) {
    const month = Number(m[2]);
    if (month < 1 || month > 12) return fail('range', `month ${m[2]} is out of range`);
    parsed.month = month;
    level = 1;
  }
  if (m[3] !== undefined) {
    const day = Number(m[3]);
    if (day < 1 || day > daysInMonth(year, parsed.month!)) {
      return fail('range', `day ${m[3]} does not exist in month ${m[2]} of that year`);
    }
    parsed.day = day;
    level = 2;
  }
  if (m[4] !== undefined) {
    const hour = Number(m[4]);
    if (hour > 23) return fail('range', `hour ${m[4]} is out of range`);
    parsed.hour = hour;
    level = 3;
  }
  if (m[5] !== undefined) {
    const minute = Number(m[5]);
    if (minute > 59) return fail('range', `minute ${m[5]} is out of range`);
    parsed.minute = minute;
    level = 4;
  }
  if (m[6] !== undefined) {
    const second = Number(m[6]);
    // FHIR's regex admits a leap second, but JS time cannot represent one; refuse rather than guess.
    if (second > 59) return fail('range', `second ${m[6]} is out of range`);
    parsed.second = second;
    level = 5;
  }
  if (m[7] !== undefined) parsed.fraction = m[7];
  if (m[8] !== undefined) {
    const hh = Number(m[9]);
    const mm = Number(m[10]);
    // FHIR allows offsets -14:00..+14:00 with minutes 00-59.
    if (mm > 59 || hh > 14 || (hh === 14 && mm !== 0)) {
      return fail('range', `offset ${m[8]}${m[9]}${m[10]} is out of range`);
    }
    const minutes = hh * 60 + mm;
    parsed.offsetMinutes = m[8] === '-' ? -minutes : minutes;
  }
  parsed.precision = PRECISIONS[level]!;
  return { ok: true, value: parsed };
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));
const pad4 = (n: number): string => String(n).padStart(4, '0');

/** `+hh:mm` / `-hh:mm` for an offset in minutes. */
export function formatOffset(offsetMinutes: number): string {
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

function datePart(p: ParsedHl7DateTime, precision: 'year' | 'month' | 'day'): string {
  if (precision === 'year') return pad4(p.year);
  if (precision === 'month') return `${pad4(p.year)}-${pad2(p.month!)}`;
  return `${pad4(p.year)}-${pad2(p.month!)}-${pad2(p.day!)}`;
}

/** FHIR `date` at the value's precision (year, year-month or full date); a time part is dropped. */
export function toFhirDate(input: string): FhirTemporalResult {
  const r = parseHl7DateTime(input);
  if (!r.ok) return r;
  const p = r.value;
  const precision = p.precision === 'year' || p.precision === 'month' ? p.precision : 'day';
  return { ok: true, value: datePart(p, precision), precision };
}

/** FHIR `dateTime`: date precision kept as is; with a time, seconds and an offset are always present. */
export function toFhirDateTime(input: string, options: TimeZoneOptions = {}): FhirTemporalResult {
  const r = parseHl7DateTime(input);
  if (!r.ok) return r;
  const p = r.value;
  if (p.precision === 'year' || p.precision === 'month' || p.precision === 'day') {
    return { ok: true, value: datePart(p, p.precision), precision: p.precision };
  }
  return withTime(p, options.timeZone ?? DEFAULT_TIME_ZONE);
}

/** FHIR `instant`: needs at least an hour; minutes/seconds are zero-filled and an offset is added. */
export function toFhirInstant(input: string, options: TimeZoneOptions = {}): FhirTemporalResult {
  const r = parseHl7DateTime(input);
  if (!r.ok) return r;
  const p = r.value;
  if (p.hour === undefined) {
    return fail('precision', `an instant needs a time of day, got ${p.precision} precision`);
  }
  return withTime(p, options.timeZone ?? DEFAULT_TIME_ZONE);
}

function withTime(p: ParsedHl7DateTime, timeZone: string): FhirTemporalResult {
  const fraction = p.fraction !== undefined ? `.${p.fraction}` : '';
  if (p.offsetMinutes !== undefined) {
    const value =
      `${datePart(p, 'day')}T${pad2(p.hour!)}:${pad2(p.minute ?? 0)}:${pad2(p.second ?? 0)}${fraction}` + formatOffset(p.offsetMinutes);
    return { ok: true, value, precision: p.precision };
  }
  const zone = zoneState(timeZone);
  if (!zone) return fail('time-zone', `unknown time zone "${timeZone}"`);
  const wallMs = utcMillis(p.year, p.month!, p.day!, p.hour!, p.minute ?? 0, p.second ?? 0);
  const resolved = resolveWallTime(zone, wallMs);
  let datetime: string;
  if (resolved.adjustment === 'dst-gap-shifted') {
    // The wall time moved; re-render the actual local time of the chosen instant.
    const local = new Date(resolved.utcMs + resolved.offsetMinutes * 60_000);
    datetime =
      `${pad4(local.getUTCFullYear())}-${pad2(local.getUTCMonth() + 1)}-${pad2(local.getUTCDate())}` +
      `T${pad2(local.getUTCHours())}:${pad2(local.getUTCMinutes())}:${pad2(local.getUTCSeconds())}`;
  } else {
    datetime = `${datePart(p, 'day')}T${pad2(p.hour!)}:${pad2(p.minute ?? 0)}:${pad2(p.second ?? 0)}`;
  }
  const value = `${datetime}${fraction}${formatOffset(resolved.offsetMinutes)}`;
  return resolved.adjustment
    ? { ok: true, value, precision: p.precision, adjustment: resolved.adjustment }
    : { ok: true, value, precision: p.precision };
}

// ---- time-zone arithmetic ------------------------------------------------------------------------

interface ZoneState {
  format: Intl.DateTimeFormat;
  /** Offsets by 15-minute UTC bucket (modern transitions all fall on such boundaries). */
  offsets: Map<number, number>;
}

const zones = new Map<string, ZoneState | null>();
const BUCKET_MS = 15 * 60_000;
const MAX_CACHED_OFFSETS = 100_000;
const DAY_MS = 86_400_000;

function zoneState(timeZone: string): ZoneState | null {
  let state = zones.get(timeZone);
  if (state === undefined) {
    try {
      const format = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
      state = { format, offsets: new Map() };
    } catch {
      state = null;
    }
    zones.set(timeZone, state);
  }
  return state;
}

/** True when the runtime knows the IANA zone name. */
export function isValidTimeZone(timeZone: string): boolean {
  return zoneState(timeZone) !== null;
}

function utcMillis(y: number, mo: number, d: number, h: number, mi: number, s: number): number {
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  if (y >= 100) return ms;
  // Date.UTC maps years 0-99 to 1900-1999.
  const date = new Date(ms);
  date.setUTCFullYear(y);
  return date.getTime();
}

function computeOffsetMinutes(zone: ZoneState, utcMs: number): number {
  const whole = Math.floor(utcMs / 1000) * 1000;
  let y = 0,
    mo = 1,
    d = 1,
    h = 0,
    mi = 0,
    s = 0;
  for (const part of zone.format.formatToParts(new Date(whole))) {
    switch (part.type) {
      case 'year':
        y = Number(part.value);
        break;
      case 'month':
        mo = Number(part.value);
        break;
      case 'day':
        d = Number(part.value);
        break;
      case 'hour':
        h = Number(part.value);
        break;
      case 'minute':
        mi = Number(part.value);
        break;
      case 'second':
        s = Number(part.value);
        break;
      default:
        break;
    }
  }
  // Local mean time before ~1900 has second-level offsets; FHIR offsets are whole minutes.
  return Math.round((utcMillis(y, mo, d, h, mi, s) - whole) / 60_000);
}

function offsetAt(zone: ZoneState, utcMs: number): number {
  // Pre-1970 history has transitions off the 15-minute grid, so only cache the modern era.
  if (utcMs < 0) return computeOffsetMinutes(zone, utcMs);
  const bucket = Math.floor(utcMs / BUCKET_MS);
  let offset = zone.offsets.get(bucket);
  if (offset === undefined) {
    offset = computeOffsetMinutes(zone, bucket * BUCKET_MS);
    if (zone.offsets.size >= MAX_CACHED_OFFSETS) zone.offsets.clear();
    zone.offsets.set(bucket, offset);
  }
  return offset;
}

/** UTC offset (minutes) of `timeZone` at the instant `utcMs`; undefined for an unknown zone. */
export function zoneOffsetMinutes(utcMs: number, timeZone: string): number | undefined {
  const zone = zoneState(timeZone);
  return zone ? offsetAt(zone, utcMs) : undefined;
}

interface ResolvedWallTime {
  utcMs: number;
  offsetMinutes: number;
  adjustment?: DstAdjustment;
}

function resolveWallTime(zone: ZoneState, wallMs: number): ResolvedWallTime {
  // The offsets a day before and after bracket any transition near this wall time.
  const before = offsetAt(zone, wallMs - DAY_MS);
  const after = offsetAt(zone, wallMs + DAY_MS);
  const fitsBefore = offsetAt(zone, wallMs - before * 60_000) === before;
  if (before === after) {
    if (fitsBefore) return { utcMs: wallMs - before * 60_000, offsetMinutes: before };
  } else {
    const fitsAfter = offsetAt(zone, wallMs - after * 60_000) === after;
    if (fitsBefore && fitsAfter) {
      // Overlap: the larger offset is the earlier instant.
      const earlier = Math.max(before, after);
      return { utcMs: wallMs - earlier * 60_000, offsetMinutes: earlier, adjustment: 'dst-ambiguous-earlier' };
    }
    if (fitsBefore) return { utcMs: wallMs - before * 60_000, offsetMinutes: before };
    if (fitsAfter) return { utcMs: wallMs - after * 60_000, offsetMinutes: after };
  }
  // Gap: read with the pre-transition offset; the instant then carries the new offset.
  const utcMs = wallMs - before * 60_000;
  return { utcMs, offsetMinutes: offsetAt(zone, utcMs), adjustment: 'dst-gap-shifted' };
}
