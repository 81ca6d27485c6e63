import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMemberLayout } from '../../../../adapters/member-common/layout-loader.js';
import { readMemberFile } from '../../../../adapters/member-common/read-member-file.js';
import { MemberFileError } from '../../../../adapters/member-common/types.js';
import { readX12Members } from '../../../../adapters/x12-834/read-834.js';
import { chunked, collect, errors, layout, MEDICAID, records, warnings } from '../member-common/helpers.js';

const FIXTURES = join(import.meta.dirname, '../../../../fixtures/members');
const fixture = (name: string) => createReadStream(join(FIXTURES, name));
const example = loadMemberLayout({ partner: 'example-aco', format: 'x12-834' });
const plain = layout({ format: 'x12-834', identifiers: { nm1: { '34': { system: 'http://hl7.org/fhir/sid/us-ssn', type: 'SS' } } } });

const ISA = 'ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260401*1200*^*00501*000000905*0*T*:';

/** An interchange around `body` (segments of one 834), with correct SE/GE/IEA unless told otherwise. */
function interchange(
  body: string[],
  opts: { seCount?: number; seControl?: string; end?: 'full' | 'no-trailers'; term?: string; eol?: string; elem?: string } = {},
): string {
  const st = [
    'ST*834*0001*005010X220A1',
    'BGN*00*REF1*20260401*1200****2',
    'N1*P5*EXAMPLE ACO*FI*ACO-123',
    'N1*IN*MASSHEALTH*FI*MH-1',
    ...body,
  ];
  const segs = [ISA, 'GS*BE*SENDER*RECEIVER*20260401*1200*77*X*005010X220A1', ...st];
  if (opts.end !== 'no-trailers')
    segs.push(`SE*${opts.seCount ?? st.length + 1}*${opts.seControl ?? '0001'}`, 'GE*1*77', 'IEA*1*000000905');
  const term = opts.term ?? '~';
  const eol = opts.eol ?? '\n';
  let text = segs.map((s) => s + term).join(eol);
  if (opts.elem) text = text.replaceAll('*', opts.elem);
  return text;
}

const MEMBER = [
  'INS*Y*18*021*XN*A*E**FT',
  'REF*0F*100000000001',
  'REF*1L*GRP9',
  'REF*ZZ*ACO-MBR-1',
  'DTP*356*D8*20260101',
  'NM1*IL*1*RIVERA*ANA*M***34*123456789',
  'PER*IP**EM*ana@example.org*HP*6175550100',
  'N3*1 MAIN ST*APT 2',
  'N4*BOSTON*MA*021341234',
  'DMG*D8*19850314*F',
  'NM1*70*1*RIVERAS*ANNA',
  'DMG*D8*19000101*M',
  'NM1*31*1',
  'N3*PO BOX 9',
  'N4*SALEM*MA*01970',
  'HD*021**HMO*MCO-PLAN*IND',
  'DTP*348*D8*20260201',
  'REF*17*PLAN-X',
  'LX*1',
  'NM1*P3*1*WELBY*MARCUS****XX*1234567893',
  'LS*2700',
  'LX*1',
  'N1*75*CP ID',
  'REF*ZZ*CP-NORTH',
  'LX*2',
  'N1*75*BH CONSENT',
  'REF*ZZ*Y',
  'LE*2700',
];

