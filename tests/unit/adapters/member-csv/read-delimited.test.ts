import { describe, expect, it } from 'vitest';
import { loadMemberLayout } from '../../../../adapters/member-common/layout-loader.js';
import { readMemberFile } from '../../../../adapters/member-common/read-member-file.js';
import { MemberFileError } from '../../../../adapters/member-common/types.js';
import { readDelimitedMembers } from '../../../../adapters/member-csv/read-delimited.js';
import { chunked, collect, errors, layout, MEDICAID, records } from '../member-common/helpers.js';

const HEADER =
  'MEMBER_ID|LAST_NAME|FIRST_NAME|MIDDLE_NAME|DOB|GENDER|ADDRESS_1|ADDRESS_2|CITY|STATE|ZIP|PHONE|CP_ID|PCP_NPI|ASSIGNMENT_START|ASSIGNMENT_END|STATUS|ACO_MEMBER_ID|MRN|SSN|BH_CONSENT|SUD_CONSENT';

function row(values: Partial<Record<string, string>>): string {
  return HEADER.split('|')
    .map((c) => values[c] ?? '')
    .join('|');
}

const GOOD = {
  MEMBER_ID: '100012345678',
  LAST_NAME: "O'Neil",
  FIRST_NAME: 'Ana',
  MIDDLE_NAME: 'B',
  DOB: '03/14/1985',
  GENDER: 'F',
  ADDRESS_1: '1 Main St',
  ADDRESS_2: 'Apt 2',
  CITY: 'Boston',
  STATE: 'MA',
  ZIP: '2134',
  PHONE: '617-555-0100',
  CP_ID: 'CP-NORTH',
  PCP_NPI: '1234567893',
  ASSIGNMENT_START: '20260101',
  ASSIGNMENT_END: '12/31/9999',
  STATUS: 'A',
  ACO_MEMBER_ID: 'A-77',
  MRN: 'MRN001',
  BH_CONSENT: 'Y',
  SUD_CONSENT: 'no',
};

