import { describe, expect, it } from 'vitest';
import type { LayoutProfile, MemberItem, MemberRecord } from '../../../adapters/member-common/index.js';
import { checkMemberPartners, partnerDirectory } from '../../../src/ingest/member-partners.js';

const record = (line: number, attribution: MemberRecord['attribution']): MemberItem => ({
  kind: 'record',
  record: { line, action: 'upsert', memberId: `M${line}`, identifiers: [], attribution },
});

async function check(items: MemberItem[], partnerCodes: LayoutProfile['partnerCodes'], pcpNpis?: string[]) {
  const partners = { 'acme-aco': { kind: 'aco', pcpNpis }, 'north-cp': { kind: 'cp' } } as never;
  const out: MemberItem[] = [];
  for await (const item of checkMemberPartners(
    (async function* () {
      yield* items;
    })(),
    { partnerCodes } as LayoutProfile,
    partnerDirectory({ partners }),
  ))
    out.push(item);
  return out;
}

describe('roster rows and configured partners', () => {
  it("maps the sender's CP codes through partnerCodes and keeps partner ids as written", async () => {
    const out = await check([record(2, { aco: 'acme-aco', cp: 'CP-7' }), record(3, { aco: 'acme-aco', cp: 'north-cp' })], {
      cp: { 'CP-7': 'north-cp' },
    });
    expect(out.map((i) => i.kind === 'record' && i.record.attribution)).toEqual([
      { aco: 'acme-aco', cp: 'north-cp' },
      { aco: 'acme-aco', cp: 'north-cp' },
    ]);
  });

  it('a row whose ACO, CP or PCP names no configured partner is a row error with its line (the member id kept)', async () => {
    const out = await check(
      [
        record(2, { aco: 'other-aco' }),
        record(3, { cp: 'CP-9' }),
        record(4, { cp: 'north-cp', pcpNpi: '1999999999' }),
        record(5, { cp: 'north-cp', pcpNpi: '1234567893' }),
      ],
      {},
      ['1234567893'],
    );
    expect(out).toEqual([
      {
        kind: 'error',
        error: { line: 2, memberId: 'M2', reason: expect.stringMatching(/^ACO 'other-aco' maps to no configured partner/) },
      },
      { kind: 'error', error: { line: 3, memberId: 'M3', reason: expect.stringMatching(/^CP 'CP-9' maps to no configured partner/) } },
      { kind: 'error', error: { line: 4, memberId: 'M4', reason: "PCP NPI '1999999999' is not listed by any partner's pcpNpis" } },
      expect.objectContaining({ kind: 'record' }),
    ]);
  });

  it('PCPs are not checked when no partner lists pcpNpis', async () => {
    expect((await check([record(2, { cp: 'north-cp', pcpNpi: '1999999999' })], {}))[0].kind).toBe('record');
  });
});