describe('X12 834 member files', () => {
  it('maps an addition with every loop the layout uses', async () => {
    const items = await collect(readX12Members(chunked(interchange(MEMBER)), example));
    expect(warnings(items)).toEqual([]);
    expect(errors(items)).toEqual([]);
    expect(records(items)).toEqual([
      {
        line: 7,
        action: 'upsert',
        memberId: '100000000001',
        identifiers: [
          { system: MEDICAID, value: '100000000001', type: 'MA' },
          { system: 'https://example-aco.example.org/fhir/sid/group', value: 'GRP9' },
          { system: 'https://example-aco.example.org/fhir/sid/member-id', value: 'ACO-MBR-1' },
          { system: 'http://hl7.org/fhir/sid/us-ssn', value: '123456789', type: 'SS' },
        ],
        name: { family: 'RIVERA', given: ['ANA', 'M'] },
        birthDate: '1985-03-14', // not the 2100B (incorrect member) DMG
        sex: 'female',
        address: { line: ['1 MAIN ST', 'APT 2'], city: 'BOSTON', state: 'MA', postalCode: '02134-1234' }, // not the 2100C mailing address
        phone: '6175550100',
        attribution: { aco: 'ACO-123', cp: 'CP-NORTH', pcpNpi: '1234567893', start: '2026-02-01' },
        consent: [{ partner: 'example-cp', category: 'behavioral-health', granted: true }],
        raw: expect.objectContaining({
          INS: 'Y*18*021*XN*A*E**FT',
          'REF*0F': '0F*100000000001',
          'NM1*IL': 'IL*1*RIVERA*ANA*M***34*123456789',
          'DMG#2': 'D8*19000101*M',
        }),
      },
    ]);
  });

  it('reads the same from any chunking, other separators and no line breaks', async () => {
    const expected = records(await collect(readX12Members(chunked(interchange(MEMBER)), example)));
    const odd = interchange(MEMBER, { elem: '|', term: "'", eol: '' }).replace('|^|00501', '|U|00501').replace('|T|:', '|T|>');
    for (const sizes of [[1], [3, 7], [4096]]) {
      const got = records(await collect(readX12Members(chunked(odd, sizes), example)));
      expect(got.map(({ raw: _raw, ...r }) => r)).toEqual(expected.map(({ raw: _raw, ...r }) => r));
    }
    const crlf = interchange(MEMBER, { eol: '\r\n' });
    expect(records(await collect(readX12Members(chunked(crlf, [5]), example)))).toEqual(expected);
  });

  it('reads the pyx12 new-enrollment sample', async () => {
    const items = await collect(readMemberFile(fixture('834-new-enroll.x12'), example));
    expect(warnings(items)).toEqual([]);
    expect(records(items)).toEqual([
      expect.objectContaining({
        line: 8,
        action: 'upsert',
        memberId: 'M000001',
        name: { family: 'DOE', given: ['JANE', 'M'] },
        birthDate: '1980-05-15',
        sex: 'female',
        address: { line: ['100 MAIN ST'], city: 'SPRINGFIELD', state: 'IL', postalCode: '62701' },
        attribution: { aco: '123456780', start: '2026-04-01' },
      }),
    ]);
  });

  it('reads a family: subscriber and dependents each become a member', async () => {
    const rs = records(await collect(readMemberFile(fixture('834-family.x12'), plain)));
    expect(rs.map((r) => [r.line, r.memberId, r.name?.given?.[0], r.birthDate, r.sex, r.address?.city, r.attribution.start])).toEqual([
      [7, 'M000002', 'ROBERT', '1975-08-20', 'male', 'RIVERSIDE', '2026-04-01'],
      [17, 'M000003', 'MARY', '1977-03-03', 'female', undefined, '2026-04-01'],
      [22, 'M000004', 'MICHAEL', '2010-06-12', 'male', undefined, '2026-04-01'],
    ]);
    expect(rs[0].identifiers).toContainEqual({ system: 'http://hl7.org/fhir/sid/us-ssn', value: '000000002', type: 'SS' });
  });

  it('turns INS-03 024 into terminations with their end dates', async () => {
    const items = await collect(readMemberFile(fixture('834-term.x12'), plain));
    expect(warnings(items)).toEqual([]);
    expect(records(items).map((r) => [r.line, r.memberId, r.action, r.attribution])).toEqual([
      [7, 'M000010', 'terminate', { start: '2021-01-01', end: '2026-03-31' }],
      [18, 'M000011', 'terminate', { start: '2021-06-01', end: '2026-03-31' }],
    ]);
  });

  it('terminates a change whose attributed coverage is cancelled (HD-01 024) and reads RD8 ranges', async () => {
    const body = ['INS*Y*18*001*XN*A', 'REF*0F*M1', 'NM1*IL*1*A*B', 'HD*024**HMO', 'DTP*348*RD8*20250101-20260331'];
    const [r] = records(await collect(readX12Members(chunked(interchange(body)), example)));
    expect(r).toMatchObject({ action: 'terminate', attribution: { start: '2025-01-01', end: '2026-03-31' } });
  });

  it('reports bad members by INS segment number and element, keeping the others', async () => {
    const body = [
      'INS*Y*18*021*XN',
      'NM1*IL*1*NOID*X', // 7: no member id
      'INS*Y*18*021*XN',
      'REF*0F*M2',
      'NM1*IL*1*B*C',
      'DMG*D8*19851340*F', // 9: bad birth date
      'INS*Y*18*099*XN',
      'REF*0F*M3',
      'NM1*IL*1*D*E',
      'DMG*D8*19850101*Q', // 13: unknown INS-03 and gender
      'INS*Y*18*021*XN',
      'REF*0F*M4',
      'HD*021**HMO',
      'DTP*348*D8*20260101',
      'DTP*349*D8*20251231',
      'LX*1',
      'NM1*P3*1*DOC*****XX*1234567890', // 17
      'INS*Y*18*021*XN',
      'REF*0F*M5',
      'NM1*IL*1*OK*FINE', // 24: good
    ];
    const items = await collect(readX12Members(chunked(interchange(body)), example));
    expect(errors(items)).toEqual([
      { line: 7, reason: 'memberId: no REF*0F or NM1-09 (NM1-08 MI)' },
      { line: 9, memberId: 'M2', reason: 'DMG-02: not a CCYYMMDD date' },
      { line: 13, memberId: 'M3', reason: 'INS-03: unknown maintenance type code; DMG-03: unknown gender code (add it to valueMaps.sex)' },
      {
        line: 17,
        memberId: 'M4',
        reason: 'NM1*P3-09: not a valid NPI (10 digits with check digit); DTP: the end date is before the start date',
      },
    ]);
    expect(records(items).map((r) => [r.line, r.memberId])).toEqual([[24, 'M5']]);
  });

  it('rejects a member whose segment holds a line break (pyx12 sample), like pyx12 does', async () => {
    const items = await collect(readMemberFile(fixture('834-eol-in-element.x12'), plain));
    expect(errors(items)).toEqual([{ line: 8, memberId: '00389999', reason: 'N3: line break inside the segment' }]);
  });

  it('reads a file whose ISA lacks ISA-16, with a warning', async () => {
    const items = await collect(readMemberFile(fixture('834-no-isa16.x12'), plain));
    expect(warnings(items)).toEqual([{ line: 1, reason: 'ISA-16: the component separator is missing' }]);
    expect(records(items).map((r) => [r.line, r.memberId, r.birthDate])).toEqual([[6, '123456789', '1980-01-01']]);
  });

  it('reads the pyx12 5010 example (backslash component separator, space after terminators)', async () => {
    const items = await collect(readMemberFile(fixture('834-example-5010.x12'), plain));
    expect(warnings(items)).toEqual([]);
    expect(records(items)).toEqual([
      expect.objectContaining({
        line: 8,
        memberId: '00389999',
        birthDate: '1967-03-30',
        address: { line: ['777 ELM ST'], city: 'ALLEGAN', state: 'MI', postalCode: '49010' },
      }),
    ]);
  });

  it('warns about envelope counts and control numbers that do not match, and still reads the members', async () => {
    const text = interchange(MEMBER, { seCount: 5, seControl: '0002' })
      .replace('GE*1*77', 'GE*2*78')
      .replace('IEA*1*000000905', 'IEA*3*000000906');
    const items = await collect(readX12Members(chunked(text), example));
    expect(records(items)).toHaveLength(1);
    const n = text.split('~').length - 1; // segments: IEA is the last
    expect(warnings(items)).toEqual([
      { line: n - 2, reason: `SE-01: says 5 segments, counted ${MEMBER.length + 5}` },
      { line: n - 2, reason: 'SE-02: control number does not match ST-02' },
      { line: n - 1, reason: 'GE-01: says 2 transaction sets, counted 1' },
      { line: n - 1, reason: 'GE-02: control number does not match GS-06' },
      { line: n, reason: 'IEA-01: says 3 functional groups, counted 1' },
      { line: n, reason: 'IEA-02: control number does not match ISA-13' },
    ]);
  });

  it('flags a cut-off file: the last member is an error, the open envelopes are warnings', async () => {
    const text = interchange([...MEMBER.slice(0, 10), ...MEMBER.map((s) => s.replace('100000000001', '100000000002')).slice(0, 12)], {
      end: 'no-trailers',
    });
    const items = await collect(readX12Members(chunked(text), example));
    expect(records(items).map((r) => r.memberId)).toEqual(['100000000001']);
    expect(errors(items)).toEqual([
      { line: 17, memberId: '100000000002', reason: 'the transaction set ends without SE (file cut off?): member may be incomplete' },
    ]);
    expect(warnings(items).map((w) => w.reason)).toEqual([
      'the file ends inside a transaction set (no SE for the ST at segment 3): cut off?',
      'the file ends inside a functional group (no GE for the GS at segment 2)',
      'the file ends inside an interchange (no IEA for the ISA at segment 1)',
    ]);
  });

  it('skips transaction sets that are not 834s', async () => {
    const text = interchange(MEMBER).replace('ST*834*0001', 'ST*820*0001');
    const items = await collect(readX12Members(chunked(text), example));
    expect(records(items)).toEqual([]);
    expect(warnings(items)).toEqual([{ line: 3, reason: 'ST-01: not an 834 transaction set; skipped' }]);
  });

  it('fails the file when it is not X12', async () => {
    await expect(collect(readX12Members(chunked('MEMBER_ID,NAME\n1,A\n'), example))).rejects.toThrow(
      new MemberFileError(1, 'not an X12 interchange: the file does not start with ISA'),
    );
    await expect(collect(readX12Members(chunked('ISA*00*short~'), example))).rejects.toThrow(/ISA: fewer than 16 elements/);
    await expect(collect(readX12Members(chunked(''), example))).rejects.toThrow(MemberFileError);
    const wrongTerminator = interchange(MEMBER).replace('*:~', '*:#') + 'REF*ZZ*X~'.repeat(120_000);
    await expect(collect(readX12Members(chunked(wrongTerminator), example))).rejects.toThrow(/segment runs past 1 MiB/);
  });

  it('never puts values in reasons', async () => {
    const text = readFileSync(join(FIXTURES, '834-eol-in-element.x12'), 'utf8');
    const items = await collect(readX12Members(chunked(text), plain));
    expect(JSON.stringify(errors(items).map((e) => e.reason))).not.toMatch(/ELM|APT|DOE/);
  });
});
