import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMemberLayout } from '../../../../adapters/member-common/layout-loader.js';
import { readMemberFile } from '../../../../adapters/member-common/read-member-file.js';
import { readXlsxMembers } from '../../../../adapters/member-xlsx/read-xlsx.js';
import { chunked, collect, errors, layout, records } from '../member-common/helpers.js';

let dir: string;
let workbookFile: string;
let streamedFile: string;

const HEADER = [
  'Member ID',
  'Last Name',
  'First Name',
  'Date of Birth',
  'Sex',
  'ZIP',
  'Assigned CP',
  'Assignment Start',
  'Assignment End',
  'BH Consent',
  'Notes',
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cb-members-xlsx-'));
  // A workbook as an ACO would send it: an instructions tab first, a banner row, typed cells.
  const wb = new ExcelJS.Workbook();
  wb.addWorksheet('Instructions').addRow(['Read me first']);
  const ws = wb.addWorksheet('Assignments');
  ws.addRow(['CP assignments, April 2026']);
  ws.addRow(HEADER);
  ws.addRow([
    12345678,
    { richText: [{ text: 'Mc' }, { text: 'Kay' }] },
    'Ann',
    new Date(Date.UTC(1980, 0, 2)),
    'F',
    2134,
    'CP-NORTH',
    new Date(Date.UTC(2026, 0, 1)),
    null,
    true,
    'x',
  ]);
  ws.getCell('D3').numFmt = 'mm/dd/yyyy';
  ws.getCell('H3').numFmt = 'mm/dd/yyyy';
  ws.addRow([]); // blank row 4: skipped, numbering goes on
  ws.addRow([
    '100000000005',
    'Lee',
    'Bo',
    '07/04/1976',
    'M',
    '01001',
    { formula: 'CONCAT("CP-","WEST")', result: 'CP-WEST' },
    '04/01/2026',
    '06/30/2026',
    'N',
  ]);
  ws.addRow(['100000000006', 'Bad', 'Date', '31/12/1990', 'M', '01001', 'CP-WEST', '04/01/2026', '', '']);
  ws.addRow(['', 'No', 'Id', '01/01/1990', 'F', '01001', 'CP-WEST', '04/01/2026', '', '']);
  ws.addRow(['100000000008', 'Err', 'Cell', { error: '#N/A' }, 'F', '01001', 'CP-WEST', '04/01/2026', '', '']);
  workbookFile = join(dir, 'roster.xlsx');
  await wb.xlsx.writeFile(workbookFile);

  // The streaming writer stores parts in another order (worksheets before shared strings).
  streamedFile = join(dir, 'streamed.xlsx');
  const sw = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: streamedFile, useSharedStrings: true, useStyles: true });
  const s = sw.addWorksheet('Roster');
  s.addRow(['ID', 'DOB']).commit();
  for (let i = 1; i <= 500; i++) {
    const r = s.addRow([`M${i}`, new Date(Date.UTC(1970, 0, i))]);
    r.getCell(2).numFmt = 'yyyy-mm-dd';
    r.commit();
  }
  s.commit();
  await sw.commit();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('XLSX member files', () => {
  it('reads the named sheet below its banner: typed cells, rich text, formulas, padded ids and ZIPs', async () => {
    const example = loadMemberLayout({ partner: 'example-aco', format: 'xlsx' });
    const items = await collect(readMemberFile(createReadStream(workbookFile), example));
    expect(
      records(items).map((r) => ({
        line: r.line,
        id: r.memberId,
        name: r.name,
        dob: r.birthDate,
        zip: r.address?.postalCode,
        a: r.attribution,
        consent: r.consent,
      })),
    ).toEqual([
      {
        line: 3,
        id: '000012345678',
        name: { family: 'McKay', given: ['Ann'] },
        dob: '1980-01-02',
        zip: '02134',
        a: { aco: 'example-aco', cp: 'CP-NORTH', start: '2026-01-01' },
        consent: [{ partner: 'example-cp', category: 'behavioral-health', granted: true }],
      },
      {
        line: 5,
        id: '100000000005',
        name: { family: 'Lee', given: ['Bo'] },
        dob: '1976-07-04',
        zip: '01001',
        a: { aco: 'example-aco', cp: 'CP-WEST', start: '2026-04-01', end: '2026-06-30' },
        consent: [{ partner: 'example-cp', category: 'behavioral-health', granted: false }],
      },
      // An Excel error value (#N/A) reads as an empty cell.
      {
        line: 8,
        id: '100000000008',
        name: { family: 'Err', given: ['Cell'] },
        dob: undefined,
        zip: '01001',
        a: { aco: 'example-aco', cp: 'CP-WEST', start: '2026-04-01' },
        consent: undefined,
      },
    ]);
    expect(errors(items)).toEqual([
      { line: 6, memberId: '100000000006', reason: 'Date of Birth: not a date (MM/DD/YYYY or YYYY-MM-DD)' },
      { line: 7, reason: 'Member ID: missing member id' },
    ]);
  });

  it('selects a sheet by position and reads from chunks as well as from a stream', async () => {
    const l = layout({ format: 'xlsx', sheet: 2, headerRow: 2, fields: { memberId: 'Member ID' } });
    const fromChunks = await collect(readXlsxMembers(chunked(readFileSync(workbookFile), [1000]), l));
    expect(records(fromChunks).map((r) => r.memberId)).toEqual(['12345678', '100000000005', '100000000006', '100000000008']);
  });

  it('streams a workbook whose worksheets precede the shared strings', async () => {
    const l = layout({ format: 'xlsx', fields: { memberId: 'ID', birthDate: 'DOB' } });
    const rs = records(await collect(readXlsxMembers(createReadStream(streamedFile), l)));
    expect(rs).toHaveLength(500);
    expect(rs[0]).toMatchObject({ line: 2, memberId: 'M1', birthDate: '1970-01-01' });
    expect(rs[499]).toMatchObject({ line: 501, memberId: 'M500', birthDate: '1971-05-15' });
  });

  it('survives a workbook part stored after the worksheets (exceljs#3064); positions still select sheets', async () => {
    const fixture = join(import.meta.dirname, '../../../../fixtures/members/xlsx-workbook-part-last.xlsx');
    const l = layout({ format: 'xlsx', fields: { memberId: 'ID', family: 'NAME' } });
    expect(records(await collect(readXlsxMembers(createReadStream(fixture), l))).map((r) => [r.line, r.memberId, r.name?.family])).toEqual([
      [2, 'M1', 'A'],
    ]);
    const second = layout({ format: 'xlsx', sheet: 2, fields: { memberId: 'ID' } });
    expect(await collect(readXlsxMembers(createReadStream(fixture), second))).toEqual([]);
  });

  it('passes an input failure through instead of calling the workbook unreadable', async () => {
    const bytes = readFileSync(workbookFile);
    async function* broken() {
      yield bytes.subarray(0, 2000);
      throw new Error('connection reset');
    }
    const l = layout({ format: 'xlsx', sheet: 2, headerRow: 2, fields: { memberId: 'Member ID' } });
    await expect(collect(readXlsxMembers(broken(), l))).rejects.toThrow('connection reset');
  });

  it('fails the file for a missing sheet, a missing column or bytes that are not XLSX', async () => {
    const missingSheet = layout({ format: 'xlsx', sheet: 'Members', fields: { memberId: 'ID' } });
    await expect(collect(readXlsxMembers(createReadStream(workbookFile), missingSheet))).rejects.toThrow(
      "the workbook has no worksheet named 'Members'",
    );
    const missingColumn = layout({ format: 'xlsx', sheet: 'assignments', headerRow: 2, fields: { memberId: 'MEMBER_NO' } });
    await expect(collect(readXlsxMembers(createReadStream(workbookFile), missingColumn))).rejects.toThrow(
      "line 2: no column 'MEMBER_NO' (fields.memberId) in the header",
    );
    await expect(
      collect(readXlsxMembers(chunked('ID,NAME\nM1,A\n'), layout({ format: 'xlsx', fields: { memberId: 'ID' } }))),
    ).rejects.toThrow('not a readable XLSX workbook');
  });
});
