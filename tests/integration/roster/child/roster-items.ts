import type { MemberItem } from '../../../../adapters/member-common/types.js';

// Deterministic member files for the crash test: the parent and the killed child must read the
// same file. Day 2 reassigns every 7th member's CP, drops every 11th, adds a few.

export function* crashFileItems(rows: number, day: 1 | 2): Generator<MemberItem> {
  const total = day === 1 ? rows : rows + 5;
  for (let i = 0; i < total; i++) {
    if (day === 2 && i < rows && i % 11 === 0) continue;
    const id = `M${String(i).padStart(6, '0')}`;
    const cp = day === 2 && i % 7 === 0 ? 'harbor-cp' : 'bay-cp';
    yield {
      kind: 'record',
      record: {
        line: i + 2,
        action: 'upsert',
        memberId: id,
        identifiers: [{ system: 'urn:medicaid', value: id, type: 'MA' }],
        name: { family: `F${i}`, given: ['G'] },
        birthDate: '1980-01-01',
        attribution: { aco: 'acme-aco', cp },
      },
    };
  }
}

export const CRASH_FILE = { partnerId: 'acme-aco', fileName: 'day2.csv', sha256: 'd'.repeat(64), importDate: '2024-03-02' } as const;
