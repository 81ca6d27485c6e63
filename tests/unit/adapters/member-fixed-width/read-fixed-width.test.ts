import { describe, expect, it } from 'vitest';
import { loadMemberLayout } from '../../../../adapters/member-common/layout-loader.js';
import { readMemberFile } from '../../../../adapters/member-common/read-member-file.js';
import { readFixedWidthMembers } from '../../../../adapters/member-fixed-width/read-fixed-width.js';
import { chunked, collect, errors, layout, records } from '../member-common/helpers.js';

/** One record of the example-aco fixed-width layout, padded to its positions. */
function detail(
  f: { id: string; last?: string; first?: string; dob?: string; sex?: string; zip?: string; cp?: string; eff?: string; term?: string },
  type = 'D',
): string {
  return (
    type +
    f.id.padEnd(12) +
    (f.last ?? '').padEnd(20) +
    (f.first ?? '').padEnd(15) +
    (f.dob ?? '').padEnd(8) +
    (f.sex ?? ' ') +
    (f.zip ?? '').padEnd(9) +
    (f.cp ?? '').padEnd(10) +
    (f.eff ?? '').padEnd(8) +
    (f.term ?? '').padEnd(8)
  );
}

describe('fixed-width member files', () => {
  const example = loadMemberLayout({ partner: 'example-aco', format: 'fixed-width' });

  it('cuts fields at 1-based positions, trims, skips header/trailer records and reads latin1', async () => {
    const text = [
      'H20260401EXAMPLE ACO ROSTER',
      detail({
        id: '100000000001',
        last: 'Müller',
        first: 'José',
        dob: '19800102',
        sex: 'M',
        zip: '021341234',
        cp: 'CP-NORTH',
        eff: '20260101',
        term: '99991231',
      }),
      detail({
        id: '100000000002',
        last: 'Lee',
        first: 'Ann',
        dob: '19991231',
        sex: 'F',
        zip: '01001',
        cp: 'CP-WEST',
        eff: '20260201',
        term: '20260630',
      }),
      'T000002',
    ].join('\r\n');
    const items = await collect(readMemberFile(chunked(Buffer.from(text, 'latin1'), [13]), example));
    expect(errors(items)).toEqual([]);
    expect(
      records(items).map((r) => ({
        line: r.line,
        id: r.memberId,
        name: r.name,
        birthDate: r.birthDate,
        sex: r.sex,
        address: r.address,
        attribution: r.attribution,
      })),
    ).toEqual([
      {
        line: 2,
        id: '100000000001',
        name: { family: 'Müller', given: ['José'] },
        birthDate: '1980-01-02',
        sex: 'male',
        address: { postalCode: '02134-1234' },
        attribution: { aco: 'example-aco', cp: 'CP-NORTH', start: '2026-01-01' },
      },
      {
        line: 3,
        id: '100000000002',
        name: { family: 'Lee', given: ['Ann'] },
        birthDate: '1999-12-31',
        sex: 'female',
        address: { postalCode: '01001' },
        attribution: { aco: 'example-aco', cp: 'CP-WEST', start: '2026-02-01', end: '2026-06-30' },
      },
    ]);
    expect(records(items)[0].raw).toMatchObject({ REC_TYPE: 'D', MEMBER_ID: '100000000001', DOB: '19800102' });
  });

  it('reports bad dates and missing ids by line; trailing blanks may be trimmed', async () => {
    const text = [
      detail({ id: '', last: 'Nobody' }),
      detail({ id: 'M2', dob: '19801340' }),
      detail({ id: 'M3', last: 'Short' }).trimEnd(),
      '',
      detail({ id: 'M5', dob: '2001022' }),
    ].join('\n');
    const items = await collect(readMemberFile(chunked(text), example));
    expect(errors(items)).toEqual([
      { line: 1, reason: 'MEMBER_ID: missing member id' },
      { line: 2, memberId: 'M2', reason: 'DOB: not a date (YYYYMMDD or YYYY-MM-DD)' },
      { line: 5, memberId: 'M5', reason: 'DOB: not a date (YYYYMMDD or YYYY-MM-DD)' },
    ]);
    expect(records(items).map((r) => [r.line, r.memberId, r.name?.family])).toEqual([[3, 'M3', 'Short']]);
  });

  it('can require full-length lines', async () => {
    const strict = layout({
      format: 'fixed-width',
      shortLines: 'error',
      skipLines: 1,
      columns: [
        { name: 'ID', start: 1, length: 4 },
        { name: 'NAME', start: 5, end: 10 },
      ],
      fields: { memberId: 'ID', family: 'NAME' },
    });
    const items = await collect(readFixedWidthMembers(chunked('HEADER LINE\nM001Smith \nM002Li\n'), strict));
    expect(records(items).map((r) => [r.memberId, r.name?.family])).toEqual([['M001', 'Smith']]);
    expect(errors(items)).toEqual([{ line: 3, memberId: 'M002', reason: 'line has 6 characters, the layout needs 10' }]);
  });
});
