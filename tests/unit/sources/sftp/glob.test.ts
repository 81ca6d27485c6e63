import { describe, expect, test } from 'vitest';
import { fileNameMatcher, globToRegExp } from '../../../../src/sources/sftp/glob.js';

describe('file name globs', () => {
  test.each([
    ['*', 'members.csv', true],
    ['*.csv', 'members.csv', true],
    ['*.csv', 'members.csv.done', false],
    ['*.csv', 'members.CSV', false],
    ['members_????????.csv', 'members_20250101.csv', true],
    ['members_????????.csv', 'members_2025011.csv', false],
    ['*.{csv,txt}', 'a.txt', true],
    ['*.{csv,txt}', 'a.xlsx', false],
    ['[ab]*.csv', 'b1.csv', true],
    ['[!ab]*.csv', 'b1.csv', false],
    ['[a-c]x', 'cx', true],
    ['a+b(1).csv', 'a+b(1).csv', true],
    ['a.csv', 'abcsv', false],
    ['\\*.csv', '*.csv', true],
    ['\\*.csv', 'x.csv', false],
  ])('%s matches %s: %s', (glob, name, expected) => {
    expect(fileNameMatcher(glob)(name)).toBe(expected);
  });

  test('wildcards skip hidden names (upload tools write .name.part) unless the pattern starts with a dot', () => {
    expect(fileNameMatcher('*')('.members.csv.part')).toBe(false);
    expect(fileNameMatcher('*.csv')('.hidden.csv')).toBe(false);
    expect(fileNameMatcher('.*.csv')('.hidden.csv')).toBe(true);
  });

  test('unclosed classes and braces are errors', () => {
    expect(() => globToRegExp('[abc')).toThrow(/unclosed "\["/);
    expect(() => globToRegExp('{a,b')).toThrow(/unclosed "\{"/);
  });
});
