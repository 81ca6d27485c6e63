// US federal holidays (5 U.S.C. 6103), for partners who opt into them as non-business days.
//
// Fixed dates that fall on a weekend are observed on the nearest weekday: Saturday -> the Friday before,
// Sunday -> the Monday after (the rule OPM applies for most federal employees). One consequence: when
// New Year's Day is a Saturday (2022, 2028), it is observed on Friday December 31 of the PREVIOUS year, so
// a year's list holds the holidays OBSERVED in that year: 2021's ends with December 31 (New Year's Day
// 2022) and 2022's has no January entry for New Year's Day.
// Modeled from 1986 (first federal Martin Luther King Jr. Day); Juneteenth from 2021. Inauguration Day
// (Washington DC area only) and one-off closures by executive order are left to a partner's extra list.
import { formatLocalDate, parseLocalDate, weekdayOf, type DayNumber } from './local-date.js';

export interface FederalHoliday {
  /** The date the holiday is observed (the non-business day), YYYY-MM-DD. */
  date: string;
  /** The legal date; differs from `date` when a weekend moved the observance. */
  actualDate: string;
  name: string;
}

export interface FederalHolidayOptions {
  /** Move weekend fixed-date holidays to the nearest weekday (default true). */
  observed?: boolean;
}

export const FIRST_MODELED_YEAR = 1986;
const LAST_MODELED_YEAR = 9998;

function dayOf(year: number, month: number, day: number): DayNumber {
  return parseLocalDate(`${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`)!;
}

/** The `nth` (1-based) given weekday of a month; nth = -1 is the last one. */
function nthWeekday(year: number, month: number, weekday: number, nth: number): DayNumber {
  if (nth > 0) {
    const first = dayOf(year, month, 1);
    return first + ((weekday - weekdayOf(first) + 7) % 7) + (nth - 1) * 7;
  }
  const nextFirst = month === 12 ? dayOf(year + 1, 1, 1) : dayOf(year, month + 1, 1);
  const last = nextFirst - 1;
  return last - ((weekdayOf(last) - weekday + 7) % 7);
}

function observedDay(day: DayNumber): DayNumber {
  const weekday = weekdayOf(day);
  if (weekday === 6) return day - 1;
  if (weekday === 0) return day + 1;
  return day;
}

interface Rule {
  name: string;
  day(year: number): DayNumber;
  fixed: boolean;
  since?: number;
}

const MONDAY = 1;
const THURSDAY = 4;

const RULES: readonly Rule[] = [
  { name: "New Year's Day", fixed: true, day: (y) => dayOf(y, 1, 1) },
  { name: 'Birthday of Martin Luther King, Jr.', fixed: false, day: (y) => nthWeekday(y, 1, MONDAY, 3) },
  { name: "Washington's Birthday", fixed: false, day: (y) => nthWeekday(y, 2, MONDAY, 3) },
  { name: 'Memorial Day', fixed: false, day: (y) => nthWeekday(y, 5, MONDAY, -1) },
  { name: 'Juneteenth National Independence Day', fixed: true, since: 2021, day: (y) => dayOf(y, 6, 19) },
  { name: 'Independence Day', fixed: true, day: (y) => dayOf(y, 7, 4) },
  { name: 'Labor Day', fixed: false, day: (y) => nthWeekday(y, 9, MONDAY, 1) },
  { name: 'Columbus Day', fixed: false, day: (y) => nthWeekday(y, 10, MONDAY, 2) },
  { name: 'Veterans Day', fixed: true, day: (y) => dayOf(y, 11, 11) },
  { name: 'Thanksgiving Day', fixed: false, day: (y) => nthWeekday(y, 11, THURSDAY, 4) },
  { name: 'Christmas Day', fixed: true, day: (y) => dayOf(y, 12, 25) },
];

function holidaysOfLegalYear(year: number, observed: boolean): { day: DayNumber; actual: DayNumber; name: string }[] {
  return RULES.filter((r) => r.since === undefined || year >= r.since).map((r) => {
    const actual = r.day(year);
    return { day: r.fixed && observed ? observedDay(actual) : actual, actual, name: r.name };
  });
}

/** Federal holidays observed in `year`, in date order. */
export function usFederalHolidays(year: number, options: FederalHolidayOptions = {}): FederalHoliday[] {
  if (!Number.isInteger(year) || year < FIRST_MODELED_YEAR || year > LAST_MODELED_YEAR) {
    throw new RangeError(`US federal holidays are modeled for ${FIRST_MODELED_YEAR}..${LAST_MODELED_YEAR}, got ${year}`);
  }
  const observed = options.observed ?? true;
  const start = dayOf(year, 1, 1);
  const end = dayOf(year, 12, 31);
  // Next year's New Year's Day can be observed on December 31 of this one.
  const candidates = [...holidaysOfLegalYear(year, observed), ...holidaysOfLegalYear(year + 1, observed).slice(0, 1)];
  return candidates
    .filter((h) => h.day >= start && h.day <= end)
    .sort((a, b) => a.day - b.day)
    .map((h) => ({ date: formatLocalDate(h.day), actualDate: formatLocalDate(h.actual), name: h.name }));
}

/** Observed federal holiday dates of the given years, ready for BusinessCalendarOptions.holidays. */
export function usFederalHolidayDates(...years: number[]): string[] {
  return years.flatMap((y) => usFederalHolidays(y).map((h) => h.date));
}
