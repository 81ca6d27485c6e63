import { newId } from '../store/ids.js';
import type { Dialect } from '../store/sql/dialect.js';
import { all, get, insertRows, run, updateRows, type Row, type Tx } from '../store/sql/sql-db.js';
import type { StartImportInput, StartImportOutcome } from './backend.js';
import { fileConsentFromRow, identifierOwnerFromRow, loadedAttributionFromRow, resumedImport } from './backend-shared.js';
import { dayBefore } from './dates.js';
import {
  planChunk,
  planInputs,
  type ChunkContext,
  type ChunkItem,
  type ChunkPlan,
  type LoadedState,
  type MemberRow,
  type PlannedEvent,
} from './plan.js';
import { absenceEvents, memberColumns, memberRowFromRow, partnersColumn } from './rows.js';
import type { IdentifierOwner, ImportCounts } from './store-types.js';

const MEMBER_COLUMNS = {
  member_id: 'text',
  status: 'text',
  family: 'text',
  given: 'text',
  birth_date: 'text',
  sex: 'text',
  address: 'text',
  phone: 'text',
  match_key: 'text',
  created_at: 'bigint',
  updated_at: 'bigint',
} as const;
const ATTRIBUTION_COLUMNS = {
  member_id: 'text',
  source_partner: 'text',
  partner_id: 'text',
  role: 'text',
  start_date: 'text',
  end_date: 'text',
  import_id: 'text',
  seen_generation: 'int',
} as const;
const CONSENT_COLUMNS = {
  member_id: 'text',
  partner_id: 'text',
  category: 'text',
  granted: 'boolean',
  source: 'text',
  source_partner: 'text',
  import_id: 'text',
  actor: 'text',
  recorded_at: 'bigint',
} as const;
const EVENT_COLUMNS = {
  import_id: 'text',
  partner_id: 'text',
  member_id: 'text',
  kind: 'text',
  detail: 'text',
  partners: 'text',
  created_at: 'bigint',
} as const;

const byMember = <T extends { memberId: string }>(list: readonly T[]): T[] =>
  [...list].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));

function memberRow(m: MemberRow, now: number): Row {
  const c = memberColumns(m);
  return {
    member_id: m.memberId,
    status: m.status,
    family: c.family,
    given: c.given,
    birth_date: c.birthDate,
    sex: c.sex,
    address: c.address,
    phone: c.phone,
    match_key: c.matchKey,
    created_at: now,
    updated_at: now,
  };
}

/**
 * The transaction bodies of a roster import, once for both engines (sql-roster.ts runs each in one
 * write transaction). A chunk is a handful of set-based statements: one unnest() statement per
 * table on Postgres, a prepared per-row statement inside the transaction on SQLite (store/sql/).
 * Writes are sorted by member id, so concurrent imports of two partners lock shared members in one order.
 */
export class RosterImportTx {
  constructor(private readonly d: Dialect) {}

  *start(input: StartImportInput): Tx<StartImportOutcome> {
    const d = this.d;
    const now = Date.now();
    const received = input.receivedAt.getTime();
    const existing = yield* get(
      `SELECT id, status, import_date, received_at, file_kind FROM roster_imports
       WHERE partner_id = ? AND file_name = ? AND sha256 = ? AND status <> 'duplicate'${d.forUpdate}`,
      [input.partnerId, input.fileName, input.sha256],
    );
    if (existing?.status === 'applied') {
      const id = newId();
      yield* run(
        `INSERT INTO roster_imports (id, partner_id, source_id, file_name, sha256, received_at, import_date, file_kind,
           status, duplicate_of, started_at, updated_at, finished_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'duplicate', ?, ?, ?, ?)`,
        [
          id,
          input.partnerId,
          input.sourceId,
          input.fileName,
          input.sha256,
          received,
          input.importDate,
          input.fileKind,
          existing.id,
          now,
          now,
          now,
        ],
      );
      return { kind: 'duplicate', importId: id, duplicateOf: String(existing.id) };
    }
    // The caller holds the partner lock: any other unfinished import of this partner was cut off by a crash.
    yield* run(
      `UPDATE roster_imports SET status = 'failed', error = 'abandoned: another file of this partner was imported after it',
         updated_at = ?, finished_at = ?
       WHERE partner_id = ? AND status = 'in-progress' AND id <> ?`,
      [now, now, input.partnerId, existing ? existing.id : ''],
    );
    const g = yield* get('SELECT COALESCE(MAX(generation), 0) + 1 AS g FROM roster_imports WHERE partner_id = ?', [input.partnerId]);
    const generation = Number(g?.g ?? 1);
    if (existing) {
      const id = String(existing.id);
      yield* run('DELETE FROM roster_import_issues WHERE import_id = ?', [id]);
      yield* run(
        `UPDATE roster_imports SET status = 'in-progress', generation = ?, source_id = COALESCE(?, source_id), error = NULL,
           rows = 0, applied = 0, error_count = 0, warning_count = 0, updated_at = ?, finished_at = NULL
         WHERE id = ?`,
        [generation, input.sourceId, now, id],
      );
      return resumedImport(existing, id, generation);
    }
    const id = newId();
    yield* run(
      `INSERT INTO roster_imports (id, partner_id, source_id, file_name, sha256, received_at, import_date, file_kind,
         generation, status, started_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'in-progress', ?, ?)`,
      [id, input.partnerId, input.sourceId, input.fileName, input.sha256, received, input.importDate, input.fileKind, generation, now, now],
    );
    return {
      kind: 'started',
      importId: id,
      generation,
      importDate: input.importDate,
      receivedAt: input.receivedAt,
      fileKind: input.fileKind,
      resumed: false,
    };
  }

