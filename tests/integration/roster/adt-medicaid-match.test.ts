import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { convertAdt } from '../../../adapters/hl7v2-adt/index.js';
import { Hl7Message } from '../../../src/hl7v2/index.js';
import { loadProfile } from '../../../src/mapping/profile-loader.js';
import { openRosterStore } from '../../../src/roster/roster-store.js';
import { importFile, member } from './fixtures.js';

const profile = loadProfile();
const MEDICAID = profile.medicaid!.system;
const dir = mkdtempSync(join(tmpdir(), 'cb-roster-ma-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('roster matching on the Medicaid id an ADT carries only in its insurance segments', () => {
  it('matches by identifier precedence when PID-3 holds only the hospital MRN', async () => {
    const roster = await openRosterStore(`sqlite:${join(dir, 'carebridge.db')}`, { matching: { identifierPrecedence: [MEDICAID] } });
    try {
      await importFile(roster, 'acme-aco', '2024-03-01', [
        member('MA123456789', { identifiers: [{ system: MEDICAID, value: 'MA123456789', type: 'MA' }] }),
      ]);
      const text = readFileSync(join(import.meta.dirname, '../../../fixtures/hl7v2/adt/A01-insurance.hl7'), 'latin1');
      const identifiers = (t: string) =>
        convertAdt(Hl7Message.parse(t), profile).patientIdentifiers.map((i) => ({ system: i.system!, value: i.value! }));
      const matched = await roster.resolve({ identifiers: identifiers(text) });
      expect(matched.kind === 'matched' && [matched.member.memberId, matched.by]).toEqual(['MA123456789', 'identifier']);
      // The same message without its insurance segments carries no Medicaid id: no match.
      const bare = text.replace(/\r(IN1|IN2|IN3)\|[^\r]*/g, '');
      expect((await roster.resolve({ identifiers: identifiers(bare) })).kind).toBe('unmatched');
    } finally {
      await roster.close();
    }
  });
});
