import { Readable } from 'node:stream';
import type { CareTeam, Goal, Practitioner } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import {
  CarePlanFileError,
  parseInstant,
  parseNpi,
  readCarePlanCsv,
  type CarePlanCsvItem,
} from '../../../../adapters/careplan-csv/index.js';
import { cpPlanIdSystem, MEMBER_ID_SYSTEM } from '../../../../src/careplan/submission.js';
import { assertValidFhir } from '../../../helpers/validate-fhir.js';

const OPTIONS = { cpPartnerId: 'bay-cp', cpName: 'Bay CP', memberIdSystem: MEMBER_ID_SYSTEM, timeZone: 'America/New_York' };

/** Feeds the text in small chunks, so rows and quotes are cut across chunk boundaries. */
function chunks(text: string | Buffer, size = 7): Readable {
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return Readable.from(parts);
}

async function read(text: string | Buffer, options = OPTIONS): Promise<Array<CarePlanCsvItem | { kind: 'file'; fileKind: string }>> {
  const out = [];
  for await (const item of readCarePlanCsv(chunks(text), options)) out.push(item);
  return out;
}

describe('care-plan CSV (from a CP)', () => {
  const header = 'Member ID,plan_id,created,status,title,goals,activities,pcp_npi,period_start,period_end,ignored';

  it('turns each row into a valid CarePlan: goals, activities, the PCP in a care team', async () => {
    const items = await read(
      `\uFEFF${header}\r\n` +
        'M1,P-1,2024-05-01,active,"Plan, with comma","Stable housing | A1c under 7","Weekly call|Ride to PCP, monthly",1234567893,2024-05-01,2024-11-01\r\n',
    );
    expect(items[0]).toEqual({ kind: 'file', fileKind: 'careplans' });
    const item = items[1] as Extract<CarePlanCsvItem, { kind: 'careplan' }>;
    expect(item.line).toBe(2);
    const plan = item.carePlan;
    assertValidFhir(plan);
    expect(plan).toMatchObject({
      resourceType: 'CarePlan',
      identifier: [{ system: cpPlanIdSystem('bay-cp'), value: 'P-1' }],
      status: 'active',
      intent: 'plan',
      title: 'Plan, with comma',
      subject: { type: 'Patient', identifier: { system: MEMBER_ID_SYSTEM, value: 'M1' } },
      created: '2024-05-01',
      period: { start: '2024-05-01', end: '2024-11-01' },
      author: { identifier: { value: 'bay-cp' }, display: 'Bay CP' },
    });
    const goals = plan.contained!.filter((r): r is Goal => r.resourceType === 'Goal');
    expect(goals.map((g) => g.description.text)).toEqual(['Stable housing', 'A1c under 7']);
    expect(plan.goal).toEqual([{ reference: '#goal-1' }, { reference: '#goal-2' }]);
    expect(plan.activity!.map((a) => a.detail!.description)).toEqual(['Weekly call', 'Ride to PCP, monthly']);
    const pcp = plan.contained!.find((r): r is Practitioner => r.resourceType === 'Practitioner')!;
    expect(pcp.identifier).toEqual([{ system: 'http://hl7.org/fhir/sid/us-npi', value: '1234567893' }]);
    const team = plan.contained!.find((r): r is CareTeam => r.resourceType === 'CareTeam')!;
    expect(team.participant![0]!.member).toEqual({ reference: '#pcp' });
    expect(plan.careTeam).toEqual([{ reference: '#care-team' }]);
  });

  it('reports bad rows by line, without their values, and goes on', async () => {
    const items = await read(
      [
        'member_id,plan_id,created,status,pcp_npi,period_start,period_end',
        'M1,P-1,2024-05-01,,,,',
        ',P-2,2024-05-01,,,,',
        'M3,P-3,05/01/2024,,,,',
        'M4,P-4,2024-05-01,done,,,',
        'M5,P-5,2024-05-01,,1234567890,,',
        '',
        'M6,P-6,2024-05-01,draft,,2024-06-01,2024-05-01',
        'M7,"P-7 ""quoted,2024-05-01,,,,',
        'M8,P-8,2024-05-01T09:00:00-04:00,draft,,,',
        'M9,P-9,2024-05-01,,,,,extra',
      ].join('\n'),
    );
    const summary = items.map((i) =>
      i.kind === 'careplan' ? [i.line, 'ok', i.carePlan.status] : i.kind === 'error' ? [i.line, i.reason] : ['file'],
    );
    expect(summary).toEqual([
      ['file'],
      [2, 'ok', 'active'],
      [3, 'member_id: required'],
      [4, 'created: not a date YYYY-MM-DD or a date-time with offset (YYYY-MM-DDThh:mm:ss+hh:mm)'],
      [5, 'status: must be draft or active'],
      [6, 'pcp_npi: NPI check digit is wrong'],
      [8, 'period_end: before period_start'],
      // A quote never closed costs its own line only: the tokenizer resumes on the next one.
      [9, 'column 2: quoted field is never closed'],
      [10, 'ok', 'draft'],
      [11, 'row has 8 fields, the header has 7'],
    ]);
    expect(JSON.stringify(summary)).not.toMatch(/M3|05\/01|done/);
  });

  it('refuses a file it cannot use at all', async () => {
    await expect(read('')).rejects.toBeInstanceOf(CarePlanFileError);
    await expect(read('name,dob\nx,y\n')).rejects.toThrow(/neither member_id .* nor decision/);
    await expect(read('member_id,created\nM1,2024-05-01\n')).rejects.toThrow('the header lacks required column(s): plan_id');
  });
});

