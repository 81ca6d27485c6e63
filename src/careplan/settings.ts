// The care-plan section of the config, resolved into what the service computes with: the business
// calendar (configured holidays + observed US federal holidays of the years around a date), per
// partner when a partner has its own time zone or holidays.
import type { GatewayConfig } from '../config/types.js';
import type { BusinessCalendarOptions } from './business-days.js';
import { localDayAt, formatLocalDate } from './local-date.js';
import { usFederalHolidayDates } from './us-federal-holidays.js';

export type CarePlansConfig = GatewayConfig['careplans'];

/** What a partner may override of the care-plan calendar (config `partners.<id>`). */
export interface PartnerCalendarConfig {
  timeZone?: string;
  holidays?: readonly string[];
}

export interface StatusFileTarget {
  partner: string;
  destination: string;
}

export interface CarePlanSettings {
  followUpBusinessDays: number;
  unsignedDays: number;
  /** The care-plan zone (careplans.timeZone): the default for partners without their own. */
  timeZone: string;
  /** 0 = Sunday ... 6 = Saturday, and HH:MM local. */
  weeklyStatus: { weekday: number; time: string; files: readonly StatusFileTarget[] };
  /** The partner's own zone, else the care-plan zone. */
  timeZoneOf(partnerId?: string): string;
  /**
   * The business calendar valid around `at` (holidays of the year before, of, and after it), in the
   * partner's zone with its own holidays added when `partnerId` has any; else the care-plan one.
   */
  calendarAround(at: string | Date, partnerId?: string): BusinessCalendarOptions;
  /** Local date (YYYY-MM-DD) of an instant in the partner's zone (default: the care-plan zone). */
  localDate(at: Date, partnerId?: string): string;
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

export function resolveCarePlanSettings(
  config: CarePlansConfig = DEFAULT_CAREPLANS_CONFIG,
  partners: Readonly<Record<string, PartnerCalendarConfig>> = {},
): CarePlanSettings {
  // One options object per calendar and year: business-days.ts compiles (and caches) each object once.
  const cache = new Map<string, BusinessCalendarOptions>();
  const yearOf = (at: string | Date): number => {
    const year = typeof at === 'string' ? Number(at.slice(0, 4)) : at.getUTCFullYear();
    return Number.isInteger(year) && year > 1986 && year < 9998 ? year : new Date().getUTCFullYear();
  };
  // Only a partner that overrides something gets a calendar of its own; the others share the default.
  const own = (partnerId: string | undefined): PartnerCalendarConfig | undefined => {
    const p = partnerId !== undefined && Object.hasOwn(partners, partnerId) ? partners[partnerId] : undefined;
    return p && (p.timeZone !== undefined || (p.holidays?.length ?? 0) > 0) ? p : undefined;
  };
  const timeZoneOf = (partnerId?: string): string => own(partnerId)?.timeZone ?? config.timeZone;
  return {
    followUpBusinessDays: config.followUpBusinessDays,
    unsignedDays: config.unsignedDays,
    timeZone: config.timeZone,
    weeklyStatus: {
      weekday: WEEKDAY_NUMBER[config.weeklyStatus.weekday] ?? 1,
      time: config.weeklyStatus.time,
      files: config.weeklyStatus.files,
    },
    timeZoneOf,
    calendarAround(at, partnerId) {
      const year = yearOf(at);
      const partner = own(partnerId);
      const key = `${partner ? partnerId : ''}|${year}`;
      let calendar = cache.get(key);
      if (!calendar) {
        const federal = config.usFederalHolidays ? usFederalHolidayDates(year - 1, year, year + 1) : [];
        calendar = {
          timeZone: partner?.timeZone ?? config.timeZone,
          holidays: [...federal, ...config.holidays, ...(partner?.holidays ?? [])],
        };
        cache.set(key, calendar);
      }
      return calendar;
    },
    localDate: (at, partnerId) => formatLocalDate(localDayAt(at.getTime(), timeZoneOf(partnerId))),
  };
}
