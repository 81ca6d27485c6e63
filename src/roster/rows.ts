import { matchKey } from './matching.js';
import type { MemberRow } from './plan.js';
import type {
  Attribution,
  ConsentRecord,
  DiffEvent,
  ImportIssue,
  ImportRecord,
  Member,
  MemberIdentifier,
  ResolvedUnmatched,
  UnmatchedEvent,
} from './store-types.js';

// Database rows -> roster records, shared by both backends. Times arrive as epoch ms (SQLite) or
// Date (pg); ids as numbers (SQLite) or strings (pg bigint); booleans as 0/1 or true/false.

export type Row = Record<string, unknown>;
export type ToDate = (v: unknown) => Date;

export const dateOf: ToDate = (v) => (v instanceof Date ? v : new Date(Number(v)));
const dateOrNull = (v: unknown, toDate: ToDate): Date | null => (v === null || v === undefined ? null : toDate(v));
const str = (v: unknown): string => String(v);
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: unknown): number => Number(v);

function parseJson<T>(text: unknown, fallback: T): T {
  if (typeof text !== 'string') return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** Demographic columns as the writer stores them (JSON text for arrays and objects). */
export function memberColumns(m: MemberRow) {
  return {
    family: m.family,
    given: m.given ? JSON.stringify(m.given) : null,
    birthDate: m.birthDate,
    sex: m.sex,
    address: m.address ? JSON.stringify(m.address) : null,
    phone: m.phone,
    matchKey:
      matchKey({ family: m.family ?? undefined, given: m.given?.[0], birthDate: m.birthDate ?? undefined, sex: m.sex ?? undefined }) ??
      null,
  };
}

export function memberRowFromRow(r: Row): MemberRow {
  return {
    memberId: str(r.member_id),
    status: r.status === 'terminated' ? 'terminated' : 'active',
    family: strOrNull(r.family),
    given: parseJson<string[] | null>(r.given, null),
    birthDate: strOrNull(r.birth_date),
    sex: strOrNull(r.sex),
    address: parseJson<MemberRow['address']>(r.address, null),
    phone: strOrNull(r.phone),
  };
}

export function attributionFromRow(r: Row): Attribution {
  const a: Attribution = {
    partnerId: str(r.partner_id),
    role: r.role as Attribution['role'],
    start: str(r.start_date),
    sourcePartnerId: str(r.source_partner),
  };
  if (r.end_date !== null && r.end_date !== undefined) a.end = str(r.end_date);
  if (r.import_id !== null && r.import_id !== undefined) a.importId = str(r.import_id);
  return a;
}

export function consentFromRow(r: Row, toDate: ToDate): ConsentRecord {
  return {
    partnerId: str(r.partner_id),
    category: r.category as ConsentRecord['category'],
    granted: Boolean(r.granted),
    source: str(r.source),
    recordedAt: toDate(r.recorded_at),
  };
}

export function memberFrom(
  row: MemberRow,
  identifiers: MemberIdentifier[],
  attributions: Attribution[],
  consents: ConsentRecord[],
): Member {
  const m: Member = { memberId: row.memberId, status: row.status, identifiers, attributions, consents };
  if (row.family !== null || row.given !== null) {
    m.name = {};
    if (row.family !== null) m.name.family = row.family;
    if (row.given !== null) m.name.given = row.given;
  }
  if (row.birthDate !== null) m.birthDate = row.birthDate;
  if (row.sex !== null) m.sex = row.sex;
  if (row.address !== null) m.address = row.address;
  if (row.phone !== null) m.phone = row.phone;
  return m;
}

export function identifierFromRow(r: Row): MemberIdentifier {
  const i: MemberIdentifier = { system: str(r.system), value: str(r.value) };
  if (r.type !== null && r.type !== undefined) i.type = str(r.type);
  return i;
}

export function importFromRow(r: Row, toDate: ToDate): ImportRecord {
  return {
    id: str(r.id),
    partnerId: str(r.partner_id),
    sourceId: strOrNull(r.source_id),
    fileName: str(r.file_name),
    sha256: str(r.sha256),
    receivedAt: toDate(r.received_at),
    importDate: str(r.import_date),
    fileKind: r.file_kind === 'changes' ? 'changes' : 'full',
    status: r.status as ImportRecord['status'],
    duplicateOf: strOrNull(r.duplicate_of),
    rows: num(r.rows),
    applied: num(r.applied),
    errors: num(r.error_count),
    warnings: num(r.warning_count),
    added: num(r.added),
    changed: num(r.changed),
    terminated: num(r.terminated),
    error: strOrNull(r.error),
    startedAt: toDate(r.started_at),
    finishedAt: dateOrNull(r.finished_at, toDate),
  };
}

export function issueFromRow(r: Row): ImportIssue {
  return { line: num(r.line), kind: r.kind === 'warning' ? 'warning' : 'error', reason: str(r.reason) };
}

/** Partners column: ' a b ' so "concerns partner p" is a substring test on ' p '. */
export const partnersColumn = (partners: readonly string[]): string => ` ${partners.join(' ')} `;

export function diffEventFromRow(r: Row, toDate: ToDate): DiffEvent {
  return {
    id: str(r.id),
    importId: str(r.import_id),
    partnerId: str(r.partner_id),
    memberId: str(r.member_id),
    kind: r.kind as DiffEvent['kind'],
    detail: parseJson<Record<string, unknown>>(r.detail, {}),
    partners: str(r.partners).trim().split(' ').filter(Boolean),
    createdAt: toDate(r.created_at),
    notified: Boolean(r.notified),
  };
}

export function unmatchedFromRow(r: Row, toDate: ToDate): UnmatchedEvent {
  return {
    id: str(r.id),
    messageId: str(r.message_id),
    partnerId: strOrNull(r.partner_id),
    receivedAt: toDate(r.received_at),
    recordedAt: toDate(r.recorded_at),
    identifiers: parseJson<MemberIdentifier[]>(r.identifiers, []),
    resolvedAt: dateOrNull(r.resolved_at, toDate),
    memberId: strOrNull(r.member_id),
    routedAt: dateOrNull(r.routed_at, toDate),
  };
}

export function resolvedUnmatchedFromRow(r: Row): ResolvedUnmatched {
  return { id: str(r.id), messageId: str(r.message_id), memberId: str(r.member_id) };
}

/** The terminated-by-absence event of one member, from the rows the sweep ended. */
export function absenceEvents(
  ended: ReadonlyArray<{ member_id: unknown; role: unknown; partner_id: unknown }>,
  sourcePartner: string,
): Array<{ memberId: string; detail: Record<string, unknown>; partners: string[] }> {
  const byMember = new Map<string, { detail: Record<string, unknown>; partners: Set<string> }>();
  for (const r of ended) {
    const memberId = str(r.member_id);
    let e = byMember.get(memberId);
    if (!e) byMember.set(memberId, (e = { detail: {}, partners: new Set([sourcePartner]) }));
    const role = str(r.role);
    e.detail[role] = { from: str(r.partner_id), to: null };
    if (role !== 'pcp') e.partners.add(str(r.partner_id));
  }
  return [...byMember].map(([memberId, e]) => ({ memberId, detail: { ...e.detail, reason: 'absent' }, partners: [...e.partners] }));
}