describe('delimited member files (example-aco layout)', () => {
  const exampleLayout = loadMemberLayout({ partner: 'example-aco', format: 'delimited' });

  it('maps every field of a good row', async () => {
    const items = await collect(readMemberFile(chunked(`${HEADER}\n${row(GOOD)}\n`), exampleLayout));
    expect(items).toHaveLength(1);
    expect(records(items)[0]).toEqual({
      line: 2,
      action: 'upsert',
      memberId: '100012345678',
      identifiers: [
        { system: MEDICAID, value: '100012345678', type: 'MA' },
        { system: 'https://example-aco.example.org/fhir/sid/member-id', value: 'A-77' },
        { system: 'urn:oid:2.16.840.1.113883.3.1.100', value: 'MRN001', type: 'MR' },
      ],
      name: { family: "O'Neil", given: ['Ana', 'B'] },
      birthDate: '1985-03-14',
      sex: 'female',
      address: { line: ['1 Main St', 'Apt 2'], city: 'Boston', state: 'MA', postalCode: '02134' },
      phone: '617-555-0100',
      attribution: { aco: 'example-aco', cp: 'CP-NORTH', pcpNpi: '1234567893', start: '2026-01-01' },
      consent: [
        { partner: 'example-cp', category: 'behavioral-health', granted: true },
        { partner: 'example-cp', category: 'substance-use', granted: false },
      ],
      raw: expect.objectContaining({ MEMBER_ID: '100012345678', DOB: '03/14/1985', SSN: '' }),
    });
  });

  it('reports bad rows with line and column, never the value, and keeps going', async () => {
    const lines = [
      HEADER,
      row(GOOD),
      row({ ...GOOD, MEMBER_ID: '' }), // line 3: missing member id
      row({ ...GOOD, MEMBER_ID: 'M3', DOB: '02/30/1990', ASSIGNMENT_START: 'soon' }), // line 4: two bad dates
      row({ ...GOOD, MEMBER_ID: 'M4', GENDER: 'Q', PCP_NPI: '1234567890', ZIP: 'ABCDE' }), // line 5
      row({ ...GOOD, MEMBER_ID: 'M5', STATUS: 'Z', BH_CONSENT: 'maybe' }), // line 6
      row({ ...GOOD, MEMBER_ID: 'M6', ASSIGNMENT_END: '12/31/2025' }), // line 7: end before start
      'M7|short|row', // line 8: ragged
      row({ ...GOOD, MEMBER_ID: 'M8', STATUS: 'T', ASSIGNMENT_END: '03/31/2026' }), // line 9: termed
    ];
    const items = await collect(readMemberFile(chunked(lines.join('\r\n'), [7]), exampleLayout));
    expect(records(items).map((r) => [r.line, r.memberId, r.action])).toEqual([
      [2, '100012345678', 'upsert'],
      [9, 'M8', 'terminate'],
    ]);
    expect(records(items)[1].attribution.end).toBe('2026-03-31');
    expect(errors(items)).toEqual([
      { line: 3, reason: 'MEMBER_ID: missing member id' },
      {
        line: 4,
        memberId: 'M3',
        reason:
          'DOB: not a date (MM/DD/YYYY or YYYYMMDD or YYYY-MM-DD); ASSIGNMENT_START: not a date (MM/DD/YYYY or YYYYMMDD or YYYY-MM-DD)',
      },
      {
        line: 5,
        memberId: 'M4',
        reason:
          'GENDER: unknown sex code (add it to valueMaps.sex); ZIP: not a US ZIP code; PCP_NPI: not a valid NPI (10 digits with check digit)',
      },
      {
        line: 6,
        memberId: 'M5',
        reason:
          'STATUS: unknown status code (add it to valueMaps.status); BH_CONSENT: unknown consent value (add it to consent granted/denied)',
      },
      { line: 7, memberId: 'M6', reason: 'ASSIGNMENT_END: before the start date' },
      { line: 8, memberId: 'M7', reason: 'row has 3 fields, the header has 22' },
    ]);
    const text = JSON.stringify(errors(items).map((e) => e.reason));
    for (const phi of ['02/30/1990', 'soon', 'ABCDE', '1234567890', 'maybe', "O'Neil"]) expect(text).not.toContain(phi);
  });

  it('counts physical lines through quoted line breaks', async () => {
    const csv = layout({
      format: 'delimited',
      dateFormats: ['MM/DD/YYYY'],
      fields: { memberId: 'ID', family: 'LAST', address: 'ADDR', birthDate: 'DOB' },
    });
    const text = 'ID,LAST,ADDR,DOB\n1,"Smith, Jr.","12 Elm St\nApt 3\nRear",01/01/1990\n2,Doe,"x",13/13/1990\n\n3,"Lee ""Al""",,\n';
    const items = await collect(readDelimitedMembers(chunked(text, [5]), csv));
    expect(records(items).map((r) => [r.line, r.name?.family, r.address?.line])).toEqual([
      [2, 'Smith, Jr.', ['12 Elm St\nApt 3\nRear']],
      [7, 'Lee "Al"', undefined],
    ]);
    expect(errors(items)).toEqual([{ line: 5, memberId: '2', reason: 'DOB: not a date (MM/DD/YYYY or YYYY-MM-DD)' }]);
  });

  it('handles a BOM, TSV, case-insensitive headers, blank trailing rows and padded ragged rows', async () => {
    const tsv = layout({ format: 'delimited', delimiter: 'tab', raggedRows: 'pad', fields: { memberId: 'member id', family: 'Last' } });
    const text = '\uFEFFMember ID\tLAST\tNOTE\r\nM1\tAlpha\tx\r\nM2\tBeta\r\n\t\t\r\n';
    const items = await collect(readDelimitedMembers(chunked(text, [2]), tsv));
    expect(records(items).map((r) => [r.line, r.memberId, r.name?.family])).toEqual([
      [2, 'M1', 'Alpha'],
      [3, 'M2', 'Beta'],
    ]);
    expect(errors(items)).toEqual([]);
  });

  it('reads files without a header using the layout columns, and skips banner lines', async () => {
    const l = layout({
      format: 'delimited',
      header: false,
      columns: ['ID', 'NAME'],
      skipLines: 1,
      fields: { memberId: 'ID', family: 'NAME' },
    });
    const items = await collect(readDelimitedMembers(chunked('ROSTER 2026-04-01\nM1,A\nM2,B\n'), l));
    expect(records(items).map((r) => [r.line, r.memberId])).toEqual([
      [2, 'M1'],
      [3, 'M2'],
    ]);
  });

  it('skips header/trailer records with a record filter, and takes constants', async () => {
    const l = layout({
      format: 'delimited',
      delimiter: '|',
      recordFilter: { column: 'TYPE', values: ['D'] },
      fields: { memberId: 'ID', aco: { value: 'aco-1' } },
    });
    const items = await collect(readDelimitedMembers(chunked('TYPE|ID\nH|20260401\nD|M1\nd|M2\nT|2\n'), l));
    expect(records(items).map((r) => [r.line, r.memberId, r.attribution.aco])).toEqual([
      [3, 'M1', 'aco-1'],
      [4, 'M2', 'aco-1'],
    ]);
    expect(errors(items)).toEqual([]);
  });

  it('reports a bad quote on its line and reads the rows after it', async () => {
    const l = layout({ format: 'delimited', fields: { memberId: 'ID', family: 'LAST' } });
    const items = await collect(readDelimitedMembers(chunked('ID,LAST\nM1,"Smith, "Bob"\nM2,Doe\n'), l));
    expect(errors(items)).toEqual([{ line: 2, reason: 'column 2: text after the closing quote' }]);
    expect(records(items).map((r) => r.memberId)).toEqual(['M2']);
  });

  it('passes an input failure through (it is not a bad row)', async () => {
    const l = layout({ format: 'delimited', fields: { memberId: 'ID' } });
    async function* broken() {
      yield Buffer.from('ID\nM1\nM2');
      throw new Error('connection reset');
    }
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const item of readDelimitedMembers(broken(), l)) if (item.kind === 'record') seen.push(item.record.memberId);
      })(),
    ).rejects.toThrow('connection reset');
    expect(seen).toEqual(['M1']); // M2 may be cut: never emitted before the file ends
  });

  it('can leave raw fields out', async () => {
    const l = layout({ format: 'delimited', keepRaw: false, fields: { memberId: 'ID' } });
    const [item] = records(await collect(readDelimitedMembers(chunked('ID\nM1\n'), l)));
    expect(item.raw).toBeUndefined();
  });

  it('fails the whole file when a mapped column is missing, ambiguous, or there is no header', async () => {
    const l = layout({ format: 'delimited', fields: { memberId: 'ID', birthDate: 'DOB' } });
    await expect(collect(readDelimitedMembers(chunked('ID,NAME\nM1,A\n'), l))).rejects.toThrow(
      new MemberFileError(1, "no column 'DOB' (fields.birthDate) in the header"),
    );
    await expect(collect(readDelimitedMembers(chunked('\n\nID,DOB,id\n'), l))).rejects.toThrow(
      /line 3: column 'ID' \(fields.memberId\) appears more than once/,
    );
    await expect(collect(readDelimitedMembers(chunked(''), l))).rejects.toThrow(/no header row/);
  });
});
