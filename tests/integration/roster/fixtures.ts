import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import type { MemberItem, MemberRecord } from '../../../adapters/member-common/types.js';
import type { Roster } from '../../../src/roster/roster-store.js';
import type { ImportRequest, ImportResult, RosterStore } from '../../../src/roster/store-types.js';

// Member-file items as the adapters produce them, and a one-call import for tests.

export const MEDICAID = 'urn:oid:2.16.840.1.113883.4.3.25';
export const MRN = 'urn:carebridge:mgh:mrn';

let line = 1;

/** An upsert record for member `id` (identifier 0 is the Medicaid id). */
export function member(id: string, over: Partial<MemberRecord> = {}): MemberItem {
  line += 1;
  return {
    kind: 'record',
    record: {
      line: over.line ?? line,
      action: 'upsert',
      memberId: id,
      identifiers: [{ system: MEDICAID, value: id, type: 'MA' }],
      name: { family: `Family${id}`, given: ['Given'] },
      birthDate: '1980-01-01',
      sex: 'female',
      attribution: { aco: 'acme-aco', cp: 'bay-cp' },
      ...over,
    },
  };
}

export function terminate(id: string, end?: string, lineNo?: number): MemberItem {
  return {
    kind: 'record',
    record: {
      line: lineNo ?? ++line,
      action: 'terminate',
      memberId: id,
      identifiers: [{ system: MEDICAID, value: id, type: 'MA' }],
      attribution: end ? { end } : {},
    },
  };
}

export const rowError = (lineNo: number, reason: string, memberId?: string): MemberItem => ({
  kind: 'error',
  error: memberId ? { line: lineNo, reason, memberId } : { line: lineNo, reason },
});

export const warning = (lineNo: number, reason: string): MemberItem => ({ kind: 'warning', warning: { line: lineNo, reason } });

export async function* stream(items: readonly MemberItem[]): AsyncGenerator<MemberItem> {
  for (const item of items) yield item;
}

export const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Imports `items` as a file whose name defaults to the import date and whose hash follows its content. */
export function importFile(
  roster: RosterStore,
  partnerId: string,
  importDate: string,
  items: readonly MemberItem[],
  over: Partial<ImportRequest> = {},
): Promise<ImportResult> {
  const fileName = over.fileName ?? `${partnerId}-${importDate}.csv`;
  return roster.importMemberFile({
    partnerId,
    fileName,
    sha256: sha(JSON.stringify(items) + fileName),
    importDate,
    items: stream(items),
    ...over,
  });
}

/**
 * Roster migration 4 on either backend, after the test wrote 'old-resolved' (resolved at epoch
 * 5000 ms) and 'old-open' under migration 3: the resolved one counts as routed, the open one stays
 * open. Closes the roster.
 */
export async function expectOldResolvedCountAsRouted(roster: Roster): Promise<void> {
  try {
    expect(await roster.unroutedResolved()).toEqual([]);
    expect((await roster.listUnmatched({})).items.map((u) => [u.messageId, u.routedAt?.getTime() ?? null])).toEqual([
      ['old-open', null],
      ['old-resolved', 5000],
    ]);
  } finally {
    await roster.close();
  }
}
