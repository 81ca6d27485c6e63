import { describe, expect, it } from 'vitest';
import { compileDateFormat, isOpenEnd, parseDate } from '../../../../adapters/member-common/dates.js';
import { isValidNpi, normalizeZip } from '../../../../adapters/member-common/validators.js';

describe('member file dates', () => {
  const us = [compileDateFormat('MM/DD/YYYY')];

  it('parses the configured format and always ISO', () => {
    expect(parseDate('01/02/1980', us)).toBe('1980-01-02');
    expect(parseDate('1980-01-02', us)).toBe('1980-01-02');
    expect(parseDate('19800102', [compileDateFormat('YYYYMMDD')])).toBe('1980-01-02');
    expect(parseDate('2/3/1980', [compileDateFormat('M/D/YYYY')])).toBe('1980-02-03');
    expect(parseDate('03.02.1980', [compileDateFormat('DD.MM.YYYY')])).toBe('1980-02-03');
  });

  it('accepts a midnight time appended by spreadsheet exports', () => {
    expect(parseDate('01/02/1980 00:00:00', us)).toBe('1980-01-02');
    expect(parseDate('01/02/1980 12:00 AM', us)).toBe('1980-01-02');
    expect(parseDate('1980-01-02T00:00:00Z', us)).toBe('1980-01-02');
  });

  it('rejects dates that do not exist or do not match', () => {
    for (const bad of ['02/30/2001', '02/29/1900', '13/01/2001', '00/10/2001', '1/2/80', '01-02-1980', '', 'tomorrow', '01/02/1799']) {
      expect(parseDate(bad, us), bad).toBeUndefined();
    }
    expect(parseDate('02/29/2000', us)).toBe('2000-02-29');
  });

  it('treats year 9999 as an open end', () => {
    expect(isOpenEnd(parseDate('12/31/9999', us)!)).toBe(true);
    expect(isOpenEnd('2026-12-31')).toBe(false);
  });

  it('refuses formats without all three parts or with stray letters', () => {
    expect(() => compileDateFormat('MM/YYYY')).toThrow(/YYYY, MM .* and DD/);
    expect(() => compileDateFormat('YY-MM-DD')).toThrow();
    expect(() => compileDateFormat('MM/DD/YYYY hh')).toThrow(/letters or digits/);
  });
});

describe('member value checks', () => {
  it('checks NPI check digits', () => {
    expect(isValidNpi('1234567893')).toBe(true);
    expect(isValidNpi('1234567890')).toBe(false);
    expect(isValidNpi('123456789')).toBe(false);
    expect(isValidNpi('12345678AB')).toBe(false);
  });

  it('normalizes ZIP and ZIP+4', () => {
    expect(normalizeZip('02134')).toBe('02134');
    expect(normalizeZip('975260000')).toBe('97526-0000');
    expect(normalizeZip('97526-0000')).toBe('97526-0000');
    expect(normalizeZip('2134')).toBeUndefined();
    expect(normalizeZip('K1A 0B1')).toBeUndefined();
  });
});
