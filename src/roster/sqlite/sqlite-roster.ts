import Database from 'better-sqlite3';
import { newId } from '../../store/ids.js';
import { openSqlite } from '../../store/open-database.js';
import type { RosterBackend, StartImportInput, StartImportOutcome, UnmatchedCandidate } from '../backend.js';
import {
  countsWithEvents,
  fileConsentFromRow,
  identifierOwnerFromRow,
  loadedAttributionFromRow,
  matchableIdentifiers,
  resumedImport,
  unmatchedCandidateFromRow,
} from '../backend-shared.js';
import { RosterNotFoundError } from '../errors.js';
import { migrateRosterSqlite } from '../migrate.js';
import { PartnerMutex } from '../partner-mutex.js';
import { cursorId, integerId, pageSize, toPage } from '../paging.js';
import { latestConsentsSql } from '../queries.js';
import { planChunk, planInputs, type ChunkContext, type ChunkItem, type ChunkPlan, type LoadedState } from '../plan.js';
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
  type Row,
} from '../rows.js';
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
} from '../store-types.js';
import { dayBefore } from '../dates.js';
import { SQLITE_ROSTER_MIGRATIONS } from './schema.js';

export interface SqliteRosterOptions {
  busyTimeoutMs?: number;
  /** FULL (default) fsyncs every chunk commit; NORMAL survives process crashes only (benchmarks). */
  synchronous?: 'FULL' | 'NORMAL';
  /** Page cache of this connection. Default 32 MiB (imports insert identifiers at random places in their index). */
  cacheSizeMb?: number;
}

type Statement = Database.Statement<unknown[], unknown>;



const json = (v: unknown): string => JSON.stringify(v);
// Lists go in as one JSON parameter (json_each), so a chunk's lookup is one statement, not 1,000.
const IN_LIST = `(SELECT value FROM json_each(?))`;

/**
 * The roster on better-sqlite3, in its own connection to the gateway's database file (WAL lets it
 * share the file with the message store). Calls are synchronous inside their promises: one chunk
 * is one IMMEDIATE transaction that loads, plans and writes without yielding.
 */
export class SqliteRosterBackend implements RosterBackend {
  readonly kind = 'sqlite' as const;
  readonly blocksEventLoop = true;
  private readonly mutex = new PartnerMutex();
  private readonly cache = new Map<string, Statement>();

  private constructor(private readonly db: Database.Database) {}

  static open(filename: string, options: SqliteRosterOptions = {}): SqliteRosterBackend {
    const { busyTimeoutMs, synchronous } = options;
    return openSqlite(filename, { busyTimeoutMs, synchronous, cacheSizeMb: options.cacheSizeMb ?? 32 }, (db) => {
      migrateRosterSqlite(db, SQLITE_ROSTER_MIGRATIONS);
      return new SqliteRosterBackend(db);
    });
  }

