// The care-plan section of the config, resolved into what the service computes with: the business
// calendar (configured holidays + observed US federal holidays of the years around a date).
import type { GatewayConfig } from '../config/types.js';
import type { BusinessCalendarOptions } from './business-days.js';
import { localDayAt, formatLocalDate } from './local-date.js';
import { usFederalHolidayDates } from './us-federal-holidays.js';

export type CarePlansConfig = GatewayConfig['careplans'];

export interface StatusFileTarget {
  partner: string;
  destination: string;
}

export interface CarePlanSettings {
  followUpBusinessDays: number;
  unsignedDays: number;
  timeZone: string;
  /** 0 = Sunday ... 6 = Saturday, and HH:MM local. */
  weeklyStatus: { weekday: number; time: string; files: readonly StatusFileTarget[] };
  /** The business calendar valid around `at` (holidays of the year before, of, and after it). */
  calendarAround(at: string | Date): BusinessCalendarOptions;
  /** Local date (YYYY-MM-DD) of an instant in the care-plan time zone. */
  localDate(at: Date): string;
}

const WEEKDAY_NUMBER: Record<string, number> = { sunday: 0, monday: 1, tuesday: 2, wednesday: 3, thursday: 4, friday: 5, saturday: 6 };

/** Defaults of the schema, for callers that build settings without a config file (tests, tools). */
export const DEFAULT_CAREPLANS_CONFIG: CarePlansConfig = {
  followUpBusinessDays: 3,
  unsignedDays: 30,
  timeZone: 'America/New_York',
  usFederalHolidays: true,
  holidays: [],
  weeklyStatus: { weekday: 'monday', time: '06:00', files: [] },
};

export function resolveCarePlanSettings(config: CarePlansConfig = DEFAULT_CAREPLANS_CONFIG): CarePlanSettings {
  // One options object per year: business-days.ts compiles (and caches) each object once.
  const byYear = new Map<number, BusinessCalendarOptions>();
  const yearOf = (at: string | Date): number => {
    const year = typeof at === 'string' ? Number(at.slice(0, 4)) : at.getUTCFullYear();
    return Number.isInteger(year) && year > 1986 && year < 9998 ? year : new Date().getUTCFullYear();
  };
  return {
    followUpBusinessDays: config.followUpBusinessDays,
    unsignedDays: config.unsignedDays,
    timeZone: config.timeZone,
    weeklyStatus: {
      weekday: WEEKDAY_NUMBER[config.weeklyStatus.weekday] ?? 1,
      time: config.weeklyStatus.time,
      files: config.weeklyStatus.files,
    },
    calendarAround(at) {
      const year = yearOf(at);
      let calendar = byYear.get(year);
      if (!calendar) {
        const federal = config.usFederalHolidays ? usFederalHolidayDates(year - 1, year, year + 1) : [];
        calendar = { timeZone: config.timeZone, holidays: [...federal, ...config.holidays] };
        byYear.set(year, calendar);
      }
      return calendar;
    },
    localDate: (at) => formatLocalDate(localDayAt(at.getTime(), config.timeZone)),
  };
}
