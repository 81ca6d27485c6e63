import { describe, expect, it } from 'vitest';
import {
  formatInstantInZone,
  formatLocalDate,
  instantMillis,
  lastSecondOfLocalDay,
  localDayAt,
  parseLocalDate,
  weekdayOf,
} from '../../../src/careplan/local-date.js';

describe('local dates', () => {
  it('parses only real calendar dates and round-trips them', () => {
    expect(parseLocalDate('2024-02-29')).toBe(19782);
    expect(formatLocalDate(19782)).toBe('2024-02-29');
    expect(parseLocalDate('2023-02-29')).toBeUndefined();
    expect(parseLocalDate('2024-13-01')).toBeUndefined();
    expect(parseLocalDate('2024-5-1')).toBeUndefined();
    expect(formatLocalDate(parseLocalDate('0099-12-31')!)).toBe('0099-12-31');
    expect(weekdayOf(parseLocalDate('2024-05-10')!)).toBe(5);
    expect(weekdayOf(parseLocalDate('1969-12-28')!)).toBe(0);
  });

  it('reads FHIR instants strictly (Date.parse accepts Feb 30 and 24:00)', () => {
    expect(instantMillis('2024-05-10T23:30:00-04:00')).toBe(Date.UTC(2024, 4, 11, 3, 30));
    expect(instantMillis('2024-05-10T23:30:00.25+05:30')).toBe(Date.UTC(2024, 4, 10, 18, 0, 0, 250));
    expect(instantMillis('2024-05-10T23:30:00Z')).toBe(Date.UTC(2024, 4, 10, 23, 30));
    for (const bad of [
      '2024-02-30T00:00:00Z',
      '2024-05-10T24:00:00Z',
      '2024-05-10T10:00:00',
      '2024-05-10T10:00Z',
      '2024-05-10T10:00:00+15:00',
    ]) {
      expect(instantMillis(bad), bad).toBeUndefined();
    }
    expect(instantMillis(new Date(Number.NaN))).toBeUndefined();
  });

  it('converts instants to local dates and back to the last second of a local day', () => {
    const ms = Date.UTC(2024, 4, 11, 3, 30); // Friday 23:30 in New York
    expect(formatLocalDate(localDayAt(ms, 'America/New_York'))).toBe('2024-05-10');
    expect(formatLocalDate(localDayAt(ms, 'UTC'))).toBe('2024-05-11');
    expect(formatInstantInZone(ms, 'America/New_York')).toBe('2024-05-10T23:30:00-04:00');
    const last = lastSecondOfLocalDay(parseLocalDate('2024-03-10')!, 'America/New_York')!;
    expect(formatInstantInZone(last, 'America/New_York')).toBe('2024-03-10T23:59:59-04:00');
    expect(lastSecondOfLocalDay(parseLocalDate('2011-12-30')!, 'Pacific/Apia')).toBeUndefined();
  });
});
