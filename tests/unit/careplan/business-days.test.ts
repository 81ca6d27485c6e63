import { describe, expect, it } from 'vitest';
import {
  addBusinessDays,
  addCalendarDays,
  businessDaysBetween,
  isBusinessDay,
  isPastDue,
  type BusinessCalendarOptions,
} from '../../../src/careplan/business-days.js';
import { usFederalHolidayDates } from '../../../src/careplan/us-federal-holidays.js';

const NY: BusinessCalendarOptions = { timeZone: 'America/New_York' };
const NY_FEDERAL: BusinessCalendarOptions = {
  timeZone: 'America/New_York',
  holidays: usFederalHolidayDates(2021, 2022, 2023, 2024, 2025, 2026),
};
// A partner that works every day of the week: isolates end-of-day handling from weekend skipping.
const NY_EVERY_DAY: BusinessCalendarOptions = { timeZone: 'America/New_York', weekendDays: [] };

describe('addBusinessDays: weekends', () => {
  it('counts from the day after the discharge date (Monday + 3 = Thursday)', () => {
    expect(addBusinessDays('2024-05-06T10:00:00-04:00', 3, NY)).toEqual({
      dueDate: '2024-05-09',
      dueAt: '2024-05-09T23:59:59-04:00',
      timeZone: 'America/New_York',
    });
  });

  it('skips the weekend (Friday + 3 = Wednesday)', () => {
    expect(addBusinessDays('2024-05-10T09:00:00-04:00', 3, NY).dueDate).toBe('2024-05-15');
  });

  it('a weekend discharge counts from Monday (Saturday + 3 and Sunday + 3 = Wednesday, Sunday + 1 = Monday)', () => {
    expect(addBusinessDays('2024-05-11T12:00:00-04:00', 3, NY).dueDate).toBe('2024-05-15');
    expect(addBusinessDays('2024-05-12T12:00:00-04:00', 3, NY).dueDate).toBe('2024-05-15');
    expect(addBusinessDays('2024-05-12T12:00:00-04:00', 1, NY).dueDate).toBe('2024-05-13');
  });

  it('accepts a bare local date and a Date', () => {
    expect(addBusinessDays('2024-05-10', 1, NY).dueDate).toBe('2024-05-13');
    expect(addBusinessDays(new Date('2024-05-10T13:00:00Z'), 1, NY).dueDate).toBe('2024-05-13');
  });

  it('supports other weekends (Friday and Saturday off)', () => {
    const cal: BusinessCalendarOptions = { timeZone: 'Asia/Riyadh', weekendDays: [5, 6] };
    // Thursday 2024-05-09 + 1 -> Sunday 2024-05-12.
    expect(addBusinessDays('2024-05-09', 1, cal)).toEqual({
      dueDate: '2024-05-12',
      dueAt: '2024-05-12T23:59:59+03:00',
      timeZone: 'Asia/Riyadh',
    });
  });
});

describe('addBusinessDays: n = 0', () => {
  it('is the same day on a business day', () => {
    expect(addBusinessDays('2024-05-08T08:00:00-04:00', 0, NY).dueDate).toBe('2024-05-08');
  });
  it('is the next business day on a weekend or holiday', () => {
    expect(addBusinessDays('2024-05-11T08:00:00-04:00', 0, NY).dueDate).toBe('2024-05-13');
    expect(addBusinessDays('2024-07-04T08:00:00-04:00', 0, NY_FEDERAL).dueDate).toBe('2024-07-05');
  });
});

