import { newId } from '../store/ids.js';
import { cursorId, keysetPage, pageSize } from '../store/paging.js';
import type { Dialect } from '../store/sql/dialect.js';
import { Where, all, get, insertRows, run, updateRows, type Row, type SqlDb, type Tx } from '../store/sql/sql-db.js';
import type { RosterBackend, StartImportInput, StartImportOutcome, UnmatchedCandidate } from './backend.js';
import {
  countsWithEvents,
  fileConsentFromRow,
  identifierOwnerFromRow,
  loadedAttributionFromRow,
  matchableIdentifiers,
  resumedImport,
  unmatchedCandidateFromRow,
} from './backend-shared.js';
import { dayBefore } from './dates.js';
import { RosterNotFoundError } from './errors.js';
import { PartnerMutex } from './partner-mutex.js';
import { integerId } from './paging.js';
import { planChunk, planInputs, type ChunkContext, type ChunkItem, type ChunkPlan, type LoadedState, type MemberRow, type PlannedEvent } from './plan.js';
import { latestConsentsSql } from './queries.js';
import {
  absenceEvents,
  attributionFromRow,
  consentFromRow,
  dateOf,
  diffEventFromRow,
  identifierFromRow,
  importFromRow,
  issueFromRow,
  memberColumns,
  memberFrom,
  memberRowFromRow,
  partnersColumn,
  resolvedUnmatchedFromRow,
  unmatchedFromRow,
} from './rows.js';
import type {
  Attribution,
  ConsentCategory,
  ConsentInput,
  ConsentRecord,
  DiffEvent,
  DiffEventQuery,
  IdentifierOwner,
  ImportCounts,
  ImportDetail,
  ImportQuery,
  ImportRecord,
  Member,
  MemberIdentifier,
  Page,
  ResolvedUnmatched,
  UnmatchedEvent,
  UnmatchedInput,
  UnmatchedQuery,
} from './store-types.js';

// Lock class of per-partner imports ("rt"); the key is the partner id.
const IMPORT_LOCK_CLASS = 0x7274;

const MEMBER_COLUMNS = {
  member_id: 'text', status: 'text', family: 'text', given: 'text', birth_date: 'text', sex: 'text', address: 'text', phone: 'text',
  match_key: 'text', created_at: 'bigint', updated_at: 'bigint',
} as const;
const ATTRIBUTION_COLUMNS = {
  member_id: 'text', source_partner: 'text', partner_id: 'text', role: 'text', start_date: 'text', end_date: 'text', import_id: 'text', seen_generation: 'int',
} as const;
const CONSENT_COLUMNS = {
  member_id: 'text', partner_id: 'text', category: 'text', granted: 'boolean', source: 'text', source_partner: 'text', import_id: 'text', actor: 'text',
  recorded_at: 'bigint',
} as const;
const EVENT_COLUMNS = {
  import_id: 'text', partner_id: 'text', member_id: 'text', kind: 'text', detail: 'text', partners: 'text', created_at: 'bigint',
} as const;

const byMember = <T extends { memberId: string }>(list: readonly T[]): T[] =>
  [...list].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));

function memberRow(m: MemberRow, now: number): Row {
  const c = memberColumns(m);
  return {
    member_id: m.memberId, status: m.status, family: c.family, given: c.given, birth_date: c.birthDate, sex: c.sex, address: c.address,
    phone: c.phone, match_key: c.matchKey, created_at: now, updated_at: now,
  };
}

/**
 * The roster once for SQLite and Postgres (store/sql/). Every chunk of an import is one transaction
 * of a handful of set-based statements (SQLite: prepared per-row statements in that transaction).
 * Imports of one partner are serialized in process and, on Postgres, across processes by a session
 * advisory lock held for the whole import (a crashed holder's lock goes with its connection).
 * Writes are sorted by member id, so concurrent imports of two partners lock shared members in one order.
 */