describe('sign-off CSV (from an ACO)', () => {
  it('reads decisions; local times are read in the care-plan zone', async () => {
    const items = await read(
      [
        'plan_id,decision,signed_by_npi,signed_at,reason,version',
        'a1b2,Approved,1234567893,2024-05-02T10:00:00-04:00,,2',
        'c3d4,R,1234567893,2024-03-10 12:30,Missing goals,',
        'e5f6,approve,1234567893,2024-11-03,,',
        'e5f6,maybe,1234567893,2024-11-03,,',
        'e5f6,approved,123,2024-11-03,,',
        'e5f6,approved,1234567893,2024-02-30,,',
        'bad id!,approved,1234567893,2024-11-03,,',
        'e5f6,approved,1234567893,2024-11-03,,0',
      ].join('\r\n'),
    );
    expect(items[0]).toEqual({ kind: 'file', fileKind: 'signoffs' });
    expect(items.slice(1, 4)).toEqual([
      {
        kind: 'signoff',
        line: 2,
        signoff: { carePlanId: 'a1b2', decision: 'approved', signedByNpi: '1234567893', signedAt: '2024-05-02T10:00:00-04:00', version: 2 },
      },
      {
        kind: 'signoff',
        line: 3,
        signoff: {
          carePlanId: 'c3d4',
          decision: 'rejected',
          signedByNpi: '1234567893',
          signedAt: '2024-03-10T12:30:00-04:00',
          reason: 'Missing goals',
        },
      },
      {
        kind: 'signoff',
        line: 4,
        signoff: { carePlanId: 'e5f6', decision: 'approved', signedByNpi: '1234567893', signedAt: '2024-11-03T00:00:00-04:00' },
      },
    ]);
    expect(items.slice(4).map((i) => (i.kind === 'error' ? i.reason : i.kind))).toEqual([
      'decision: must be approved or rejected',
      'signed_by_npi: an NPI has 10 digits',
      'signed_at: not a valid date-time',
      'plan_id: not a CarePlan id',
      'version: must be a whole number from 1',
    ]);
  });

  it('the kind can be forced', async () => {
    await expect(read('plan_id,decision\nx,approved\n', { ...OPTIONS, kind: 'careplans' } as typeof OPTIONS)).rejects.toThrow(
      /member_id, created/,
    );
  });
});

describe('cell parsers', () => {
  it('checks NPIs with the Luhn digit over 80840', () => {
    expect(parseNpi('npi', '1234567893')).toEqual({ ok: true, value: '1234567893' });
    expect(parseNpi('npi', '1245319599')).toEqual({ ok: true, value: '1245319599' });
    expect(parseNpi('npi', '1234567890').ok).toBe(false);
  });

  it('reads local date-times across DST in the zone', () => {
    expect(parseInstant('t', '2024-03-10 01:30', 'America/New_York')).toEqual({ ok: true, value: '2024-03-10T01:30:00-05:00' });
    expect(parseInstant('t', '2024-03-10 03:30', 'America/New_York')).toEqual({ ok: true, value: '2024-03-10T03:30:00-04:00' });
    expect(parseInstant('t', '2024-07-01T12:00:00Z', 'America/New_York')).toEqual({ ok: true, value: '2024-07-01T12:00:00Z' });
    expect(parseInstant('t', 'tomorrow', 'America/New_York').ok).toBe(false);
  });
});
