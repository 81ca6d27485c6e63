import { describe, expect, it } from 'vitest';
import { usFederalHolidayDates, usFederalHolidays } from '../../../src/careplan/us-federal-holidays.js';

// Expected lists: OPM's federal holiday schedules for these years.
describe('usFederalHolidays', () => {
  it('2024: eleven holidays, none on a weekend', () => {
    expect(usFederalHolidayDates(2024)).toEqual([
      '2024-01-01',
      '2024-01-15',
      '2024-02-19',
      '2024-05-27',
      '2024-06-19',
      '2024-07-04',
      '2024-09-02',
      '2024-10-14',
      '2024-11-11',
      '2024-11-28',
      '2024-12-25',
    ]);
  });

  it("2021: Saturday holidays move to Friday, including New Year's Day 2022 on December 31", () => {
    expect(usFederalHolidayDates(2021)).toEqual([
      '2021-01-01',
      '2021-01-18',
      '2021-02-15',
      '2021-05-31',
      '2021-06-18',
      '2021-07-05',
      '2021-09-06',
      '2021-10-11',
      '2021-11-11',
      '2021-11-25',
      '2021-12-24',
      '2021-12-31',
    ]);
    const newYear = usFederalHolidays(2021).at(-1);
    expect(newYear).toEqual({ date: '2021-12-31', actualDate: '2022-01-01', name: "New Year's Day" });
  });

  it("2022: no New Year's Day in January (observed in 2021); Sunday holidays move to Monday", () => {
    expect(usFederalHolidayDates(2022)).toEqual([
      '2022-01-17',
      '2022-02-21',
      '2022-05-30',
      '2022-06-20',
      '2022-07-04',
      '2022-09-05',
      '2022-10-10',
      '2022-11-11',
      '2022-11-24',
      '2022-12-26',
    ]);
  });

  it('2023: Sunday New Year and Saturday Veterans Day', () => {
    expect(usFederalHolidayDates(2023)).toEqual([
      '2023-01-02',
      '2023-01-16',
      '2023-02-20',
      '2023-05-29',
      '2023-06-19',
      '2023-07-04',
      '2023-09-04',
      '2023-10-09',
      '2023-11-10',
      '2023-11-23',
      '2023-12-25',
    ]);
  });

  it('no Juneteenth before 2021', () => {
    const names = usFederalHolidays(2020).map((h) => h.name);
    expect(names).not.toContain('Juneteenth National Independence Day');
    expect(usFederalHolidayDates(2020)).toContain('2020-07-03'); // July 4, 2020 was a Saturday
  });

  it('observed: false keeps the legal dates', () => {
    const dates = usFederalHolidays(2022, { observed: false }).map((h) => h.date);
    expect(dates).toContain('2022-01-01');
    expect(dates).toContain('2022-06-19');
    expect(dates).toContain('2022-12-25');
    expect(usFederalHolidays(2021, { observed: false }).map((h) => h.date)).not.toContain('2021-12-31');
  });

  it('Monday holidays are Mondays and Thanksgiving is a Thursday, every year', () => {
    for (let year = 1990; year <= 2060; year++) {
      for (const h of usFederalHolidays(year)) {
        const weekday = new Date(`${h.date}T00:00:00Z`).getUTCDay();
        expect(weekday, `${h.name} ${h.date}`).toBeGreaterThanOrEqual(1);
        expect(weekday, `${h.name} ${h.date}`).toBeLessThanOrEqual(5);
        if (h.name === 'Thanksgiving Day') expect(weekday).toBe(4);
        expect(h.date.startsWith(String(year))).toBe(true);
      }
    }
  });

  it('rejects years outside the modeled range', () => {
    expect(() => usFederalHolidays(1985)).toThrow(RangeError);
    expect(() => usFederalHolidays(2024.5)).toThrow(RangeError);
  });
});