describe('addBusinessDays: holidays', () => {
  it('skips a holiday (Wednesday before July 4 + 3 = the next Tuesday)', () => {
    expect(addBusinessDays('2024-07-03T16:00:00-04:00', 3, NY_FEDERAL).dueDate).toBe('2024-07-09');
    expect(addBusinessDays('2024-07-03T16:00:00-04:00', 3, NY).dueDate).toBe('2024-07-08');
  });

  it('skips Saturday holidays on their observed Friday', () => {
    // July 4, 2026 is a Saturday, observed Friday July 3.
    expect(addBusinessDays('2026-07-02T10:00:00-04:00', 1, NY_FEDERAL).dueDate).toBe('2026-07-06');
    expect(addBusinessDays('2026-07-02T10:00:00-04:00', 1, NY).dueDate).toBe('2026-07-03');
    // New Year's Day 2022 (Saturday) is observed on Friday, December 31, 2021.
    expect(addBusinessDays('2021-12-30T10:00:00-05:00', 1, NY_FEDERAL).dueDate).toBe('2022-01-03');
  });

  it('skips Sunday holidays on their observed Monday', () => {
    // January 1, 2023 is a Sunday, observed Monday January 2.
    expect(addBusinessDays('2022-12-30T10:00:00-05:00', 1, NY_FEDERAL).dueDate).toBe('2023-01-03');
  });

  it('takes extra partner holidays (day after Thanksgiving)', () => {
    const cal: BusinessCalendarOptions = { timeZone: 'America/New_York', holidays: [...usFederalHolidayDates(2024), '2024-11-29'] };
    // Wednesday before Thanksgiving + 1 -> Monday.
    expect(addBusinessDays('2024-11-27T10:00:00-05:00', 1, cal).dueDate).toBe('2024-12-02');
  });

  it('a holiday discharge counts like a weekend one', () => {
    expect(addBusinessDays('2024-12-25T10:00:00-05:00', 1, NY_FEDERAL).dueDate).toBe('2024-12-26');
  });
});

describe('addBusinessDays: time zones', () => {
  it('a discharge at 23:30 on Friday in New York is a Friday discharge (UTC says Saturday)', () => {
    const lateFriday = '2024-05-10T23:30:00-04:00'; // 2024-05-11T03:30:00Z
    expect(addBusinessDays(lateFriday, 0, NY).dueDate).toBe('2024-05-10');
    expect(addBusinessDays(lateFriday, 0, { timeZone: 'UTC' }).dueDate).toBe('2024-05-13');
  });

  it('a late-evening discharge counts from its local date (Thursday 23:30 + 3 = Tuesday)', () => {
    const lateThursday = '2024-05-10T03:30:00Z'; // Thursday 23:30 in New York
    expect(addBusinessDays(lateThursday, 3, NY).dueDate).toBe('2024-05-14');
    expect(addBusinessDays(lateThursday, 3, { timeZone: 'UTC' }).dueDate).toBe('2024-05-15');
  });

  it('the same instant is a different local date in Los Angeles', () => {
    const instant = '2024-05-10T05:30:00Z'; // Friday 01:30 in New York, Thursday 22:30 in Los Angeles
    expect(addBusinessDays(instant, 1, NY).dueAt).toBe('2024-05-13T23:59:59-04:00');
    expect(addBusinessDays(instant, 1, { timeZone: 'America/Los_Angeles' }).dueAt).toBe('2024-05-10T23:59:59-07:00');
  });

  it('writes non-hour offsets', () => {
    expect(addBusinessDays('2024-05-10T12:00:00Z', 1, { timeZone: 'Asia/Kolkata' }).dueAt).toBe('2024-05-13T23:59:59+05:30');
    expect(addBusinessDays('2024-05-10T12:00:00Z', 1, { timeZone: 'Pacific/Chatham' }).dueAt).toBe('2024-05-13T23:59:59+12:45');
  });
});