  *load(partnerId: string, items: readonly ChunkItem[]): Tx<LoadedState> {
    const d = this.d;
    const { memberIds, identifiers } = planInputs(items);
    const members = yield* all(`SELECT * FROM roster_members WHERE ${d.inList('member_id', 'text')}`, [memberIds]);
    const attributions = yield* all(
      `SELECT id, member_id, partner_id, role, start_date, end_date FROM roster_attributions
       WHERE ${d.inList('member_id', 'text')} AND source_partner = ? ORDER BY id`,
      [memberIds, partnerId],
    );
    const consents = yield* all(
      `SELECT member_id, partner_id, category, granted FROM roster_consents
       WHERE ${d.inList('member_id', 'text')} AND source_partner = ? AND source = 'member-file' ORDER BY recorded_at, id`,
      [memberIds, partnerId],
    );
    return {
      members: members.map(memberRowFromRow),
      attributions: attributions.map(loadedAttributionFromRow),
      identifierOwners: yield* this.owners(identifiers),
      fileConsents: consents.map(fileConsentFromRow),
    };
  }

  private *owners(identifiers: ReadonlyArray<{ system: string; value: string }>): Tx<IdentifierOwner[]> {
    if (identifiers.length === 0) return [];
    return (yield* all(...this.ownersQuery(identifiers))).map(identifierOwnerFromRow);
  }

  ownersQuery(identifiers: ReadonlyArray<{ system: string; value: string }>): [string, unknown[]] {
    const sql = `SELECT i.system, i.value, i.member_id FROM ${this.d.jsonRows('k', { system: 'text', value: 'text' })}
       JOIN roster_identifiers i ON i.system = k.system AND i.value = k.value`;
    return [sql, [JSON.stringify(identifiers.map((i) => ({ system: i.system, value: i.value })))]];
  }

  *applyChunk(ctx: ChunkContext, items: readonly ChunkItem[], progress: ImportCounts, issueBudget: number): Tx<ChunkPlan> {
    const plan = planChunk(ctx, items, yield* this.load(ctx.partnerId, items));
    yield* this.write(ctx, plan, issueBudget);
    const p = progress;
    yield* run(`UPDATE roster_imports SET rows = ?, applied = ?, error_count = ?, warning_count = ?, updated_at = ? WHERE id = ?`, [
      p.rows + plan.rows,
      p.applied + plan.applied,
      p.errors + plan.errors,
      p.warnings + plan.warnings,
      Date.now(),
      ctx.importId,
    ]);
    return plan;
  }