  private st(sql: string): Statement {
    let s = this.cache.get(sql);
    if (!s) this.cache.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  // ---- imports ------------------------------------------------------------------------------

  /** SQLite deployments are one gateway process: the in-process mutex is the partner lock. */
  withPartnerLock<T>(partnerId: string, fn: () => Promise<T>): Promise<T> {
    return this.mutex.run(partnerId, fn);
  }

  async startImport(input: StartImportInput): Promise<StartImportOutcome> {
    const tx = this.db.transaction((): StartImportOutcome => {
      const now = Date.now();
      const existing = this.st(
        `SELECT id, status, import_date, received_at, file_kind FROM roster_imports
         WHERE partner_id = ? AND file_name = ? AND sha256 = ? AND status <> 'duplicate'`,
      ).get(input.partnerId, input.fileName, input.sha256) as Row | undefined;
      if (existing?.status === 'applied') {
        const id = newId();
        this.st(
          `INSERT INTO roster_imports (id, partner_id, source_id, file_name, sha256, received_at, import_date, file_kind,
             status, duplicate_of, started_at, updated_at, finished_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'duplicate', ?, ?, ?, ?)`,
        ).run(id, input.partnerId, input.sourceId, input.fileName, input.sha256, input.receivedAt.getTime(), input.importDate,
          input.fileKind, existing.id, now, now, now);
        return { kind: 'duplicate', importId: id, duplicateOf: String(existing.id) };
      }
      // The caller holds the partner lock: any other unfinished import of this partner was cut off by a crash.
      this.st(
        `UPDATE roster_imports SET status = 'failed', error = 'abandoned: another file of this partner was imported after it',
           updated_at = ?, finished_at = ?
         WHERE partner_id = ? AND status = 'in-progress' AND id <> ?`,
      ).run(now, now, input.partnerId, existing ? existing.id : '');
      const generation =
        Number((this.st('SELECT MAX(generation) AS g FROM roster_imports WHERE partner_id = ?').get(input.partnerId) as Row).g ?? 0) + 1;
      if (existing) {
        const id = String(existing.id);
        this.st('DELETE FROM roster_import_issues WHERE import_id = ?').run(id);
        this.st(
          `UPDATE roster_imports SET status = 'in-progress', generation = ?, source_id = COALESCE(?, source_id), error = NULL,
             rows = 0, applied = 0, error_count = 0, warning_count = 0, updated_at = ?, finished_at = NULL
           WHERE id = ?`,
        ).run(generation, input.sourceId, now, id);
        return resumedImport(existing, id, generation);
      }
      const id = newId();
      this.st(
        `INSERT INTO roster_imports (id, partner_id, source_id, file_name, sha256, received_at, import_date, file_kind,
           generation, status, started_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'in-progress', ?, ?)`,
      ).run(id, input.partnerId, input.sourceId, input.fileName, input.sha256, input.receivedAt.getTime(), input.importDate,
        input.fileKind, generation, now, now);
      return { kind: 'started', importId: id, generation, importDate: input.importDate, receivedAt: input.receivedAt, fileKind: input.fileKind, resumed: false };
    });
    return tx.immediate();
  }

  private load(partnerId: string, items: readonly ChunkItem[]): LoadedState {
    const { memberIds, identifiers } = planInputs(items);
    const ids = json(memberIds);
    return {
      members: (this.st(`SELECT * FROM roster_members WHERE member_id IN ${IN_LIST}`).all(ids) as Row[]).map(memberRowFromRow),
      attributions: (
        this.st(
          `SELECT id, member_id, partner_id, role, start_date, end_date FROM roster_attributions
           WHERE member_id IN ${IN_LIST} AND source_partner = ? ORDER BY id`,
        ).all(ids, partnerId) as Row[]
      ).map(loadedAttributionFromRow),
      identifierOwners: this.owners(identifiers),
      fileConsents: (
        this.st(
          `SELECT member_id, partner_id, category, granted FROM roster_consents
           WHERE member_id IN ${IN_LIST} AND source_partner = ? AND source = 'member-file' ORDER BY recorded_at, id`,
        ).all(ids, partnerId) as Row[]
      ).map(fileConsentFromRow),
    };
  }

  private owners(identifiers: ReadonlyArray<{ system: string; value: string }>): IdentifierOwner[] {
    if (identifiers.length === 0) return [];
    const rows = this.st(
      `SELECT i.system, i.value, i.member_id FROM json_each(?) AS j
       JOIN roster_identifiers AS i ON i.system = json_extract(j.value, '$[0]') AND i.value = json_extract(j.value, '$[1]')`,
    ).all(json(identifiers.map((i) => [i.system, i.value]))) as Row[];
    return rows.map(identifierOwnerFromRow);
  }

  async applyChunk(ctx: ChunkContext, items: readonly ChunkItem[], progress: ImportCounts, issueBudget: number): Promise<ChunkPlan> {
    const tx = this.db.transaction((): ChunkPlan => {
      const plan = planChunk(ctx, items, this.load(ctx.partnerId, items));
      this.write(ctx, plan, issueBudget);
      this.st(
        `UPDATE roster_imports SET rows = ?, applied = ?, error_count = ?, warning_count = ?, updated_at = ? WHERE id = ?`,
      ).run(progress.rows + plan.rows, progress.applied + plan.applied, progress.errors + plan.errors,
        progress.warnings + plan.warnings, Date.now(), ctx.importId);
      return plan;
    });
    return tx.immediate();
  }

  private write(ctx: ChunkContext, plan: ChunkPlan, issueBudget: number): void {
    const now = Date.now();
    const insertMember = this.st(
      `INSERT INTO roster_members (member_id, status, family, given, birth_date, sex, address, phone, match_key, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const m of plan.newMembers) {
      const c = memberColumns(m);
      insertMember.run(m.memberId, m.status, c.family, c.given, c.birthDate, c.sex, c.address, c.phone, c.matchKey, now, now);
    }
    const updateMember = this.st(
      `UPDATE roster_members SET family = ?, given = ?, birth_date = ?, sex = ?, address = ?, phone = ?, match_key = ?, updated_at = ?
       WHERE member_id = ?`,
    );
    for (const m of plan.changedMembers) {
      const c = memberColumns(m);
      updateMember.run(c.family, c.given, c.birthDate, c.sex, c.address, c.phone, c.matchKey, now, m.memberId);
    }
    const insertIdentifier = this.st('INSERT OR IGNORE INTO roster_identifiers (system, value, type, member_id) VALUES (?, ?, ?, ?)');
    for (const i of plan.newIdentifiers) insertIdentifier.run(i.system, i.value, i.type, i.memberId);
    const insertSystem = this.st('INSERT OR IGNORE INTO roster_identifier_systems (system) VALUES (?)');
    for (const system of new Set(plan.newIdentifiers.map((i) => i.system))) insertSystem.run(system);

    const insertAttribution = this.st(
      `INSERT INTO roster_attributions (member_id, source_partner, partner_id, role, start_date, end_date, import_id, seen_generation)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const a of plan.newAttributions) {
      insertAttribution.run(a.memberId, ctx.partnerId, a.partnerId, a.role, a.start, a.end, ctx.importId, ctx.generation);
    }
    const updateAttribution = this.st(
      'UPDATE roster_attributions SET start_date = ?, end_date = ?, seen_generation = ? WHERE id = ?',
    );
    for (const a of plan.changedAttributions) updateAttribution.run(a.start, a.end, ctx.generation, a.id);
    if (plan.seenAttributions.length) {
      this.st(`UPDATE roster_attributions SET seen_generation = ? WHERE id IN ${IN_LIST}`).run(ctx.generation, json(plan.seenAttributions));
    }

    const insertConsent = this.st(
      `INSERT INTO roster_consents (member_id, partner_id, category, granted, source, source_partner, import_id, actor, recorded_at)
       VALUES (?, ?, ?, ?, 'member-file', ?, ?, 'system', ?)`,
    );
    for (const c of plan.consents) insertConsent.run(c.memberId, c.partnerId, c.category, c.granted ? 1 : 0, ctx.partnerId, ctx.importId, now);

    this.insertEvents(ctx, plan.events, now);
    const insertIssue = this.st('INSERT OR IGNORE INTO roster_import_issues (import_id, line, kind, reason) VALUES (?, ?, ?, ?)');
    for (const i of plan.issues.slice(0, Math.max(0, issueBudget))) insertIssue.run(ctx.importId, i.line, i.kind, i.reason);
    this.recomputeStatus(plan.touchedMembers, ctx.importDate, now);
  }

  private insertEvents(
    ctx: ChunkContext,
    events: ReadonlyArray<{ memberId: string; kind: string; detail: Record<string, unknown>; partners: string[] }>,
    now: number,
  ): void {
    const insert = this.st(
      `INSERT INTO roster_diff_events (import_id, partner_id, member_id, kind, detail, partners, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const e of events) insert.run(ctx.importId, ctx.partnerId, e.memberId, e.kind, json(e.detail), partnersColumn(e.partners), now);
  }

  /** Terminated = has attributions, none of them open on the import date. */
  private recomputeStatus(memberIds: readonly string[], importDate: string, now: number): void {
    if (memberIds.length === 0) return;
    this.st(
      `UPDATE roster_members AS m SET status = s.status, updated_at = ?
       FROM (SELECT mm.member_id,
               CASE WHEN NOT EXISTS (SELECT 1 FROM roster_attributions a WHERE a.member_id = mm.member_id)
                      OR EXISTS (SELECT 1 FROM roster_attributions a WHERE a.member_id = mm.member_id AND (a.end_date IS NULL OR a.end_date >= ?))
                    THEN 'active' ELSE 'terminated' END AS status
             FROM roster_members mm WHERE mm.member_id IN ${IN_LIST}) AS s
       WHERE m.member_id = s.member_id AND m.status <> s.status`,
    ).run(now, importDate, json(memberIds));
  }

  async sweepAbsent(ctx: ChunkContext, limit: number): Promise<number> {
    const tx = this.db.transaction((): number => {
      const members = (
        this.st(
          `SELECT member_id FROM roster_attributions WHERE source_partner = ? AND end_date IS NULL AND seen_generation < ?
           UNION
           SELECT member_id FROM roster_attributions WHERE source_partner = ? AND end_date >= ? AND seen_generation < ?
           LIMIT ?`,
        ).all(ctx.partnerId, ctx.generation, ctx.partnerId, ctx.importDate, ctx.generation, limit) as Row[]
      ).map((r) => String(r.member_id));
      if (members.length === 0) return 0;
      const ended = this.st(
        `UPDATE roster_attributions SET end_date = ?, seen_generation = ?
         WHERE member_id IN ${IN_LIST} AND source_partner = ? AND seen_generation < ? AND (end_date IS NULL OR end_date >= ?)
         RETURNING member_id, role, partner_id`,
      ).all(dayBefore(ctx.importDate), ctx.generation, json(members), ctx.partnerId, ctx.generation, ctx.importDate) as Row[];
      const now = Date.now();
      this.insertEvents(
        ctx,
        absenceEvents(ended as Array<{ member_id: unknown; role: unknown; partner_id: unknown }>, ctx.partnerId).map((e) => ({ ...e, kind: 'terminated' })),
        now,
      );
      this.recomputeStatus(members, ctx.importDate, now);
      this.st('UPDATE roster_imports SET updated_at = ? WHERE id = ?').run(now, ctx.importId);
      return members.length;
    });
    return tx.immediate();
  }

  async finishImport(importId: string, status: 'applied' | 'failed', counts: ImportCounts, error: string | null): Promise<ImportCounts> {
    const tx = this.db.transaction((): ImportCounts => {
      const final = countsWithEvents(
        counts,
        this.st('SELECT kind, COUNT(*) AS n FROM roster_diff_events WHERE import_id = ? GROUP BY kind').all(importId) as Row[],
      );
      const now = Date.now();
      this.st(
        `UPDATE roster_imports SET status = ?, rows = ?, applied = ?, error_count = ?, warning_count = ?, added = ?, changed = ?,
           terminated = ?, error = ?, updated_at = ?, finished_at = ?
         WHERE id = ?`,
      ).run(status, final.rows, final.applied, final.errors, final.warnings, final.added, final.changed, final.terminated, error, now, now, importId);
      return final;
    });
    return tx.immediate();
  }

  // ---- unmatched ----------------------------------------------------------------------------

  async recordUnmatched(event: UnmatchedInput, matchKey: string | null): Promise<void> {
    const identifiers = matchableIdentifiers(event);
    const tx = this.db.transaction(() => {
      const inserted = this.st(
        `INSERT INTO roster_unmatched (message_id, partner_id, received_at, recorded_at, identifiers, match_key)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING RETURNING id`,
      ).get(event.messageId, event.partnerId ?? null, event.receivedAt.getTime(), Date.now(), json(identifiers), matchKey) as Row | undefined;
      if (!inserted) return;
      const add = this.st('INSERT OR IGNORE INTO roster_unmatched_identifiers (unmatched_id, system, value) VALUES (?, ?, ?)');
      for (const i of identifiers) add.run(inserted.id, i.system, i.value);
    });
    tx.immediate();
  }

  async unmatchedCandidates(afterId: string | null, limit: number, byDemographics: boolean): Promise<UnmatchedCandidate[]> {
    const rows = this.st(
      `SELECT u.id, u.message_id, u.identifiers, u.match_key FROM roster_unmatched u
       WHERE u.resolved_at IS NULL AND u.id > ?
         AND (EXISTS (SELECT 1 FROM roster_unmatched_identifiers ui
                      JOIN roster_identifiers i ON i.system = ui.system AND i.value = ui.value
                      WHERE ui.unmatched_id = u.id)
              OR (? = 1 AND u.match_key IS NOT NULL AND EXISTS (SELECT 1 FROM roster_members m WHERE m.match_key = u.match_key)))
       ORDER BY u.id LIMIT ?`,
    ).all(afterId === null ? 0 : Number(afterId), byDemographics ? 1 : 0, limit) as Row[];
    return rows.map(unmatchedCandidateFromRow);
  }

  async resolveUnmatched(resolved: ReadonlyArray<{ id: string; memberId: string }>, at: Date): Promise<void> {
    const update = this.st('UPDATE roster_unmatched SET resolved_at = ?, member_id = ? WHERE id = ? AND resolved_at IS NULL');
    this.db.transaction(() => {
      for (const r of resolved) update.run(at.getTime(), r.memberId, Number(r.id));
    }).immediate();
  }

  async unroutedResolved(resolvedBefore: Date, afterId: string | null, limit: number): Promise<ResolvedUnmatched[]> {
    const rows = this.st(
      `SELECT id, message_id, member_id FROM roster_unmatched
       WHERE resolved_at IS NOT NULL AND routed_at IS NULL AND id > ? AND resolved_at <= ?
       ORDER BY id LIMIT ?`,
    ).all(afterId === null ? 0 : integerId(afterId), resolvedBefore.getTime(), limit) as Row[];
    return rows.map(resolvedUnmatchedFromRow);
  }

  async markUnmatchedRouted(ids: readonly string[], at: Date): Promise<number> {
    if (ids.length === 0) return 0;
    return this.st(`UPDATE roster_unmatched SET routed_at = ? WHERE resolved_at IS NOT NULL AND routed_at IS NULL AND id IN ${IN_LIST}`).run(
      at.getTime(),
      json(ids.map(integerId)),
    ).changes;
  }

  // ---- members ------------------------------------------------------------------------------

  async getMember(memberId: string, today: string): Promise<Member | null> {
    const row = this.st('SELECT * FROM roster_members WHERE member_id = ?').get(memberId) as Row | undefined;
    if (!row) return null;
    const identifiers = (this.st('SELECT system, value, type FROM roster_identifiers WHERE member_id = ? ORDER BY system, value').all(memberId) as Row[]).map(
      identifierFromRow,
    );
    // Open on `today`, and not emptied (a reassignment backdated before a row's start ends it before it began).
    const attributions = (
      this.st(
        `SELECT * FROM roster_attributions WHERE member_id = ? AND (end_date IS NULL OR (end_date >= ? AND end_date >= start_date))
         ORDER BY role, start_date, id`,
      ).all(memberId, today) as Row[]
    ).map(attributionFromRow);
    const consents = (this.st(latestConsentsSql('?')).all(memberId) as Row[]).map((r) => consentFromRow(r, dateOf));
    return memberFrom(memberRowFromRow(row), identifiers, attributions, consents);
  }

  async findMemberIds(identifier: { system?: string; value: string }): Promise<string[]> {
    const rows = (
      identifier.system === undefined
        ? this.st(
            `SELECT DISTINCT i.member_id FROM roster_identifier_systems s
             JOIN roster_identifiers i ON i.system = s.system AND i.value = ? ORDER BY i.member_id`,
          ).all(identifier.value)
        : this.st('SELECT member_id FROM roster_identifiers WHERE system = ? AND value = ?').all(identifier.system, identifier.value)
    ) as Row[];
    return rows.map((r) => String(r.member_id));
  }

  async identifierOwners(identifiers: readonly MemberIdentifier[]): Promise<IdentifierOwner[]> {
    return this.owners(identifiers);
  }

  async memberIdsByMatchKey(key: string): Promise<string[]> {
    return (this.st('SELECT member_id FROM roster_members WHERE match_key = ? ORDER BY member_id LIMIT 2').all(key) as Row[]).map((r) =>
      String(r.member_id),
    );
  }

  async attributionHistory(memberId: string): Promise<Attribution[]> {
    return (this.st('SELECT * FROM roster_attributions WHERE member_id = ? ORDER BY start_date, id').all(memberId) as Row[]).map(attributionFromRow);
  }

  async attributedOn(memberId: string, date: string, role: 'aco' | 'cp'): Promise<string[]> {
    return (
      this.st(
        `SELECT DISTINCT partner_id FROM roster_attributions
         WHERE member_id = ? AND role = ? AND start_date <= ? AND (end_date IS NULL OR end_date >= ?) ORDER BY partner_id`,
      ).all(memberId, role, date, date) as Row[]
    ).map((r) => String(r.partner_id));
  }

  async membersOf(partnerId: string, date: string, role: 'aco' | 'cp'): Promise<string[]> {
    return (
      this.st(
        `SELECT DISTINCT member_id FROM roster_attributions
         WHERE partner_id = ? AND role = ? AND start_date <= ? AND (end_date IS NULL OR end_date >= ?) ORDER BY member_id`,
      ).all(partnerId, role, date, date) as Row[]
    ).map((r) => String(r.member_id));
  }

  async latestConsent(memberId: string, partnerId: string, category: ConsentCategory): Promise<ConsentRecord | null> {
    const row = this.st(
      `SELECT * FROM roster_consents WHERE member_id = ? AND partner_id = ? AND category = ? ORDER BY recorded_at DESC, id DESC LIMIT 1`,
    ).get(memberId, partnerId, category) as Row | undefined;
    return row ? consentFromRow(row, dateOf) : null;
  }

  async recordConsent(memberId: string, input: ConsentInput): Promise<ConsentRecord> {
    const recordedAt = input.recordedAt ?? new Date();
    const tx = this.db.transaction(() => {
      if (!this.st('SELECT 1 FROM roster_members WHERE member_id = ?').get(memberId)) throw new RosterNotFoundError('member not found');
      this.st(
        `INSERT INTO roster_consents (member_id, partner_id, category, granted, source, actor, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(memberId, input.partnerId, input.category, input.granted ? 1 : 0, input.source, input.actor ?? null, recordedAt.getTime());
    });
    tx.immediate();
    return { partnerId: input.partnerId, category: input.category, granted: input.granted, source: input.source, recordedAt };
  }

  async memberConcerns(memberId: string, partners: readonly string[]): Promise<boolean> {
    if (partners.length === 0) return false;
    const list = json(partners);
    return (
      this.st(
        `SELECT 1 FROM roster_attributions WHERE member_id = ? AND (partner_id IN ${IN_LIST} OR source_partner IN ${IN_LIST}) LIMIT 1`,
      ).get(memberId, list, list) !== undefined
    );
  }

  // ---- listings -----------------------------------------------------------------------------

  async listImports(q: ImportQuery): Promise<Page<ImportRecord>> {
    const limit = pageSize(q.limit);
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.partner !== undefined) (where.push('partner_id = ?'), args.push(q.partner));
    if (q.partners !== undefined) (where.push(`partner_id IN ${IN_LIST}`), args.push(json(q.partners)));
    if (q.status !== undefined) (where.push('status = ?'), args.push(q.status));
    const after = cursorId(q.cursor);
    if (after !== undefined) (where.push('id < ?'), args.push(after));
    const rows = this.st(
      `SELECT * FROM roster_imports ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
    ).all(...args, limit + 1) as Row[];
    return toPage(rows.map((r) => importFromRow(r, dateOf)), limit, (i) => i.id);
  }

  async getImport(id: string, issueLimit: number): Promise<ImportDetail | null> {
    const row = this.st('SELECT * FROM roster_imports WHERE id = ?').get(id) as Row | undefined;
    if (!row) return null;
    const issues = (
      this.st('SELECT line, kind, reason FROM roster_import_issues WHERE import_id = ? ORDER BY line, kind, reason LIMIT ?').all(id, issueLimit) as Row[]
    ).map(issueFromRow);
    return { ...importFromRow(row, dateOf), issues };
  }

  async listDiffEvents(q: DiffEventQuery): Promise<Page<DiffEvent>> {
    const limit = pageSize(q.limit);
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.partner !== undefined) (where.push(`instr(partners, ?) > 0`), args.push(` ${q.partner} `));
    if (q.partners !== undefined) {
      if (q.partners.length === 0) return { items: [], next: null };
      where.push(`(${q.partners.map(() => 'instr(partners, ?) > 0').join(' OR ')})`);
      args.push(...q.partners.map((p) => ` ${p} `));
    }
    if (q.since !== undefined) (where.push('created_at >= ?'), args.push(q.since.getTime()));
    if (q.importId !== undefined) (where.push('import_id = ?'), args.push(q.importId));
    if (q.kind !== undefined) (where.push('kind = ?'), args.push(q.kind));
    if (q.notified !== undefined) where.push(q.notified ? 'notified = 1' : 'notified = 0');
    const after = cursorId(q.cursor);
    if (after !== undefined) (where.push('id > ?'), args.push(integerId(after)));
    const rows = this.st(
      `SELECT * FROM roster_diff_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ?`,
    ).all(...args, limit + 1) as Row[];
    return toPage(rows.map((r) => diffEventFromRow(r, dateOf)), limit, (e) => e.id);
  }

  async markDiffEventsNotified(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.st(`UPDATE roster_diff_events SET notified = 1 WHERE notified = 0 AND id IN ${IN_LIST}`).run(json(ids.map(integerId))).changes;
  }

  async importsAwaitingNotice(finishedBefore: Date, limit: number): Promise<string[]> {
    const rows = this.st(
      `SELECT i.id FROM roster_imports i
       WHERE i.status = 'applied' AND i.finished_at <= ?
         AND EXISTS (SELECT 1 FROM roster_diff_events e WHERE e.import_id = i.id AND e.notified = 0)
       ORDER BY i.finished_at, i.id LIMIT ?`,
    ).all(finishedBefore.getTime(), limit) as Row[];
    return rows.map((r) => String(r.id));
  }

  async listUnmatched(q: UnmatchedQuery): Promise<Page<UnmatchedEvent>> {
    const limit = pageSize(q.limit);
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.resolved !== undefined) where.push(q.resolved ? 'resolved_at IS NOT NULL' : 'resolved_at IS NULL');
    if (q.partners !== undefined) (where.push(`partner_id IN ${IN_LIST}`), args.push(json(q.partners)));
    const after = cursorId(q.cursor);
    if (after !== undefined) (where.push('id < ?'), args.push(integerId(after)));
    const rows = this.st(
      `SELECT * FROM roster_unmatched ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
    ).all(...args, limit + 1) as Row[];
    return toPage(rows.map((r) => unmatchedFromRow(r, dateOf)), limit, (u) => u.id);
  }

  async ping(): Promise<void> {
    this.st('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
