import { describe, expect, it } from 'vitest';
import {
  formatOffset,
  isValidTimeZone,
  parseHl7DateTime,
  toFhirDate,
  toFhirDateTime,
  toFhirInstant,
  zoneOffsetMinutes,
} from '../../../src/fhir/datetime.js';

const ok = (value: string) => expect.objectContaining({ ok: true, value });
const bad = (code: string) => expect.objectContaining({ ok: false, code, reason: expect.any(String) });

describe('precision is preserved', () => {
  it.each([
    ['2024', '2024', 'year'],
    ['202405', '2024-05', 'month'],
    ['20240501', '2024-05-01', 'day'],
  ])('dateTime %s -> %s', (v2, fhir, precision) => {
    expect(toFhirDateTime(v2)).toEqual({ ok: true, value: fhir, precision });
    expect(toFhirDate(v2)).toEqual({ ok: true, value: fhir, precision });
  });

  it('a time always gets seconds and an offset', () => {
    expect(toFhirDateTime('2024050114')).toEqual({ ok: true, value: '2024-05-01T14:00:00-04:00', precision: 'hour' });
    expect(toFhirDateTime('202405011432')).toEqual({ ok: true, value: '2024-05-01T14:32:00-04:00', precision: 'minute' });
    expect(toFhirDateTime('20240501143207')).toEqual({ ok: true, value: '2024-05-01T14:32:07-04:00', precision: 'second' });
  });

  it('keeps fractional seconds as sent', () => {
    expect(toFhirDateTime('20240501143207.1234')).toEqual(ok('2024-05-01T14:32:07.1234-04:00'));
    expect(toFhirInstant('20240501143207.5-0500')).toEqual(ok('2024-05-01T14:32:07.5-05:00'));
  });

  it('an explicit offset wins over the zone', () => {
    expect(toFhirDateTime('20240115080000+0100')).toEqual(ok('2024-01-15T08:00:00+01:00'));
    expect(toFhirDateTime('20240115080000-0000', { timeZone: 'Asia/Tokyo' })).toEqual(ok('2024-01-15T08:00:00+00:00'));
    expect(toFhirDateTime('20240115080000+0530')).toEqual(ok('2024-01-15T08:00:00+05:30'));
  });

  it('date drops the time part and the offset (no zone shift for a birth date)', () => {
    expect(toFhirDate('19800101233000-0800')).toEqual({ ok: true, value: '1980-01-01', precision: 'day' });
  });

  it('trims whitespace around the value', () => {
    expect(toFhirDate(' 20240501 ')).toEqual(ok('2024-05-01'));
  });
});

describe('time zones', () => {
  it('defaults to America/New_York (EST in winter, EDT in summer)', () => {
    expect(toFhirDateTime('20240115080000')).toEqual(ok('2024-01-15T08:00:00-05:00'));
    expect(toFhirDateTime('20240715080000')).toEqual(ok('2024-07-15T08:00:00-04:00'));
  });

  it('uses the given IANA zone', () => {
    expect(toFhirDateTime('20240715080000', { timeZone: 'America/Los_Angeles' })).toEqual(ok('2024-07-15T08:00:00-07:00'));
    expect(toFhirDateTime('20240715080000', { timeZone: 'America/Phoenix' })).toEqual(ok('2024-07-15T08:00:00-07:00'));
    expect(toFhirDateTime('20240715080000', { timeZone: 'Asia/Kolkata' })).toEqual(ok('2024-07-15T08:00:00+05:30'));
    expect(toFhirDateTime('20240715080000', { timeZone: 'UTC' })).toEqual(ok('2024-07-15T08:00:00+00:00'));
  });

  it('an unknown zone is a typed failure', () => {
    expect(toFhirDateTime('20240715080000', { timeZone: 'America/Nowhere' })).toEqual(bad('time-zone'));
    expect(isValidTimeZone('America/Nowhere')).toBe(false);
    expect(isValidTimeZone('America/Chicago')).toBe(true);
  });

  it('zoneOffsetMinutes answers for an instant', () => {
    expect(zoneOffsetMinutes(Date.UTC(2024, 0, 1), 'America/New_York')).toBe(-300);
    expect(zoneOffsetMinutes(Date.UTC(2024, 6, 1), 'America/New_York')).toBe(-240);
    expect(zoneOffsetMinutes(0, 'Nope/Nope')).toBeUndefined();
  });

  it('formatOffset', () => {
    expect(formatOffset(-300)).toBe('-05:00');
    expect(formatOffset(330)).toBe('+05:30');
    expect(formatOffset(0)).toBe('+00:00');
  });
});

