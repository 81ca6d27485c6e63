// Calendar dates in the roster are FHIR `date` strings (YYYY-MM-DD): they compare correctly as
// text in both SQLite and Postgres, and carry no time zone to get wrong.

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real calendar date in YYYY-MM-DD (no Feb 30). */
export function isCalendarDate(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

function shift(date: string, days: number): string {
  const m = DATE.exec(date);
  if (!m) throw new Error('not a YYYY-MM-DD date');
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) + days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

export const dayBefore = (date: string): string => shift(date, -1);
export const dayAfter = (date: string): string => shift(date, 1);

export const maxDate = (a: string, b: string): string => (a >= b ? a : b);

/** The calendar date of an instant in a time zone (partners' "today" is local, not UTC). */
export function dateInZone(at: Date, timeZone: string): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/** True when [start, end] contains day (end undefined/null = open). */
export function covers(start: string, end: string | null | undefined, day: string): boolean {
  return start <= day && (end == null || end >= day);
}