export class SqlRosterBackend implements RosterBackend {
  readonly kind: 'sqlite' | 'postgres';
  readonly blocksEventLoop: boolean;
  private readonly d: Dialect;
  private readonly mutex = new PartnerMutex();

  constructor(private readonly db: SqlDb) {
    this.d = db.dialect;
    this.kind = db.dialect.kind;
    this.blocksEventLoop = db.blocksEventLoop;
  }

  // ---- imports ------------------------------------------------------------------------------

  /** In-process queue first (no second connection waits on the lock), then the cross-process lock. */
  withPartnerLock<T>(partnerId: string, fn: () => Promise<T>): Promise<T> {
    return this.mutex.run(partnerId, () => this.db.withSessionLock(IMPORT_LOCK_CLASS, partnerId, fn));
  }

  startImport(input: StartImportInput): Promise<StartImportOutcome> {
    const d = this.d;
    return this.db.write(function* (): Tx<StartImportOutcome> {
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
          [id, input.partnerId, input.sourceId, input.fileName, input.sha256, received, input.importDate, input.fileKind, existing.id, now, now, now],
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
      return { kind: 'started', importId: id, generation, importDate: input.importDate, receivedAt: input.receivedAt, fileKind: input.fileKind, resumed: false };
    });
  }

  private *load(partnerId: string, items: readonly ChunkItem[]): Tx<LoadedState> {
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

  private ownersQuery(identifiers: ReadonlyArray<{ system: string; value: string }>): [string, unknown[]] {
    const sql = `SELECT i.system, i.value, i.member_id FROM ${this.d.jsonRows('k', { system: 'text', value: 'text' })}
       JOIN roster_identifiers i ON i.system = k.system AND i.value = k.value`;
    return [sql, [JSON.stringify(identifiers.map((i) => ({ system: i.system, value: i.value })))]];
  }

  applyChunk(ctx: ChunkContext, items: readonly ChunkItem[], progress: ImportCounts, issueBudget: number): Promise<ChunkPlan> {
    return this.db.write(() => this.applyChunkTx(ctx, items, progress, issueBudget));
  }

  private *applyChunkTx(ctx: ChunkContext, items: readonly ChunkItem[], progress: ImportCounts, issueBudget: number): Tx<ChunkPlan> {
    const plan = planChunk(ctx, items, yield* this.load(ctx.partnerId, items));
    yield* this.write(ctx, plan, issueBudget);
    const p = progress;
    yield* run(`UPDATE roster_imports SET rows = ?, applied = ?, error_count = ?, warning_count = ?, updated_at = ? WHERE id = ?`, [
      p.rows + plan.rows, p.applied + plan.applied, p.errors + plan.errors, p.warnings + plan.warnings, Date.now(), ctx.importId,
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
    yield* insertRows('roster_identifier_systems', { system: 'text' }, systems.map((system) => ({ system })), 'ON CONFLICT DO NOTHING');
    yield* insertRows(
      'roster_attributions',
      ATTRIBUTION_COLUMNS,
      plan.newAttributions.map((a) => ({
        member_id: a.memberId, source_partner: ctx.partnerId, partner_id: a.partnerId, role: a.role, start_date: a.start, end_date: a.end,
        import_id: ctx.importId, seen_generation: ctx.generation,
      })),
    );
    yield* updateRows(
      'UPDATE roster_attributions SET start_date = v.s, end_date = v.e, seen_generation = v.g',
      'id = v.id',
      { id: 'bigint', s: 'text', e: 'text', g: 'int' },
      plan.changedAttributions.map((a) => ({ id: a.id, s: a.start, e: a.end, g: ctx.generation })),
    );
    if (plan.seenAttributions.length) {
      yield* run(`UPDATE roster_attributions SET seen_generation = ? WHERE ${this.d.inList('id', 'bigint')}`, [ctx.generation, plan.seenAttributions]);
    }
    yield* insertRows(
      'roster_consents',
      CONSENT_COLUMNS,
      plan.consents.map((c) => ({
        member_id: c.memberId, partner_id: c.partnerId, category: c.category, granted: c.granted, source: 'member-file', source_partner: ctx.partnerId,
        import_id: ctx.importId, actor: 'system', recorded_at: now,
      })),
    );
    yield* this.insertEvents(ctx, plan.events, now);
    yield* insertRows(
      'roster_import_issues',
      { import_id: 'text', line: 'int', kind: 'text', reason: 'text' },
      plan.issues.slice(0, Math.max(0, issueBudget)).map((i) => ({ import_id: ctx.importId, line: i.line, kind: i.kind, reason: i.reason })),
      'ON CONFLICT DO NOTHING',
    );
    yield* this.recomputeStatus(plan.touchedMembers, ctx.importDate, now);
  }

  private *insertEvents(ctx: ChunkContext, events: ReadonlyArray<Omit<PlannedEvent, 'kind'> & { kind: string }>, now: number): Tx<void> {
    yield* insertRows(
      'roster_diff_events',
      EVENT_COLUMNS,
      events.map((e) => ({
        import_id: ctx.importId, partner_id: ctx.partnerId, member_id: e.memberId, kind: e.kind, detail: JSON.stringify(e.detail),
        partners: partnersColumn(e.partners), created_at: now,
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

  sweepAbsent(ctx: ChunkContext, limit: number): Promise<number> {
    return this.db.write(() => this.sweepAbsentTx(ctx, limit));
  }

  private *sweepAbsentTx(ctx: ChunkContext, limit: number): Tx<number> {
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
    yield* this.insertEvents(ctx, absenceEvents(ended as Array<{ member_id: unknown; role: unknown; partner_id: unknown }>, ctx.partnerId).map((e) => ({ ...e, kind: 'terminated' })), now);
    yield* this.recomputeStatus(members, ctx.importDate, now);
    yield* run('UPDATE roster_imports SET updated_at = ? WHERE id = ?', [now, ctx.importId]);
    return members.length;
  }

  finishImport(importId: string, status: 'applied' | 'failed', counts: ImportCounts, error: string | null): Promise<ImportCounts> {
    return this.db.write(function* (): Tx<ImportCounts> {
      const final = countsWithEvents(counts, yield* all('SELECT kind, COUNT(*) AS n FROM roster_diff_events WHERE import_id = ? GROUP BY kind', [importId]));
      const now = Date.now();
      yield* run(
        `UPDATE roster_imports SET status = ?, rows = ?, applied = ?, error_count = ?, warning_count = ?, added = ?, changed = ?,
           terminated = ?, error = ?, updated_at = ?, finished_at = ?
         WHERE id = ?`,
        [status, final.rows, final.applied, final.errors, final.warnings, final.added, final.changed, final.terminated, error, now, now, importId],
      );
      return final;
    });
  }

  // ---- unmatched ----------------------------------------------------------------------------

  async recordUnmatched(event: UnmatchedInput, matchKey: string | null): Promise<void> {
    const identifiers = matchableIdentifiers(event);
    await this.db.write(function* () {
      const [inserted] = yield* all(
        `INSERT INTO roster_unmatched (message_id, partner_id, received_at, recorded_at, identifiers, match_key)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING RETURNING id`,
        [event.messageId, event.partnerId ?? null, event.receivedAt.getTime(), Date.now(), JSON.stringify(identifiers), matchKey],
      );
      if (!inserted) return;
      yield* insertRows(
        'roster_unmatched_identifiers',
        { unmatched_id: 'bigint', system: 'text', value: 'text' },
        identifiers.map((i) => ({ unmatched_id: inserted.id, system: i.system, value: i.value })),
        'ON CONFLICT DO NOTHING',
      );
    });
  }

  async unmatchedCandidates(afterId: string | null, limit: number, byDemographics: boolean): Promise<UnmatchedCandidate[]> {
    const rows = await this.db.query(
      `SELECT u.id, u.message_id, u.identifiers, u.match_key FROM roster_unmatched u
       WHERE u.resolved_at IS NULL AND u.id > ?
         AND (EXISTS (SELECT 1 FROM roster_unmatched_identifiers ui
                      JOIN roster_identifiers i ON i.system = ui.system AND i.value = ui.value
                      WHERE ui.unmatched_id = u.id)
              OR (? AND u.match_key IS NOT NULL AND EXISTS (SELECT 1 FROM roster_members m WHERE m.match_key = u.match_key)))
       ORDER BY u.id LIMIT ?`,
      [afterId === null ? 0 : integerId(afterId), byDemographics, limit],
    );
    return rows.map(unmatchedCandidateFromRow);
  }

  async resolveUnmatched(resolved: ReadonlyArray<{ id: string; memberId: string }>, at: Date): Promise<void> {
    const rows = resolved.map((r) => ({ id: integerId(r.id), m: r.memberId, at: at.getTime() }));
    await this.db.write(() =>
      updateRows('UPDATE roster_unmatched SET resolved_at = v.at, member_id = v.m', 'id = v.id AND resolved_at IS NULL', { id: 'bigint', m: 'text', at: 'bigint' }, rows),
    );
  }

  async unroutedResolved(resolvedBefore: Date, afterId: string | null, limit: number): Promise<ResolvedUnmatched[]> {
    const rows = await this.db.query(
      `SELECT id, message_id, member_id FROM roster_unmatched
       WHERE resolved_at IS NOT NULL AND routed_at IS NULL AND id > ? AND resolved_at <= ? ORDER BY id LIMIT ?`,
      [afterId === null ? 0 : integerId(afterId), resolvedBefore.getTime(), limit],
    );
    return rows.map(resolvedUnmatchedFromRow);
  }

  async markUnmatchedRouted(ids: readonly string[], at: Date): Promise<number> {
    if (ids.length === 0) return 0;
    const sql = `UPDATE roster_unmatched SET routed_at = ? WHERE resolved_at IS NOT NULL AND routed_at IS NULL AND ${this.d.inList('id', 'bigint')}`;
    return this.db.exec(sql, [at.getTime(), ids.map(integerId)]);
  }

  // ---- members ------------------------------------------------------------------------------

  getMember(memberId: string, today: string): Promise<Member | null> {
    return this.db.read(function* (): Tx<Member | null> {
      const row = yield* get('SELECT * FROM roster_members WHERE member_id = ?', [memberId]);
      if (!row) return null;
      const identifiers = yield* all('SELECT system, value, type FROM roster_identifiers WHERE member_id = ? ORDER BY system, value', [memberId]);
      // Open on `today`, and not emptied (a reassignment backdated before a row's start ends it before it began).
      const attributions = yield* all(
        `SELECT * FROM roster_attributions WHERE member_id = ? AND (end_date IS NULL OR (end_date >= ? AND end_date >= start_date))
         ORDER BY role, start_date, id`,
        [memberId, today],
      );
      const consents = yield* all(latestConsentsSql('?'), [memberId]);
      return memberFrom(
        memberRowFromRow(row),
        identifiers.map(identifierFromRow),
        attributions.map(attributionFromRow),
        consents.map((r) => consentFromRow(r, dateOf)),
      );
    });
  }

  async findMemberIds(identifier: { system?: string; value: string }): Promise<string[]> {
    const rows =
      identifier.system === undefined
        ? await this.db.query(
            `SELECT DISTINCT i.member_id FROM roster_identifier_systems s
             JOIN roster_identifiers i ON i.system = s.system AND i.value = ? ORDER BY i.member_id`,
            [identifier.value],
          )
        : await this.db.query('SELECT member_id FROM roster_identifiers WHERE system = ? AND value = ?', [identifier.system, identifier.value]);
    return rows.map((r) => String(r.member_id));
  }

  async identifierOwners(identifiers: readonly MemberIdentifier[]): Promise<IdentifierOwner[]> {
    if (identifiers.length === 0) return [];
    return (await this.db.query(...this.ownersQuery(identifiers))).map(identifierOwnerFromRow);
  }

  async memberIdsByMatchKey(key: string): Promise<string[]> {
    return (await this.db.query('SELECT member_id FROM roster_members WHERE match_key = ? ORDER BY member_id LIMIT 2', [key])).map((r) => String(r.member_id));
  }

  async attributionHistory(memberId: string): Promise<Attribution[]> {
    return (await this.db.query('SELECT * FROM roster_attributions WHERE member_id = ? ORDER BY start_date, id', [memberId])).map(attributionFromRow);
  }

  async attributedOn(memberId: string, date: string, role: 'aco' | 'cp'): Promise<string[]> {
    const rows = await this.db.query(
      `SELECT DISTINCT partner_id FROM roster_attributions
       WHERE member_id = ? AND role = ? AND start_date <= ? AND (end_date IS NULL OR end_date >= ?) ORDER BY partner_id`,
      [memberId, role, date, date],
    );
    return rows.map((r) => String(r.partner_id));
  }

  async membersOf(partnerId: string, date: string, role: 'aco' | 'cp'): Promise<string[]> {
    const rows = await this.db.query(
      `SELECT DISTINCT member_id FROM roster_attributions
       WHERE partner_id = ? AND role = ? AND start_date <= ? AND (end_date IS NULL OR end_date >= ?) ORDER BY member_id`,
      [partnerId, role, date, date],
    );
    return rows.map((r) => String(r.member_id));
  }

  async latestConsent(memberId: string, partnerId: string, category: ConsentCategory): Promise<ConsentRecord | null> {
    const [row] = await this.db.query(
      `SELECT * FROM roster_consents WHERE member_id = ? AND partner_id = ? AND category = ? ORDER BY recorded_at DESC, id DESC LIMIT 1`,
      [memberId, partnerId, category],
    );
    return row ? consentFromRow(row, dateOf) : null;
  }

  async recordConsent(memberId: string, input: ConsentInput): Promise<ConsentRecord> {
    const recordedAt = input.recordedAt ?? new Date();
    const added = await this.db.exec(
      `INSERT INTO roster_consents (member_id, partner_id, category, granted, source, actor, recorded_at)
       SELECT member_id, ?, ?, ?, ?, ?, ? FROM roster_members WHERE member_id = ?`,
      [input.partnerId, input.category, input.granted, input.source, input.actor ?? null, recordedAt.getTime(), memberId],
    );
    if (added === 0) throw new RosterNotFoundError('member not found');
    return { partnerId: input.partnerId, category: input.category, granted: input.granted, source: input.source, recordedAt };
  }

  async memberConcerns(memberId: string, partners: readonly string[]): Promise<boolean> {
    if (partners.length === 0) return false;
    const sql = `SELECT 1 AS x FROM roster_attributions WHERE member_id = ? AND (${this.d.inList('partner_id', 'text')} OR ${this.d.inList('source_partner', 'text')}) LIMIT 1`;
    return (await this.db.query(sql, [memberId, [...partners], [...partners]])).length > 0;
  }

  // ---- listings -----------------------------------------------------------------------------

  async listImports(q: ImportQuery): Promise<Page<ImportRecord>> {
    const limit = pageSize(q.limit);
    const where = new Where();
    if (q.partner !== undefined) where.add('partner_id = ?', q.partner);
    if (q.partners !== undefined) where.add(this.d.inList('partner_id', 'text'), [...q.partners]);
    if (q.status !== undefined) where.add('status = ?', q.status);
    const after = cursorId(q.cursor);
    if (after !== undefined) where.add('id < ?', after);
    const rows = await this.db.query(`SELECT * FROM roster_imports${where.sql()} ORDER BY id DESC LIMIT ?`, [...where.params, limit + 1]);
    return keysetPage(rows, limit, (r) => importFromRow(r, dateOf), (i) => [i.id]);
  }

  getImport(id: string, issueLimit: number): Promise<ImportDetail | null> {
    return this.db.read(function* (): Tx<ImportDetail | null> {
      const row = yield* get('SELECT * FROM roster_imports WHERE id = ?', [id]);
      if (!row) return null;
      const issues = yield* all('SELECT line, kind, reason FROM roster_import_issues WHERE import_id = ? ORDER BY line, kind, reason LIMIT ?', [id, issueLimit]);
      return { ...importFromRow(row, dateOf), issues: issues.map(issueFromRow) };
    });
  }

  async listDiffEvents(q: DiffEventQuery): Promise<Page<DiffEvent>> {
    const d = this.d;
    const limit = pageSize(q.limit);
    const where = new Where();
    if (q.partner !== undefined) where.add(d.contains('partners', '?'), ` ${q.partner} `);
    if (q.partners !== undefined) {
      if (q.partners.length === 0) return { items: [], next: null };
      where.add(`(${q.partners.map(() => d.contains('partners', '?')).join(' OR ')})`, ...q.partners.map((p) => ` ${p} `));
    }
    if (q.since !== undefined) where.add('created_at >= ?', q.since.getTime());
    if (q.importId !== undefined) where.add('import_id = ?', q.importId);
    if (q.kind !== undefined) where.add('kind = ?', q.kind);
    if (q.notified !== undefined) where.add(`notified = ${q.notified ? d.TRUE : d.FALSE}`);
    const after = cursorId(q.cursor);
    if (after !== undefined) where.add('id > ?', integerId(after));
    const rows = await this.db.query(`SELECT * FROM roster_diff_events${where.sql()} ORDER BY id LIMIT ?`, [...where.params, limit + 1]);
    return keysetPage(rows, limit, (r) => diffEventFromRow(r, dateOf), (e) => [e.id]);
  }

  async markDiffEventsNotified(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const d = this.d;
    return this.db.exec(`UPDATE roster_diff_events SET notified = ${d.TRUE} WHERE notified = ${d.FALSE} AND ${d.inList('id', 'bigint')}`, [ids.map(integerId)]);
  }

  async importsAwaitingNotice(finishedBefore: Date, limit: number): Promise<string[]> {
    const rows = await this.db.query(
      `SELECT i.id FROM roster_imports i
       WHERE i.status = 'applied' AND i.finished_at <= ?
         AND EXISTS (SELECT 1 FROM roster_diff_events e WHERE e.import_id = i.id AND e.notified = ${this.d.FALSE})
       ORDER BY i.finished_at, i.id LIMIT ?`,
      [finishedBefore.getTime(), limit],
    );
    return rows.map((r) => String(r.id));
  }

  async listUnmatched(q: UnmatchedQuery): Promise<Page<UnmatchedEvent>> {
    const limit = pageSize(q.limit);
    const where = new Where();
    if (q.resolved !== undefined) where.add(q.resolved ? 'resolved_at IS NOT NULL' : 'resolved_at IS NULL');
    if (q.partners !== undefined) where.add(this.d.inList('partner_id', 'text'), [...q.partners]);
    const after = cursorId(q.cursor);
    if (after !== undefined) where.add('id < ?', integerId(after));
    const rows = await this.db.query(`SELECT * FROM roster_unmatched${where.sql()} ORDER BY id DESC LIMIT ?`, [...where.params, limit + 1]);
    return keysetPage(rows, limit, (r) => unmatchedFromRow(r, dateOf), (u) => [u.id]);
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1 AS x');
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