describe('DST boundaries in America/New_York', () => {
  it('spring forward 2024-03-10: 02:30 does not exist -> shifted to 03:30 EDT, flagged', () => {
    expect(toFhirDateTime('20240310023000')).toEqual({
      ok: true,
      value: '2024-03-10T03:30:00-04:00',
      precision: 'second',
      adjustment: 'dst-gap-shifted',
    });
    // Same instant as reading 02:30 with the pre-switch offset.
    expect(Date.parse('2024-03-10T03:30:00-04:00')).toBe(Date.parse('2024-03-10T02:30:00-05:00'));
  });

  it('around the gap: 01:59:59 EST and 03:00 EDT are unambiguous', () => {
    expect(toFhirDateTime('20240310015959')).toEqual({ ok: true, value: '2024-03-10T01:59:59-05:00', precision: 'second' });
    expect(toFhirDateTime('20240310030000')).toEqual({ ok: true, value: '2024-03-10T03:00:00-04:00', precision: 'second' });
    expect(toFhirDateTime('202403100200')).toEqual(
      expect.objectContaining({ value: '2024-03-10T03:00:00-04:00', adjustment: 'dst-gap-shifted' }),
    );
  });

  it('fall back 2024-11-03: 01:30 happens twice -> the earlier (EDT) instant, flagged', () => {
    expect(toFhirDateTime('20241103013000')).toEqual({
      ok: true,
      value: '2024-11-03T01:30:00-04:00',
      precision: 'second',
      adjustment: 'dst-ambiguous-earlier',
    });
  });

  it('around the overlap: 00:59 EDT and 02:00 EST are unambiguous', () => {
    expect(toFhirDateTime('202411030059')).toEqual({ ok: true, value: '2024-11-03T00:59:00-04:00', precision: 'minute' });
    expect(toFhirDateTime('202411030200')).toEqual({ ok: true, value: '2024-11-03T02:00:00-05:00', precision: 'minute' });
  });

  it('an explicit offset inside the gap/overlap is taken as sent', () => {
    expect(toFhirDateTime('20241103013000-0500')).toEqual({ ok: true, value: '2024-11-03T01:30:00-05:00', precision: 'second' });
  });

  it('instants follow the same rules', () => {
    expect(toFhirInstant('20240310023000')).toEqual(expect.objectContaining({ value: '2024-03-10T03:30:00-04:00' }));
    expect(toFhirInstant('20241103013000')).toEqual(expect.objectContaining({ value: '2024-11-03T01:30:00-04:00' }));
  });

  it('southern hemisphere zone (Australia/Sydney) fall back 2024-04-07 02:30 -> earlier (+11:00)', () => {
    expect(toFhirDateTime('20240407023000', { timeZone: 'Australia/Sydney' })).toEqual(
      expect.objectContaining({ value: '2024-04-07T02:30:00+11:00', adjustment: 'dst-ambiguous-earlier' }),
    );
  });
});

describe('instant', () => {
  it('zero-fills minutes and seconds and adds the offset', () => {
    expect(toFhirInstant('2024050114')).toEqual(ok('2024-05-01T14:00:00-04:00'));
  });

  it('refuses a value without a time', () => {
    expect(toFhirInstant('20240501')).toEqual(bad('precision'));
    expect(toFhirInstant('2024')).toEqual(bad('precision'));
  });
});

describe('invalid input is a typed failure, never an invalid value', () => {
  it.each([
    ['20241301', 'range'], // month 13
    ['20240001', 'range'], // month 0
    ['20240230', 'range'], // Feb 30
    ['20230229', 'range'], // not a leap year
    ['20240431', 'range'], // April 31
    ['20240101250000', 'range'], // hour 25
    ['20240101126000', 'range'], // minute 60
    ['20240101120060', 'range'], // second 60
    ['00000000', 'range'], // year 0 ("null date" some senders use)
    ['20240101120000+1500', 'range'], // offset beyond +14:00
    ['20240101120000+0160', 'range'],
    ['', 'syntax'],
    ['garbage', 'syntax'],
    ['2024-05-01', 'syntax'], // already ISO: not v2
    ['2024051', 'syntax'], // odd length
    ['20240501T1200', 'syntax'],
    ['20240501.5', 'syntax'], // fraction without seconds
    ['20240501120000+05', 'syntax'], // short offset
    ['""', 'syntax'], // the v2 explicit null
  ])('%s -> %s', (v2, code) => {
    for (const convert of [toFhirDate, toFhirDateTime, toFhirInstant]) {
      const r = convert(v2);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.code).toBe(code);
    }
  });

  it('accepts leap day in a leap year and 2000 (divisible by 400)', () => {
    expect(toFhirDate('20240229')).toEqual(ok('2024-02-29'));
    expect(toFhirDate('20000229')).toEqual(ok('2000-02-29'));
    expect(toFhirDate('19000229')).toEqual(bad('range'));
  });

  it('does not echo the value in the reason (birth dates are PHI)', () => {
    const r = toFhirDate('19610615X');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).not.toContain('19610615');
  });
});

describe('parseHl7DateTime', () => {
  it('exposes the components and the explicit offset', () => {
    expect(parseHl7DateTime('20240501143207.12-0330')).toEqual({
      ok: true,
      value: { year: 2024, month: 5, day: 1, hour: 14, minute: 32, second: 7, fraction: '12', offsetMinutes: -210, precision: 'second' },
    });
  });

  it('handles years before 100 without Date.UTC century mapping', () => {
    expect(toFhirDateTime('00500101120000+0000')).toEqual(ok('0050-01-01T12:00:00+00:00'));
    const r = toFhirDateTime('00500101120000', { timeZone: 'UTC' });
    expect(r).toEqual(ok('0050-01-01T12:00:00+00:00'));
  });
});
