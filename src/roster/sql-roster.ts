import { cursorId, keysetPage, pageSize } from '../store/paging.js';
import type { Dialect } from '../store/sql/dialect.js';
import { Where, all, get, insertRows, run, updateRows, type SqlDb, type Tx } from '../store/sql/sql-db.js';
import type { RosterBackend, StartImportInput, StartImportOutcome, UnmatchedCandidate } from './backend.js';
import { countsWithEvents, identifierOwnerFromRow, matchableIdentifiers, unmatchedCandidateFromRow } from './backend-shared.js';
import { RosterNotFoundError } from './errors.js';
import { PartnerMutex } from './partner-mutex.js';
import { RosterImportTx } from './sql-roster-import.js';
import { integerId } from './paging.js';
import { type ChunkContext, type ChunkItem, type ChunkPlan } from './plan.js';
import { latestConsentsSql } from './queries.js';
import {
  attributionFromRow,
  consentFromRow,
  dateOf,
  diffEventFromRow,
  identifierFromRow,
  importFromRow,
  issueFromRow,
  memberFrom,
  memberRowFromRow,
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
  private readonly imports: RosterImportTx;

  constructor(private readonly db: SqlDb) {
    this.d = db.dialect;
    this.imports = new RosterImportTx(db.dialect);
    this.kind = db.dialect.kind;
    this.blocksEventLoop = db.blocksEventLoop;
  }

  // ---- imports ------------------------------------------------------------------------------

  /** In-process queue first (no second connection waits on the lock), then the cross-process lock. */
  withPartnerLock<T>(partnerId: string, fn: () => Promise<T>): Promise<T> {
    return this.mutex.run(partnerId, () => this.db.withSessionLock(IMPORT_LOCK_CLASS, partnerId, fn));
  }

  startImport(input: StartImportInput): Promise<StartImportOutcome> {
    return this.db.write(() => this.imports.start(input));
  }

  applyChunk(ctx: ChunkContext, items: readonly ChunkItem[], progress: ImportCounts, issueBudget: number): Promise<ChunkPlan> {
    return this.db.write(() => this.imports.applyChunk(ctx, items, progress, issueBudget));
  }

  sweepAbsent(ctx: ChunkContext, limit: number): Promise<number> {
    return this.db.write(() => this.imports.sweepAbsent(ctx, limit));
  }

  finishImport(importId: string, status: 'applied' | 'failed', counts: ImportCounts, error: string | null): Promise<ImportCounts> {
    return this.db.write(function* (): Tx<ImportCounts> {
      const final = countsWithEvents(
        counts,
        yield* all('SELECT kind, COUNT(*) AS n FROM roster_diff_events WHERE import_id = ? GROUP BY kind', [importId]),
      );
      const now = Date.now();
      yield* run(
        `UPDATE roster_imports SET status = ?, rows = ?, applied = ?, error_count = ?, warning_count = ?, added = ?, changed = ?,
           terminated = ?, error = ?, updated_at = ?, finished_at = ?
         WHERE id = ?`,
        [
          status,
          final.rows,
          final.applied,
          final.errors,
          final.warnings,
          final.added,
          final.changed,
          final.terminated,
          error,
          now,
          now,
          importId,
        ],
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
      updateRows(
        'UPDATE roster_unmatched SET resolved_at = v.at, member_id = v.m',
        'id = v.id AND resolved_at IS NULL',
        { id: 'bigint', m: 'text', at: 'bigint' },
        rows,
      ),
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
      const identifiers = yield* all('SELECT system, value, type FROM roster_identifiers WHERE member_id = ? ORDER BY system, value', [
        memberId,
      ]);
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
        : await this.db.query('SELECT member_id FROM roster_identifiers WHERE system = ? AND value = ?', [
            identifier.system,
            identifier.value,
          ]);
    return rows.map((r) => String(r.member_id));
  }

  async identifierOwners(identifiers: readonly MemberIdentifier[]): Promise<IdentifierOwner[]> {
    if (identifiers.length === 0) return [];
    return (await this.db.query(...this.imports.ownersQuery(identifiers))).map(identifierOwnerFromRow);
  }

  async memberIdsByMatchKey(key: string): Promise<string[]> {
    return (await this.db.query('SELECT member_id FROM roster_members WHERE match_key = ? ORDER BY member_id LIMIT 2', [key])).map((r) =>
      String(r.member_id),
    );
  }

  async attributionHistory(memberId: string): Promise<Attribution[]> {
    return (await this.db.query('SELECT * FROM roster_attributions WHERE member_id = ? ORDER BY start_date, id', [memberId])).map(
      attributionFromRow,
    );
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
    return keysetPage(
      rows,
      limit,
      (r) => importFromRow(r, dateOf),
      (i) => [i.id],
    );
  }

  getImport(id: string, issueLimit: number): Promise<ImportDetail | null> {
    return this.db.read(function* (): Tx<ImportDetail | null> {
      const row = yield* get('SELECT * FROM roster_imports WHERE id = ?', [id]);
      if (!row) return null;
      const issues = yield* all(
        'SELECT line, kind, reason FROM roster_import_issues WHERE import_id = ? ORDER BY line, kind, reason LIMIT ?',
        [id, issueLimit],
      );
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
    return keysetPage(
      rows,
      limit,
      (r) => diffEventFromRow(r, dateOf),
      (e) => [e.id],
    );
  }

  async markDiffEventsNotified(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const d = this.d;
    return this.db.exec(`UPDATE roster_diff_events SET notified = ${d.TRUE} WHERE notified = ${d.FALSE} AND ${d.inList('id', 'bigint')}`, [
      ids.map(integerId),
    ]);
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
    return keysetPage(
      rows,
      limit,
      (r) => unmatchedFromRow(r, dateOf),
      (u) => [u.id],
    );
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1 AS x');
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
