import type { StartImportOutcome, UnmatchedCandidate } from './backend.js';
import type { AttributionRow, LoadedState } from './plan.js';
import { dateOf, type Row } from './rows.js';
import type { ConsentCategory, IdentifierOwner, ImportCounts, MemberIdentifier, Role, UnmatchedInput } from './store-types.js';

// What the SQLite and Postgres roster backends do the same way around their SQL: shaping the rows
// an import chunk loads, the outcome of a resumed import, final counts, unmatched candidates.
// SQL stays in each backend (placeholders, list parameters and locking differ).

/** An attribution row loaded for planning (columns id, member_id, partner_id, role, start_date, end_date). */
export function loadedAttributionFromRow(r: Row): AttributionRow {
  return {
    id: Number(r.id),
    memberId: String(r.member_id),
    partnerId: String(r.partner_id),
    role: r.role as Role,
    start: String(r.start_date),
    end: r.end_date === null ? null : String(r.end_date),
  };
}

/** A member-file consent loaded for planning (columns member_id, partner_id, category, granted). */
export function fileConsentFromRow(r: Row): LoadedState['fileConsents'][number] {
  return {
    memberId: String(r.member_id),
    partnerId: String(r.partner_id),
    category: r.category as ConsentCategory,
    granted: Boolean(r.granted),
  };
}

export function identifierOwnerFromRow(r: Row): IdentifierOwner {
  return { system: String(r.system), value: String(r.value), memberId: String(r.member_id) };
}

/** The same file taken over after a crash or failure: keeps the first run's dates and kind so a re-run converges. */
export function resumedImport(existing: Row, importId: string, generation: number): StartImportOutcome {
  return {
    kind: 'started',
    importId,
    generation,
    importDate: String(existing.import_date),
    receivedAt: dateOf(existing.received_at),
    fileKind: existing.file_kind === 'changes' ? 'changes' : 'full',
    resumed: true,
  };
}

/** added/changed/terminated come from the stored events (rows of kind, n), so a resumed run counts them all. */
export function countsWithEvents(counts: ImportCounts, eventsByKind: Row[]): ImportCounts {
  const byKind = new Map(eventsByKind.map((r) => [String(r.kind), Number(r.n)]));
  return {
    ...counts,
    added: byKind.get('added') ?? 0,
    changed: byKind.get('changed') ?? 0,
    terminated: byKind.get('terminated') ?? 0,
  };
}

/** Only identifiers with both a system and a value can ever match a member. */
export function matchableIdentifiers(event: UnmatchedInput): Array<{ system: string; value: string }> {
  return event.identifiers.filter((i) => i.system && i.value).map((i) => ({ system: i.system, value: i.value }));
}

export function unmatchedCandidateFromRow(r: Row): UnmatchedCandidate {
  return {
    id: String(r.id),
    messageId: String(r.message_id),
    identifiers: JSON.parse(String(r.identifiers)) as MemberIdentifier[],
    matchKey: r.match_key === null ? null : String(r.match_key),
  };
}
