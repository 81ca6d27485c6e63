import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMemberLayout, memberLayoutPath } from '../../../../adapters/member-common/layout-loader.js';
import { MEMBER_FORMATS } from '../../../../adapters/member-common/layout-schema.js';
import { ProfileError } from '../../../../src/mapping/profile-loader.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function mappingsWith(file: string, yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cb-member-layout-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'partners', 'acme'), { recursive: true });
  writeFileSync(join(dir, 'partners', 'acme', file), yaml);
  return dir;
}

function problem(file: string, yaml: string, format = file.replace(/^member-|\.yaml$/g, '')): ProfileError {
  const dir = mappingsWith(file, yaml);
  try {
    loadMemberLayout({ partner: 'acme', format: format as (typeof MEMBER_FORMATS)[number], mappingsDir: dir });
  } catch (e) {
    expect(e).toBeInstanceOf(ProfileError);
    return e as ProfileError;
  }
  throw new Error('expected a ProfileError');
}

const CSV_OK = 'id: acme\nformat: delimited\nmemberIdSystem: urn:oid:1.2.3\nfields: { memberId: ID }\n';

describe('member layout loading', () => {
  it('loads every shipped example layout', () => {
    for (const format of MEMBER_FORMATS) {
      const layout = loadMemberLayout({ partner: 'example-aco', format });
      expect(layout.format).toBe(format);
      expect(layout.id).toBe('example-aco');
    }
  });

  it('fills defaults and accepts delimiter words', () => {
    const dir = mappingsWith('member-delimited.yaml', `${CSV_OK}delimiter: tab\n`);
    const layout = loadMemberLayout({ partner: 'acme', format: 'delimited', mappingsDir: dir });
    expect(layout).toMatchObject({
      delimiter: '\t',
      quote: '"',
      header: true,
      encoding: 'utf-8',
      dateFormats: ['YYYY-MM-DD'],
      keepRaw: true,
      raggedRows: 'error',
    });
  });

  it('loads a layout by file path', () => {
    const dir = mappingsWith('member-delimited.yaml', CSV_OK);
    expect(loadMemberLayout({ file: memberLayoutPath('acme', 'delimited', dir) }).format).toBe('delimited');
  });

  const cases: [string, string, string, RegExp][] = [
    [
      'missing member id field',
      'member-delimited.yaml',
      'id: acme\nformat: delimited\nmemberIdSystem: urn:oid:1.2.3\nfields: { family: LAST }\n',
      /member-delimited\.yaml: fields\.memberId: is required/,
    ],
    ['bad delimiter', 'member-delimited.yaml', `${CSV_OK}delimiter: '#'\n`, /delimiter: must be one of , \\t \| ;/],
    ['quote equal to delimiter', 'member-delimited.yaml', `${CSV_OK}delimiter: '|'\nquote: '|'\n`, /quote: must differ from the delimiter/],
    [
      'bad date format',
      'member-delimited.yaml',
      `${CSV_OK}dateFormats: [MM/YYYY]\n`,
      /dateFormats\[0\]: must contain YYYY, MM \(or M\) and DD/,
    ],
    [
      'relative system',
      'member-delimited.yaml',
      'id: acme\nformat: delimited\nmemberIdSystem: member-ids\nfields: { memberId: ID }\n',
      /memberIdSystem: must be an absolute URI/,
    ],
    [
      'unknown field',
      'member-delimited.yaml',
      `${CSV_OK.replace('{ memberId: ID }', '{ memberId: ID, shoeSize: S }')}`,
      /fields\.shoeSize: unknown key/,
    ],
    [
      'bad source shape',
      'member-delimited.yaml',
      `${CSV_OK.replace('{ memberId: ID }', '{ memberId: { col: ID } }')}`,
      /fields\.memberId: must be a column name, \{column/,
    ],
    ['no header and no columns', 'member-delimited.yaml', `${CSV_OK}header: false\n`, /columns: required when header: false/],
    [
      'bad consent category',
      'member-delimited.yaml',
      `${CSV_OK}consent: [{ column: C, partner: cp1, category: mental, granted: [Y] }]\n`,
      /consent\[0\]\.category/,
    ],
    [
      'unknown format',
      'member-delimited.yaml',
      'id: acme\nformat: csv\n',
      /member-delimited\.yaml: format: must be one of delimited, fixed-width, xlsx, x12-834/,
    ],
    [
      'fixed-width end before start',
      'member-fixed-width.yaml',
      'id: acme\nformat: fixed-width\nmemberIdSystem: urn:oid:1.2.3\ncolumns: [{ name: ID, start: 5, end: 2 }]\nfields: { memberId: ID }\n',
      /columns\[0\]\.end: must not be before start/,
    ],
    [
      'fixed-width duplicate column',
      'member-fixed-width.yaml',
      'id: acme\nformat: fixed-width\nmemberIdSystem: urn:oid:1.2.3\ncolumns: [{ name: ID, start: 1, length: 2 }, { name: id, start: 3, length: 2 }]\nfields: { memberId: ID }\n',
      /columns\[1\]\.name: is a duplicate/,
    ],
    [
      '834 bad REF qualifier',
      'member-x12-834.yaml',
      'id: acme\nformat: x12-834\nmemberIdSystem: urn:oid:1.2.3\nidentifiers: { ref: { "0f x": { system: "urn:oid:1" } } }\n',
      /identifiers\.ref/,
    ],
    [
      '834 bad attribution source',
      'member-x12-834.yaml',
      'id: acme\nformat: x12-834\nmemberIdSystem: urn:oid:1.2.3\nattribution: { aco: { segment: N1 } }\n',
      /attribution\.aco: must be \{value\}, \{ref\}/,
    ],
    [
      'id differs from the folder',
      'member-delimited.yaml',
      CSV_OK.replace('id: acme', 'id: other'),
      /member-delimited\.yaml: id: must be 'acme'/,
    ],
    ['format differs from the file name', 'member-xlsx.yaml', CSV_OK, /member-xlsx\.yaml: format: must be 'xlsx'/],
    ['invalid YAML', 'member-delimited.yaml', 'id: acme\nfields: [unclosed\n', /is not valid YAML at line \d+/],
    ['not a mapping', 'member-delimited.yaml', '- a\n- b\n', /must be a YAML mapping/],
  ];
  it.each(cases)('%s', (_name, file, yaml, expected) => {
    expect(problem(file, yaml).message).toMatch(expected);
  });

  it('says when the partner has no such layout', () => {
    const dir = mappingsWith('member-delimited.yaml', CSV_OK);
    expect(() => loadMemberLayout({ partner: 'acme', format: 'xlsx', mappingsDir: dir })).toThrow(/member-xlsx\.yaml: cannot be read/);
  });
});