  private *write(ctx: ChunkContext, plan: ChunkPlan, issueBudget: number): Tx<void> {
    const now = Date.now();
    // A concurrent import of another partner may have created the member since we looked: ours is the later word.
    yield* insertRows(
      'roster_members',
      MEMBER_COLUMNS,
      byMember(plan.newMembers).map((m) => memberRow(m, now)),
      `ON CONFLICT (member_id) DO UPDATE SET family = EXCLUDED.family, given = EXCLUDED.given, birth_date = EXCLUDED.birth_date,
         sex = EXCLUDED.sex, address = EXCLUDED.address, phone = EXCLUDED.phone, match_key = EXCLUDED.match_key, updated_at = EXCLUDED.updated_at`,
    );
    yield* updateRows(
      `UPDATE roster_members SET family = v.family, given = v.given, birth_date = v.birth_date, sex = v.sex, address = v.address,
         phone = v.phone, match_key = v.match_key, updated_at = v.updated_at`,
      'member_id = v.member_id',
      MEMBER_COLUMNS,
      byMember(plan.changedMembers).map((m) => memberRow(m, now)),
    );
    const ids = plan.newIdentifiers;
    yield* insertRows(
      'roster_identifiers',
      { system: 'text', value: 'text', type: 'text', member_id: 'text' },
      ids.map((i) => ({ system: i.system, value: i.value, type: i.type, member_id: i.memberId })),
      'ON CONFLICT DO NOTHING',
    );
    const systems = [...new Set(ids.map((i) => i.system))].sort();
    yield* insertRows(
      'roster_identifier_systems',
      { system: 'text' },
      systems.map((system) => ({ system })),
      'ON CONFLICT DO NOTHING',
    );
    yield* insertRows(
      'roster_attributions',
      ATTRIBUTION_COLUMNS,
      plan.newAttributions.map((a) => ({
        member_id: a.memberId,
        source_partner: ctx.partnerId,
        partner_id: a.partnerId,
        role: a.role,
        start_date: a.start,
        end_date: a.end,
        import_id: ctx.importId,
        seen_generation: ctx.generation,
      })),
    );
    yield* updateRows(
      'UPDATE roster_attributions SET start_date = v.s, end_date = v.e, seen_generation = v.g',
      'id = v.id',
      { id: 'bigint', s: 'text', e: 'text', g: 'int' },
      plan.changedAttributions.map((a) => ({ id: a.id, s: a.start, e: a.end, g: ctx.generation })),
    );
    if (plan.seenAttributions.length) {
      yield* run(`UPDATE roster_attributions SET seen_generation = ? WHERE ${this.d.inList('id', 'bigint')}`, [
        ctx.generation,
        plan.seenAttributions,
      ]);
    }
    yield* insertRows(
      'roster_consents',
      CONSENT_COLUMNS,
      plan.consents.map((c) => ({
        member_id: c.memberId,
        partner_id: c.partnerId,
        category: c.category,
        granted: c.granted,
        source: 'member-file',
        source_partner: ctx.partnerId,
        import_id: ctx.importId,
        actor: 'system',
        recorded_at: now,
      })),
    );
    yield* this.insertEvents(ctx, plan.events, now);
    yield* insertRows(
      'roster_import_issues',
      { import_id: 'text', line: 'int', kind: 'text', reason: 'text' },
      plan.issues
        .slice(0, Math.max(0, issueBudget))
        .map((i) => ({ import_id: ctx.importId, line: i.line, kind: i.kind, reason: i.reason })),
      'ON CONFLICT DO NOTHING',
    );
    yield* this.recomputeStatus(plan.touchedMembers, ctx.importDate, now);
  }

  private *insertEvents(ctx: ChunkContext, events: ReadonlyArray<Omit<PlannedEvent, 'kind'> & { kind: string }>, now: number): Tx<void> {
    yield* insertRows(
      'roster_diff_events',
      EVENT_COLUMNS,
      events.map((e) => ({
        import_id: ctx.importId,
        partner_id: ctx.partnerId,
        member_id: e.memberId,
        kind: e.kind,
        detail: JSON.stringify(e.detail),
        partners: partnersColumn(e.partners),
        created_at: now,
      })),
    );
  }

  /** Terminated = has attributions, none of them open on the import date. */
  private *recomputeStatus(memberIds: readonly string[], importDate: string, now: number): Tx<void> {
    if (memberIds.length === 0) return;
    yield* run(
      `UPDATE roster_members AS m SET status = s.status, updated_at = ?
       FROM (SELECT mm.member_id,
               CASE WHEN NOT EXISTS (SELECT 1 FROM roster_attributions a WHERE a.member_id = mm.member_id)
                      OR EXISTS (SELECT 1 FROM roster_attributions a WHERE a.member_id = mm.member_id AND (a.end_date IS NULL OR a.end_date >= ?))
                    THEN 'active' ELSE 'terminated' END AS status
             FROM roster_members mm WHERE ${this.d.inList('mm.member_id', 'text')}) AS s
       WHERE m.member_id = s.member_id AND m.status <> s.status`,
      [now, importDate, [...memberIds].sort()],
    );
  }

  *sweepAbsent(ctx: ChunkContext, limit: number): Tx<number> {
    const found = yield* all(
      `SELECT member_id FROM (
         SELECT member_id FROM roster_attributions WHERE source_partner = ? AND end_date IS NULL AND seen_generation < ?
         UNION
         SELECT member_id FROM roster_attributions WHERE source_partner = ? AND end_date >= ? AND seen_generation < ?) AS s
       LIMIT ?`,
      [ctx.partnerId, ctx.generation, ctx.partnerId, ctx.importDate, ctx.generation, limit],
    );
    const members = found.map((r) => String(r.member_id)).sort();
    if (members.length === 0) return 0;
    const ended = yield* all(
      `UPDATE roster_attributions SET end_date = ?, seen_generation = ?
       WHERE ${this.d.inList('member_id', 'text')} AND source_partner = ? AND seen_generation < ? AND (end_date IS NULL OR end_date >= ?)
       RETURNING member_id, role, partner_id`,
      [dayBefore(ctx.importDate), ctx.generation, members, ctx.partnerId, ctx.generation, ctx.importDate],
    );
    const now = Date.now();
    yield* this.insertEvents(
      ctx,
      absenceEvents(ended as Array<{ member_id: unknown; role: unknown; partner_id: unknown }>, ctx.partnerId).map((e) => ({
        ...e,
        kind: 'terminated',
      })),
      now,
    );
    yield* this.recomputeStatus(members, ctx.importDate, now);
    yield* run('UPDATE roster_imports SET updated_at = ? WHERE id = ?', [now, ctx.importId]);
    return members.length;
  }
}
