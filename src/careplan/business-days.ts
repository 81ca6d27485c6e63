// Business-day arithmetic in a partner's time zone.
//
// Rules (the issue: "follow-up due within N business days of discharge"):
//   - Counting starts from the LOCAL DATE of the starting instant in the partner's zone: a discharge at
//     23:30 on Friday in New York (04:30 Saturday UTC) is a Friday discharge.
//   - The starting date itself is never counted; N business days later is the N-th business day after
//     it. Friday + 3 = Wednesday; Saturday + 3 = Wednesday too.
//   - N = 0 means "the same business day": the starting date if it is a business day, else the next one.
//   - The due moment is the end of the due date in the zone (its last second, with the offset in force
//     then), so a follow-up is overdue from local midnight on. Work happens on dates, never on 24-hour
//     steps, which is why DST switches cannot move a due date.
// Holidays are YYYY-MM-DD in the partner's zone; `usFederalHolidayDates` (us-federal-holidays.ts) gives the
// federal ones to opt into, and partners add their own (state holidays, the day after Thanksgiving...).
import {
  assertTimeZone,
  formatLocalDate,
  instantMillis,
  lastSecondOfLocalDay,
  localDayAt,
  parseLocalDate,
  weekdayOf,
  formatInstantInZone,
  type DayNumber,
} from './local-date.js';

export interface BusinessCalendarOptions {
  /** IANA zone the partner works in, e.g. America/New_York. */
  timeZone: string;
  /** Non-working dates, YYYY-MM-DD in that zone. */
  holidays?: readonly string[];
  /** Weekdays that are never business days, 0 = Sunday ... 6 = Saturday. Default [0, 6]. */
  weekendDays?: readonly number[];
}

/** A due day: its local date and the last second of it in the zone. */
export interface DueDay {
  /** Local date in the zone, YYYY-MM-DD. */
  dueDate: string;
  /** End of that date in the zone as a FHIR instant with offset, e.g. 2024-03-13T23:59:59-04:00. */
  dueAt: string;
  timeZone: string;
}

/** A date (YYYY-MM-DD, already local to the zone) or an instant (FHIR instant string or Date). */
export type DayOrInstant = string | Date;

/** Upper bound on N, so a typo (3e9) fails fast instead of looping for minutes. */
export const MAX_BUSINESS_DAYS = 100_000;

interface CompiledCalendar {
  timeZone: string;
  holidays: ReadonlySet<DayNumber>;
  weekend: readonly boolean[];
}

// Partner calendars are long-lived config objects; compile each once. So an options object (and its
// holidays array) must not be mutated after first use: build a new one to change a calendar.
const compiled = new WeakMap<BusinessCalendarOptions, CompiledCalendar>();

function compile(options: BusinessCalendarOptions): CompiledCalendar {
  let calendar = compiled.get(options);
  if (calendar) return calendar;
  assertTimeZone(options.timeZone);
  const holidays = new Set<DayNumber>();
  for (const text of options.holidays ?? []) {
    const day = parseLocalDate(text);
    if (day === undefined) throw new RangeError(`holiday "${text}" is not a YYYY-MM-DD calendar date`);
    holidays.add(day);
  }
  const weekend = new Array<boolean>(7).fill(false);
  for (const d of options.weekendDays ?? [0, 6]) {
    if (!Number.isInteger(d) || d < 0 || d > 6) throw new RangeError(`weekend day ${d} is not 0 (Sunday) .. 6 (Saturday)`);
    weekend[d] = true;
  }
  if (weekend.every(Boolean)) throw new RangeError('a calendar whose weekend is every day has no business days');
  calendar = { timeZone: options.timeZone, holidays, weekend };
  compiled.set(options, calendar);
  return calendar;
}

function isOpen(calendar: CompiledCalendar, day: DayNumber): boolean {
  return !calendar.weekend[weekdayOf(day)] && !calendar.holidays.has(day);
}

