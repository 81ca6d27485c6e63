/**
 * Calendar dates in the formats partners use (MM/DD/YYYY, YYYYMMDD, ...), checked against the
 * real calendar (no Feb 30) and returned as FHIR `date` (YYYY-MM-DD).
 */

/** Compiled date format: a regex with the year, month and day group positions. */
export interface DateFormat {
  readonly source: string;
  readonly regex: RegExp;
  readonly year: number;
  readonly month: number;
  readonly day: number;
  /** Offsets of YYYY, MM and DD when every token is fixed-width: parsed without the regex. */
  readonly fixed?: { length: number; year: number; month: number; day: number; literals: [number, number][] };
}

const TOKENS = /YYYY|MM|DD|M|D/g;
// Exports from spreadsheets often append a midnight time; the date part is what counts.
const TIME_SUFFIX = String.raw`(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?: ?[AaPp][Mm])?(?:Z|[+-]\d{2}:?\d{2})?)?`;

/** Throws a plain Error (message fit for a profile error) when the format is not usable. */
export function compileDateFormat(format: string): DateFormat {
  let pattern = '';
  let last = 0;
  const order: string[] = [];
  for (const m of format.matchAll(TOKENS)) {
    pattern += escapeLiteral(format.slice(last, m.index), format);
    const token = m[0];
    pattern += token === 'YYYY' ? '(\\d{4})' : token.length === 2 ? '(\\d{2})' : '(\\d{1,2})';
    order.push(token[0]);
    last = m.index + token.length;
  }
  pattern += escapeLiteral(format.slice(last), format);
  const year = order.indexOf('Y');
  const month = order.indexOf('M');
  const day = order.indexOf('D');
  if (order.length !== 3 || year < 0 || month < 0 || day < 0) {
    throw new Error('must contain YYYY, MM (or M) and DD (or D) once each, e.g. MM/DD/YYYY');
  }
  const regex = new RegExp(`^${pattern}${TIME_SUFFIX}$`);
  return { source: format, regex, year: year + 1, month: month + 1, day: day + 1, fixed: fixedLayout(format) };
}

/** Character offsets for formats like MM/DD/YYYY or YYYYMMDD (no 1-digit M or D). */
function fixedLayout(format: string): DateFormat['fixed'] {
  const y = format.indexOf('YYYY');
  const m = format.indexOf('MM');
  const d = format.indexOf('DD');
  if (y < 0 || m < 0 || d < 0) return undefined;
  const literals: [number, number][] = [];
  for (let i = 0; i < format.length; i++) {
    const inToken = (i >= y && i < y + 4) || (i >= m && i < m + 2) || (i >= d && i < d + 2);
    if (!inToken) literals.push([i, format.charCodeAt(i)]);
  }
  return { length: format.length, year: y, month: m, day: d, literals };
}

function escapeLiteral(text: string, format: string): string {
  if (/[A-Za-z0-9]/.test(text)) throw new Error(`'${format}' has letters or digits outside YYYY, MM, DD`);
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

const ISO = compileDateFormat('YYYY-MM-DD');

/**
 * Parses `value` with the first matching format; ISO YYYY-MM-DD is always accepted too (it cannot
 * be mistaken for another layout, and XLSX date cells arrive as ISO). Returns undefined when no
 * format matches or the date does not exist.
 */
export function parseDate(value: string, formats: readonly DateFormat[]): string | undefined {
  for (const f of formats) {
    const d = tryFormat(value, f);
    if (d) return d;
  }
  return tryFormat(value, ISO);
}

function tryFormat(value: string, f: DateFormat): string | undefined {
  // Fast path for the common exact shape; anything else (a time suffix, 1-digit parts) takes the regex.
  const x = f.fixed;
  if (x && value.length === x.length) {
    let ok = true;
    for (const [at, code] of x.literals) if (value.charCodeAt(at) !== code) ok = false;
    const year = ok ? digits(value, x.year, 4) : -1;
    const month = ok ? digits(value, x.month, 2) : -1;
    const day = ok ? digits(value, x.day, 2) : -1;
    if (year >= 0 && month >= 0 && day >= 0) return isoDate(year, month, day);
  }
  const m = f.regex.exec(value);
  if (!m) return undefined;
  return isoDate(Number(m[f.year]), Number(m[f.month]), Number(m[f.day]));
}

/** YYYY-MM-DD when the day exists (leap years included); years 1800–9999 (9999 = "no end"). */
export function isoDate(year: number, month: number, day: number): string | undefined {
  if (year < 1800 || year > 9999 || month < 1 || month > 12 || day < 1) return undefined;
  if (day > daysInMonth(year, month)) return undefined;
  return `${String(year).padStart(4, '0')}-${month < 10 ? '0' : ''}${month}-${day < 10 ? '0' : ''}${day}`;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** End dates like 12/31/9999 are the files' way of saying "open-ended". */
export function isOpenEnd(isoDateValue: string): boolean {
  return isoDateValue.startsWith('9999-');
}

/** The number in value[at, at+count) when all are ASCII digits, else -1. */
function digits(value: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const c = value.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}
