import { createHash } from 'node:crypto';
import type { MemberItem, MemberRecord } from '../../../adapters/member-common/types.js';
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