/** Local date in the calendar's zone; a YYYY-MM-DD string is taken as already local. */
function toLocalDay(value: DayOrInstant, calendar: CompiledCalendar, what: string): DayNumber {
  if (typeof value === 'string' && value.length === 10) {
    const day = parseLocalDate(value);
    if (day === undefined) throw new RangeError(`${what} is not a YYYY-MM-DD calendar date`);
    return day;
  }
  const ms = instantMillis(value);
  // The value is not echoed: discharge times are PHI and error messages end up in logs.
  if (ms === undefined) throw new RangeError(`${what} is not a date (YYYY-MM-DD) or an instant with seconds and offset`);
  return localDayAt(ms, calendar.timeZone);
}

function dueOn(calendar: CompiledCalendar, day: DayNumber): DueDay | undefined {
  const last = lastSecondOfLocalDay(day, calendar.timeZone);
  if (last === undefined) return undefined;
  return { dueDate: formatLocalDate(day), dueAt: formatInstantInZone(last, calendar.timeZone), timeZone: calendar.timeZone };
}

/** True when the date (or the local date of the instant) is neither a weekend day nor a holiday. */
export function isBusinessDay(value: DayOrInstant, options: BusinessCalendarOptions): boolean {
  const calendar = compile(options);
  return isOpen(calendar, toLocalDay(value, calendar, 'value'));
}

/** The business day `n` business days after the local date of `from` (see the rules at the top). */
export function addBusinessDays(from: DayOrInstant, n: number, options: BusinessCalendarOptions): DueDay {
  if (!Number.isInteger(n) || n < 0 || n > MAX_BUSINESS_DAYS) {
    throw new RangeError(`business days must be an integer 0..${MAX_BUSINESS_DAYS}, got ${n}`);
  }
  const calendar = compile(options);
  let day = toLocalDay(from, calendar, 'from');
  let remaining = n;
  if (n === 0) {
    while (!isOpen(calendar, day)) day += 1;
  } else {
    while (remaining > 0) {
      day += 1;
      if (isOpen(calendar, day)) remaining -= 1;
    }
  }
  // A date the zone skipped (no local midnight-to-midnight) cannot be due; take the next business day.
  for (;;) {
    const due = dueOn(calendar, day);
    if (due) return due;
    do day += 1;
    while (!isOpen(calendar, day));
  }
}

/**
 * Business days in (from, to]: after the local date of `from`, up to and including that of `to`. The
 * inverse of addBusinessDays for n >= 1 (from Friday to the Wednesday after is 3). Negative when `to` is
 * earlier than `from`; 0 for the same date.
 */
export function businessDaysBetween(from: DayOrInstant, to: DayOrInstant, options: BusinessCalendarOptions): number {
  const calendar = compile(options);
  const a = toLocalDay(from, calendar, 'from');
  const b = toLocalDay(to, calendar, 'to');
  const [lo, hi, sign] = a <= b ? [a, b, 1] : [b, a, -1];
  let count = 0;
  for (let day = lo + 1; day <= hi; day++) if (isOpen(calendar, day)) count++;
  return sign * count;
}

/**
 * The local date `n` calendar days after that of `from` in `timeZone`, and its end: for deadlines counted
 * in plain days ("unsigned past 30 days"), with the same date-not-hours rule as addBusinessDays.
 */
export function addCalendarDays(from: DayOrInstant, n: number, timeZone: string): DueDay {
  if (!Number.isInteger(n) || n < 0 || n > MAX_BUSINESS_DAYS) {
    throw new RangeError(`days must be an integer 0..${MAX_BUSINESS_DAYS}, got ${n}`);
  }
  // Every day is open: no weekend, no holidays.
  const calendar: CompiledCalendar = { timeZone, holidays: new Set(), weekend: new Array<boolean>(7).fill(false) };
  assertTimeZone(timeZone);
  let day = toLocalDay(from, calendar, 'from') + n;
  for (;;) {
    const due = dueOn(calendar, day);
    if (due) return due;
    day += 1;
  }
}

/**
 * True once `now` is past the due second `dueAt` (an instant such as DueDay.dueAt): from the next local
 * midnight on, since dueAt is the last whole second of the due date.
 */
export function isPastDue(dueAt: string, now: string | Date): boolean {
  const due = instantMillis(dueAt);
  if (due === undefined) throw new RangeError('dueAt is not an instant with seconds and offset');
  const at = instantMillis(now);
  if (at === undefined) throw new RangeError('now is not an instant with seconds and offset');
  return at >= due + 1000;
}