describe('addBusinessDays: DST', () => {
  it('spring forward: Friday before + 1 is Monday, due with the daylight offset', () => {
    expect(addBusinessDays('2024-03-08T15:00:00-05:00', 1, NY).dueAt).toBe('2024-03-11T23:59:59-04:00');
  });

  it('spring forward day itself ends at 23:59:59-04:00 (a 23-hour day)', () => {
    expect(addBusinessDays('2024-03-09T12:00:00-05:00', 1, NY_EVERY_DAY).dueAt).toBe('2024-03-10T23:59:59-04:00');
    // A discharge right after the jump (03:30 EDT) is still Sunday.
    expect(addBusinessDays('2024-03-10T03:30:00-04:00', 0, NY).dueDate).toBe('2024-03-11');
  });

  it('fall back: Saturday 23:30 EDT + 1 is Monday, due with the standard offset', () => {
    expect(addBusinessDays('2024-11-02T23:30:00-04:00', 1, NY).dueAt).toBe('2024-11-04T23:59:59-05:00');
  });

  it('fall back day itself ends at 23:59:59-05:00 (a 25-hour day); both 01:30s are that Sunday', () => {
    expect(addBusinessDays('2024-11-02T12:00:00-04:00', 1, NY_EVERY_DAY).dueAt).toBe('2024-11-03T23:59:59-05:00');
    expect(addBusinessDays('2024-11-03T01:30:00-04:00', 0, NY_EVERY_DAY).dueDate).toBe('2024-11-03');
    expect(addBusinessDays('2024-11-03T01:30:00-05:00', 0, NY_EVERY_DAY).dueDate).toBe('2024-11-03');
  });

  it('a day counted across a DST switch is a date, not 24 hours (Friday 00:30 + 1 = Monday)', () => {
    // 72 hours after Friday 2024-03-08 00:30 EST is Monday 01:30 EDT; a 24h-step counter would drift.
    expect(addBusinessDays('2024-03-08T00:30:00-05:00', 1, NY).dueDate).toBe('2024-03-11');
    expect(addBusinessDays('2024-11-01T23:59:59-04:00', 1, NY).dueDate).toBe('2024-11-04');
  });

  it('zones that switch at midnight (Santiago)', () => {
    const santiago: BusinessCalendarOptions = { timeZone: 'America/Santiago', weekendDays: [] };
    // 2024-09-08 00:00 -> 01:00: Saturday ends at 23:59:59-04:00, Sunday at 23:59:59-03:00.
    expect(addBusinessDays('2024-09-06', 1, santiago).dueAt).toBe('2024-09-07T23:59:59-04:00');
    expect(addBusinessDays('2024-09-07', 1, santiago).dueAt).toBe('2024-09-08T23:59:59-03:00');
    // 2024-04-07 00:00 -> 2024-04-06 23:00: Saturday's last second is the second 23:59:59, at -04:00.
    expect(addBusinessDays('2024-04-05', 1, santiago).dueAt).toBe('2024-04-06T23:59:59-04:00');
  });

  it('a date the zone skipped is never due (Samoa, 2011-12-30)', () => {
    const apia: BusinessCalendarOptions = { timeZone: 'Pacific/Apia', weekendDays: [] };
    expect(addBusinessDays('2011-12-29', 1, apia)).toEqual({
      dueDate: '2011-12-31',
      dueAt: '2011-12-31T23:59:59+14:00',
      timeZone: 'Pacific/Apia',
    });
  });
});

describe('addBusinessDays: input checks', () => {
  it('rejects a bad n', () => {
    expect(() => addBusinessDays('2024-05-10', -1, NY)).toThrow(RangeError);
    expect(() => addBusinessDays('2024-05-10', 1.5, NY)).toThrow(RangeError);
    expect(() => addBusinessDays('2024-05-10', Number.NaN, NY)).toThrow(RangeError);
    expect(() => addBusinessDays('2024-05-10', 1e9, NY)).toThrow(RangeError);
  });

  it('rejects an unknown zone and a malformed holiday', () => {
    expect(() => addBusinessDays('2024-05-10', 1, { timeZone: 'Mars/Olympus' })).toThrow(/unknown time zone/);
    expect(() => addBusinessDays('2024-05-10', 1, { timeZone: 'UTC', holidays: ['2024-02-30'] })).toThrow(/2024-02-30/);
    expect(() => addBusinessDays('2024-05-10', 1, { timeZone: 'UTC', weekendDays: [0, 1, 2, 3, 4, 5, 6] })).toThrow(/no business days/);
  });

  it('rejects instants without an offset or seconds, and impossible dates, without echoing them', () => {
    for (const bad of ['2024-05-10T10:00:00', '2024-05-10T10:00-04:00', '2024-02-30T10:00:00Z', '2024-05-10T24:00:00Z', 'soon']) {
      let message = '';
      try {
        addBusinessDays(bad, 1, NY);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(/not a date/);
      expect(message).not.toContain(bad);
    }
  });
});

describe('isBusinessDay', () => {
  it('knows weekends and holidays, for dates and instants', () => {
    expect(isBusinessDay('2024-05-10', NY)).toBe(true);
    expect(isBusinessDay('2024-05-11', NY)).toBe(false);
    expect(isBusinessDay('2024-07-04', NY_FEDERAL)).toBe(false);
    expect(isBusinessDay('2024-07-04', NY)).toBe(true);
    // Saturday 00:30 UTC is still Friday in New York.
    expect(isBusinessDay('2024-05-11T00:30:00Z', NY)).toBe(true);
    expect(isBusinessDay('2024-05-11T00:30:00Z', { timeZone: 'UTC' })).toBe(false);
  });
});

describe('businessDaysBetween', () => {
  it('counts business days after from, up to and including to', () => {
    expect(businessDaysBetween('2024-05-10', '2024-05-15', NY)).toBe(3);
    expect(businessDaysBetween('2024-05-10', '2024-05-10', NY)).toBe(0);
    expect(businessDaysBetween('2024-05-15', '2024-05-10', NY)).toBe(-3);
    expect(businessDaysBetween('2024-07-03T10:00:00-04:00', '2024-07-09T09:00:00-04:00', NY_FEDERAL)).toBe(3);
    expect(businessDaysBetween('2024-05-11', '2024-05-12', NY)).toBe(0);
  });

  it('inverts addBusinessDays over two years of start dates (with federal holidays)', () => {
    const start = Date.UTC(2023, 0, 1);
    for (let i = 0; i < 730; i += 3) {
      const from = new Date(start + i * 86_400_000).toISOString().slice(0, 10);
      for (const n of [1, 2, 3, 5, 10]) {
        const due = addBusinessDays(from, n, NY_FEDERAL);
        expect(businessDaysBetween(from, due.dueDate, NY_FEDERAL)).toBe(n);
        expect(isBusinessDay(due.dueDate, NY_FEDERAL)).toBe(true);
      }
      const same = addBusinessDays(from, 0, NY_FEDERAL).dueDate;
      expect(businessDaysBetween(from, same, NY_FEDERAL)).toBe(isBusinessDay(from, NY_FEDERAL) ? 0 : 1);
    }
  });
});

describe('addCalendarDays and isPastDue', () => {
  it('adds plain days to the local date and ends the day in the zone', () => {
    expect(addCalendarDays('2024-05-01T22:30:00-04:00', 30, 'America/New_York')).toEqual({
      dueDate: '2024-05-31',
      dueAt: '2024-05-31T23:59:59-04:00',
      timeZone: 'America/New_York',
    });
    expect(addCalendarDays('2024-03-01', 10, 'America/New_York').dueAt).toBe('2024-03-11T23:59:59-04:00');
    expect(addCalendarDays('2011-12-29', 1, 'Pacific/Apia').dueDate).toBe('2011-12-31');
  });

  it('is past due from the next local midnight on', () => {
    const due = '2024-05-13T23:59:59-04:00';
    expect(isPastDue(due, '2024-05-13T23:59:59-04:00')).toBe(false);
    expect(isPastDue(due, '2024-05-13T23:59:59.999-04:00')).toBe(false);
    expect(isPastDue(due, '2024-05-14T00:00:00-04:00')).toBe(true);
    expect(isPastDue(due, new Date('2024-05-14T03:59:59Z'))).toBe(false);
    expect(isPastDue(due, new Date('2024-05-14T04:00:00Z'))).toBe(true);
    expect(() => isPastDue('2024-05-13', '2024-05-14T00:00:00Z')).toThrow(RangeError);
  });
});
