import pg from 'pg';
import { newId } from '../../store/ids.js';
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
import { dayBefore } from '../dates.js';
import { RosterNotFoundError } from '../errors.js';
import { migrateRosterPostgres } from '../migrate.js';
import { PartnerMutex } from '../partner-mutex.js';
import { cursorId, integerId, pageSize, toPage } from '../paging.js';
import { latestConsentsSql } from '../queries.js';
import { planChunk, planInputs, type ChunkContext, type ChunkItem, type ChunkPlan, type LoadedState, type MemberRow, type PlannedEvent } from '../plan.js';
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
import { POSTGRES_ROSTER_MIGRATIONS } from './schema.js';
import { openPool } from '../../store/open-database.js';

export interface PostgresRosterOptions {
  /** Pool size. Default 4: imports are serial per partner and lookups are single queries. */
  max?: number;
  /** Errors of idle pooled connections; without a handler they would crash the process. */
  onBackgroundError?: (err: Error) => void;
}

type Client = pg.PoolClient;
type Query = pg.Pool | Client;

// Advisory lock class for per-partner imports ("rt"); the object is hashtext(partner id).
const IMPORT_LOCK_CLASS = 0x7274;
const MAX_TX_ATTEMPTS = 5;

/** deadlock_detected, serialization_failure: the transaction rolled back and may simply rerun. */
function retryable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}

/**
 * The roster on Postgres with its own small pool. Several gateway processes may import and look up
 * at once: imports of one partner are serialized by a session advisory lock held for the whole
 * import (a crashed holder's lock goes with its connection), and every chunk is one transaction of
 * a handful of set-based statements (unnest arrays), never one round trip per row.
 */
export class PostgresRosterBackend implements RosterBackend {
  readonly kind = 'postgres' as const;
  readonly blocksEventLoop = false;
  private readonly mutex = new PartnerMutex();
  private closed = false;

  private constructor(private readonly pool: pg.Pool) {}

  static async open(connectionString: string, options: PostgresRosterOptions = {}): Promise<PostgresRosterBackend> {
    const pool = await openPool(connectionString, { max: options.max ?? 4, onBackgroundError: options.onBackgroundError }, (p) =>
      migrateRosterPostgres(p, POSTGRES_ROSTER_MIGRATIONS),
    );
    return new PostgresRosterBackend(pool);
  }

  private async tx<T>(fn: (c: Client) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const c = await this.pool.connect();
      let broken = false;
      try {
        await c.query('BEGIN');
        const out = await fn(c);
        await c.query('COMMIT');
        return out;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {
          broken = true;
        });
        if (attempt < MAX_TX_ATTEMPTS && retryable(err)) continue;
        throw err;
      } finally {
        c.release(broken);
      }
    }
  }

  // ---- imports ------------------------------------------------------------------------------

  /** In-process queue first (no second connection waits on the lock), then the cross-process advisory lock. */
  withPartnerLock<T>(partnerId: string, fn: () => Promise<T>): Promise<T> {
    return this.mutex.run(partnerId, async () => {
      const c = await this.pool.connect();
      let broken = false;
      try {
        await c.query('SELECT pg_advisory_lock($1, hashtext($2))', [IMPORT_LOCK_CLASS, partnerId]);
        try {
          return await fn();
        } finally {
          await c.query('SELECT pg_advisory_unlock($1, hashtext($2))', [IMPORT_LOCK_CLASS, partnerId]).catch(() => {
            // Dropping the connection releases the lock.
            broken = true;
          });
        }
      } finally {
        c.release(broken);
      }
    });
  }

  async startImport(input: StartImportInput): Promise<StartImportOutcome> {
    return this.tx(async (c) => {
      const now = new Date();
      const { rows } = await c.query(
        `SELECT id, status, import_date, received_at, file_kind FROM roster_imports
         WHERE partner_id = $1 AND file_name = $2 AND sha256 = $3 AND status <> 'duplicate' FOR UPDATE`,
        [input.partnerId, input.fileName, input.sha256],
      );
      const existing = rows[0] as Row | undefined;
      if (existing?.status === 'applied') {
        const id = newId();
        await c.query(
          `INSERT INTO roster_imports (id, partner_id, source_id, file_name, sha256, received_at, import_date, file_kind,
             status, duplicate_of, started_at, updated_at, finished_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'duplicate', $9, $10, $10, $10)`,
          [id, input.partnerId, input.sourceId, input.fileName, input.sha256, input.receivedAt, input.importDate, input.fileKind, existing.id, now],
        );
        return { kind: 'duplicate', importId: id, duplicateOf: String(existing.id) };
      }
      await c.query(
        `UPDATE roster_imports SET status = 'failed', error = 'abandoned: another file of this partner was imported after it',
           updated_at = $1, finished_at = $1
         WHERE partner_id = $2 AND status = 'in-progress' AND id <> $3`,
        [now, input.partnerId, existing ? existing.id : ''],
      );
      const g = await c.query('SELECT COALESCE(MAX(generation), 0) + 1 AS g FROM roster_imports WHERE partner_id = $1', [input.partnerId]);
      const generation = Number(g.rows[0].g);
      if (existing) {
        const id = String(existing.id);
        await c.query('DELETE FROM roster_import_issues WHERE import_id = $1', [id]);
        await c.query(
          `UPDATE roster_imports SET status = 'in-progress', generation = $1, source_id = COALESCE($2, source_id), error = NULL,
             rows = 0, applied = 0, error_count = 0, warning_count = 0, updated_at = $3, finished_at = NULL
           WHERE id = $4`,
          [generation, input.sourceId, now, id],
        );
        return resumedImport(existing, id, generation);
      }
      const id = newId();
      await c.query(
        `INSERT INTO roster_imports (id, partner_id, source_id, file_name, sha256, received_at, import_date, file_kind,
           generation, status, started_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'in-progress', $10, $10)`,
        [id, input.partnerId, input.sourceId, input.fileName, input.sha256, input.receivedAt, input.importDate, input.fileKind, generation, now],
      );
      return { kind: 'started', importId: id, generation, importDate: input.importDate, receivedAt: input.receivedAt, fileKind: input.fileKind, resumed: false };
    });
  }

  private async load(c: Client, partnerId: string, items: readonly ChunkItem[]): Promise<LoadedState> {
    const { memberIds, identifiers } = planInputs(items);
    const members = await c.query('SELECT * FROM roster_members WHERE member_id = ANY($1::text[])', [memberIds]);
    const attributions = await c.query(
      `SELECT id, member_id, partner_id, role, start_date, end_date FROM roster_attributions
       WHERE member_id = ANY($1::text[]) AND source_partner = $2 ORDER BY id`,
      [memberIds, partnerId],
    );
    const consents = await c.query(
      `SELECT member_id, partner_id, category, granted FROM roster_consents
       WHERE member_id = ANY($1::text[]) AND source_partner = $2 AND source = 'member-file' ORDER BY recorded_at, id`,
      [memberIds, partnerId],
    );
    return {
      members: (members.rows as Row[]).map(memberRowFromRow),
      attributions: (attributions.rows as Row[]).map(loadedAttributionFromRow),
      identifierOwners: await this.owners(c, identifiers),
      fileConsents: (consents.rows as Row[]).map(fileConsentFromRow),
    };
  }

  private async owners(q: Query, identifiers: ReadonlyArray<{ system: string; value: string }>): Promise<IdentifierOwner[]> {
    if (identifiers.length === 0) return [];
    const { rows } = await q.query(
      `SELECT i.system, i.value, i.member_id FROM unnest($1::text[], $2::text[]) AS k(system, value)
       JOIN roster_identifiers i ON i.system = k.system AND i.value = k.value`,
      [identifiers.map((i) => i.system), identifiers.map((i) => i.value)],
    );
    return (rows as Row[]).map(identifierOwnerFromRow);
  }

  async applyChunk(ctx: ChunkContext, items: readonly ChunkItem[], progress: ImportCounts, issueBudget: number): Promise<ChunkPlan> {
    return this.tx(async (c) => {
      const plan = planChunk(ctx, items, await this.load(c, ctx.partnerId, items));
      await this.write(c, ctx, plan, issueBudget);
      await c.query(
        `UPDATE roster_imports SET rows = $1, applied = $2, error_count = $3, warning_count = $4, updated_at = now() WHERE id = $5`,
        [progress.rows + plan.rows, progress.applied + plan.applied, progress.errors + plan.errors, progress.warnings + plan.warnings, ctx.importId],
      );
      return plan;
    });
  }

  private async write(c: Client, ctx: ChunkContext, plan: ChunkPlan, issueBudget: number): Promise<void> {
    const now = new Date();
    // Sorted by member id: concurrent imports of two partners lock shared members in one order.
    const byMember = <T extends { memberId: string }>(list: T[]) => [...list].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
    const columns = (list: MemberRow[]) => {
      const cols = list.map((m) => ({ id: m.memberId, status: m.status, ...memberColumns(m) }));
      return [
        cols.map((x) => x.id),
        cols.map((x) => x.status),
        cols.map((x) => x.family),
        cols.map((x) => x.given),
        cols.map((x) => x.birthDate),
        cols.map((x) => x.sex),
        cols.map((x) => x.address),
        cols.map((x) => x.phone),
        cols.map((x) => x.matchKey),
      ];
    };
    if (plan.newMembers.length) {
      // A concurrent import of another partner may have created the member since we looked: ours is the later word.
      await c.query(
        `INSERT INTO roster_members (member_id, status, family, given, birth_date, sex, address, phone, match_key, created_at, updated_at)
         SELECT u.*, $10::timestamptz, $10::timestamptz
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) AS u
         ON CONFLICT (member_id) DO UPDATE SET family = EXCLUDED.family, given = EXCLUDED.given, birth_date = EXCLUDED.birth_date,
           sex = EXCLUDED.sex, address = EXCLUDED.address, phone = EXCLUDED.phone, match_key = EXCLUDED.match_key, updated_at = EXCLUDED.updated_at`,
        [...columns(byMember(plan.newMembers)), now],
      );
    }
    if (plan.changedMembers.length) {
      await c.query(
        `UPDATE roster_members m SET family = u.family, given = u.given, birth_date = u.birth_date, sex = u.sex, address = u.address,
           phone = u.phone, match_key = u.match_key, updated_at = $10
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
           AS u(member_id, status, family, given, birth_date, sex, address, phone, match_key)
         WHERE m.member_id = u.member_id`,
        [...columns(byMember(plan.changedMembers)), now],
      );
    }
    if (plan.newIdentifiers.length) {
      const list = plan.newIdentifiers;
      await c.query(
        `INSERT INTO roster_identifiers (system, value, type, member_id)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) ON CONFLICT DO NOTHING`,
        [list.map((i) => i.system), list.map((i) => i.value), list.map((i) => i.type), list.map((i) => i.memberId)],
      );
      await c.query('INSERT INTO roster_identifier_systems (system) SELECT DISTINCT unnest($1::text[]) ON CONFLICT DO NOTHING', [
        [...new Set(list.map((i) => i.system))].sort(),
      ]);
    }
    if (plan.newAttributions.length) {
      const list = plan.newAttributions;
      await c.query(
        `INSERT INTO roster_attributions (member_id, source_partner, partner_id, role, start_date, end_date, import_id, seen_generation)
         SELECT u.member_id, $6, u.partner_id, u.role, u.start_date, u.end_date, $7, $8
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(member_id, partner_id, role, start_date, end_date)`,
        [list.map((a) => a.memberId), list.map((a) => a.partnerId), list.map((a) => a.role), list.map((a) => a.start), list.map((a) => a.end),
          ctx.partnerId, ctx.importId, ctx.generation],
      );
    }
    if (plan.changedAttributions.length) {
      const list = plan.changedAttributions;
      await c.query(
        `UPDATE roster_attributions a SET start_date = u.s, end_date = u.e, seen_generation = $4
         FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(id, s, e) WHERE a.id = u.id`,
        [list.map((a) => a.id), list.map((a) => a.start), list.map((a) => a.end), ctx.generation],
      );
    }
    if (plan.seenAttributions.length) {
      await c.query('UPDATE roster_attributions SET seen_generation = $1 WHERE id = ANY($2::bigint[])', [ctx.generation, plan.seenAttributions]);
    }
    if (plan.consents.length) {
      const list = plan.consents;
      await c.query(
        `INSERT INTO roster_consents (member_id, partner_id, category, granted, source, source_partner, import_id, actor, recorded_at)
         SELECT u.m, u.p, u.c, u.g, 'member-file', $5, $6, 'system', $7
         FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[]) AS u(m, p, c, g)`,
        [list.map((x) => x.memberId), list.map((x) => x.partnerId), list.map((x) => x.category), list.map((x) => x.granted), ctx.partnerId, ctx.importId, now],
      );
    }
    await this.insertEvents(c, ctx, plan.events, now);
    const issues = plan.issues.slice(0, Math.max(0, issueBudget));
    if (issues.length) {
      await c.query(
        `INSERT INTO roster_import_issues (import_id, line, kind, reason)
         SELECT $1, u.l, u.k, u.r FROM unnest($2::int[], $3::text[], $4::text[]) AS u(l, k, r) ON CONFLICT DO NOTHING`,
        [ctx.importId, issues.map((i) => i.line), issues.map((i) => i.kind), issues.map((i) => i.reason)],
      );
    }
    await this.recomputeStatus(c, plan.touchedMembers, ctx.importDate, now);
  }

  private async insertEvents(c: Client, ctx: ChunkContext, events: ReadonlyArray<Omit<PlannedEvent, 'kind'> & { kind: string }>, now: Date): Promise<void> {
    if (events.length === 0) return;
    await c.query(
      `INSERT INTO roster_diff_events (import_id, partner_id, member_id, kind, detail, partners, created_at)
       SELECT $1, $2, u.m, u.k, u.d, u.p, $7 FROM unnest($3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS u(m, k, d, p, n) ORDER BY u.n`,
      [ctx.importId, ctx.partnerId, events.map((e) => e.memberId), events.map((e) => e.kind), events.map((e) => JSON.stringify(e.detail)),
        events.map((e) => partnersColumn(e.partners)), now],
    );
  }

  private async recomputeStatus(c: Client, memberIds: readonly string[], importDate: string, now: Date): Promise<void> {
    if (memberIds.length === 0) return;
    await c.query(
      `UPDATE roster_members m SET status = s.status, updated_at = $3
       FROM (SELECT mm.member_id,
               CASE WHEN NOT EXISTS (SELECT 1 FROM roster_attributions a WHERE a.member_id = mm.member_id)
                      OR EXISTS (SELECT 1 FROM roster_attributions a WHERE a.member_id = mm.member_id AND (a.end_date IS NULL OR a.end_date >= $2))
                    THEN 'active' ELSE 'terminated' END AS status
             FROM roster_members mm WHERE mm.member_id = ANY($1::text[])) s
       WHERE m.member_id = s.member_id AND m.status <> s.status`,
      [[...memberIds].sort(), importDate, now],
    );
  }

  async sweepAbsent(ctx: ChunkContext, limit: number): Promise<number> {
    return this.tx(async (c) => {
      const found = await c.query(
        `SELECT member_id FROM (
           SELECT member_id FROM roster_attributions WHERE source_partner = $1 AND end_date IS NULL AND seen_generation < $2
           UNION
           SELECT member_id FROM roster_attributions WHERE source_partner = $1 AND end_date >= $3 AND seen_generation < $2) s
         LIMIT $4`,
        [ctx.partnerId, ctx.generation, ctx.importDate, limit],
      );
      const members = (found.rows as Row[]).map((r) => String(r.member_id)).sort();
      if (members.length === 0) return 0;
      const ended = await c.query(
        `UPDATE roster_attributions SET end_date = $1, seen_generation = $2
         WHERE member_id = ANY($3::text[]) AND source_partner = $4 AND seen_generation < $2 AND (end_date IS NULL OR end_date >= $5)
         RETURNING member_id, role, partner_id`,
        [dayBefore(ctx.importDate), ctx.generation, members, ctx.partnerId, ctx.importDate],
      );
      const now = new Date();
      await this.insertEvents(
        c,
        ctx,
        absenceEvents(ended.rows as Array<{ member_id: unknown; role: unknown; partner_id: unknown }>, ctx.partnerId).map((e) => ({ ...e, kind: 'terminated' })),
        now,
      );
      await this.recomputeStatus(c, members, ctx.importDate, now);
      await c.query('UPDATE roster_imports SET updated_at = $1 WHERE id = $2', [now, ctx.importId]);
      return members.length;
    });
  }

  async finishImport(importId: string, status: 'applied' | 'failed', counts: ImportCounts, error: string | null): Promise<ImportCounts> {
    return this.tx(async (c) => {
      const { rows } = await c.query('SELECT kind, COUNT(*)::int AS n FROM roster_diff_events WHERE import_id = $1 GROUP BY kind', [importId]);
      const final = countsWithEvents(counts, rows as Row[]);
      await c.query(
        `UPDATE roster_imports SET status = $1, rows = $2, applied = $3, error_count = $4, warning_count = $5, added = $6, changed = $7,
           terminated = $8, error = $9, updated_at = now(), finished_at = now()
         WHERE id = $10`,
        [status, final.rows, final.applied, final.errors, final.warnings, final.added, final.changed, final.terminated, error, importId],
      );
      return final;
    });
  }

  // ---- unmatched ----------------------------------------------------------------------------

  async recordUnmatched(event: UnmatchedInput, matchKey: string | null): Promise<void> {
    const identifiers = matchableIdentifiers(event);
    await this.tx(async (c) => {
      const { rows } = await c.query(
        `INSERT INTO roster_unmatched (message_id, partner_id, received_at, recorded_at, identifiers, match_key)
         VALUES ($1, $2, $3, now(), $4, $5) ON CONFLICT (message_id) DO NOTHING RETURNING id`,
        [event.messageId, event.partnerId ?? null, event.receivedAt, JSON.stringify(identifiers), matchKey],
      );
      if (rows.length === 0 || identifiers.length === 0) return;
      await c.query(
        `INSERT INTO roster_unmatched_identifiers (unmatched_id, system, value)
         SELECT $1, u.s, u.v FROM unnest($2::text[], $3::text[]) AS u(s, v) ON CONFLICT DO NOTHING`,
        [rows[0].id, identifiers.map((i) => i.system), identifiers.map((i) => i.value)],
      );
    });
  }

  async unmatchedCandidates(afterId: string | null, limit: number, byDemographics: boolean): Promise<UnmatchedCandidate[]> {
    const { rows } = await this.pool.query(
      `SELECT u.id, u.message_id, u.identifiers, u.match_key FROM roster_unmatched u
       WHERE u.resolved_at IS NULL AND u.id > $1
         AND (EXISTS (SELECT 1 FROM roster_unmatched_identifiers ui
                      JOIN roster_identifiers i ON i.system = ui.system AND i.value = ui.value
                      WHERE ui.unmatched_id = u.id)
              OR ($2 AND u.match_key IS NOT NULL AND EXISTS (SELECT 1 FROM roster_members m WHERE m.match_key = u.match_key)))
       ORDER BY u.id LIMIT $3`,
      [afterId === null ? 0 : integerId(afterId), byDemographics, limit],
    );
    return (rows as Row[]).map(unmatchedCandidateFromRow);
  }

  async resolveUnmatched(resolved: ReadonlyArray<{ id: string; memberId: string }>, at: Date): Promise<void> {
    if (resolved.length === 0) return;
    await this.pool.query(
      `UPDATE roster_unmatched x SET resolved_at = $3, member_id = u.m
       FROM unnest($1::bigint[], $2::text[]) AS u(id, m) WHERE x.id = u.id AND x.resolved_at IS NULL`,
      [resolved.map((r) => integerId(r.id)), resolved.map((r) => r.memberId), at],
    );
  }

  async unroutedResolved(resolvedBefore: Date, afterId: string | null, limit: number): Promise<ResolvedUnmatched[]> {
    const { rows } = await this.pool.query(
      `SELECT id, message_id, member_id FROM roster_unmatched
       WHERE resolved_at IS NOT NULL AND routed_at IS NULL AND id > $1 AND resolved_at <= $2
       ORDER BY id LIMIT $3`,
      [afterId === null ? 0 : integerId(afterId), resolvedBefore, limit],
    );
    return (rows as Row[]).map(resolvedUnmatchedFromRow);
  }

  async markUnmatchedRouted(ids: readonly string[], at: Date): Promise<number> {
    if (ids.length === 0) return 0;
    const { rowCount } = await this.pool.query(
      'UPDATE roster_unmatched SET routed_at = $2 WHERE resolved_at IS NOT NULL AND routed_at IS NULL AND id = ANY($1::bigint[])',
      [ids.map(integerId), at],
    );
    return rowCount ?? 0;
  }

  // ---- members ------------------------------------------------------------------------------

  async getMember(memberId: string, today: string): Promise<Member | null> {
    const m = await this.pool.query('SELECT * FROM roster_members WHERE member_id = $1', [memberId]);
    if (m.rows.length === 0) return null;
    const [identifiers, attributions, consents] = await Promise.all([
      this.pool.query('SELECT system, value, type FROM roster_identifiers WHERE member_id = $1 ORDER BY system, value', [memberId]),
      this.pool.query(
        `SELECT * FROM roster_attributions WHERE member_id = $1 AND (end_date IS NULL OR (end_date >= $2 AND end_date >= start_date))
         ORDER BY role, start_date, id`,
        [memberId, today],
      ),
      this.pool.query(latestConsentsSql('$1'), [memberId]),
    ]);
    return memberFrom(
      memberRowFromRow(m.rows[0] as Row),
      (identifiers.rows as Row[]).map(identifierFromRow),
      (attributions.rows as Row[]).map(attributionFromRow),
      (consents.rows as Row[]).map((r) => consentFromRow(r, dateOf)),
    );
  }

  async findMemberIds(identifier: { system?: string; value: string }): Promise<string[]> {
    const { rows } =
      identifier.system === undefined
        ? await this.pool.query(
            `SELECT DISTINCT i.member_id FROM roster_identifier_systems s
             JOIN roster_identifiers i ON i.system = s.system AND i.value = $1 ORDER BY i.member_id`,
            [identifier.value],
          )
        : await this.pool.query('SELECT member_id FROM roster_identifiers WHERE system = $1 AND value = $2', [identifier.system, identifier.value]);
    return (rows as Row[]).map((r) => String(r.member_id));
  }

  identifierOwners(identifiers: readonly MemberIdentifier[]): Promise<IdentifierOwner[]> {
    return this.owners(this.pool, identifiers);
  }

  async memberIdsByMatchKey(key: string): Promise<string[]> {
    const { rows } = await this.pool.query('SELECT member_id FROM roster_members WHERE match_key = $1 ORDER BY member_id LIMIT 2', [key]);
    return (rows as Row[]).map((r) => String(r.member_id));
  }

  async attributionHistory(memberId: string): Promise<Attribution[]> {
    const { rows } = await this.pool.query('SELECT * FROM roster_attributions WHERE member_id = $1 ORDER BY start_date, id', [memberId]);
    return (rows as Row[]).map(attributionFromRow);
  }

  async attributedOn(memberId: string, date: string, role: 'aco' | 'cp'): Promise<string[]> {
    const { rows } = await this.pool.query(
      `SELECT DISTINCT partner_id FROM roster_attributions
       WHERE member_id = $1 AND role = $2 AND start_date <= $3 AND (end_date IS NULL OR end_date >= $3) ORDER BY partner_id`,
      [memberId, role, date],
    );
    return (rows as Row[]).map((r) => String(r.partner_id));
  }

  async membersOf(partnerId: string, date: string, role: 'aco' | 'cp'): Promise<string[]> {
    const { rows } = await this.pool.query(
      `SELECT DISTINCT member_id FROM roster_attributions
       WHERE partner_id = $1 AND role = $2 AND start_date <= $3 AND (end_date IS NULL OR end_date >= $3) ORDER BY member_id`,
      [partnerId, role, date],
    );
    return (rows as Row[]).map((r) => String(r.member_id));
  }

  async latestConsent(memberId: string, partnerId: string, category: ConsentCategory): Promise<ConsentRecord | null> {
    const { rows } = await this.pool.query(
      `SELECT * FROM roster_consents WHERE member_id = $1 AND partner_id = $2 AND category = $3 ORDER BY recorded_at DESC, id DESC LIMIT 1`,
      [memberId, partnerId, category],
    );
    return rows.length ? consentFromRow(rows[0] as Row, dateOf) : null;
  }

  async recordConsent(memberId: string, input: ConsentInput): Promise<ConsentRecord> {
    const recordedAt = input.recordedAt ?? new Date();
    const { rowCount } = await this.pool.query(
      `INSERT INTO roster_consents (member_id, partner_id, category, granted, source, actor, recorded_at)
       SELECT member_id, $2, $3, $4, $5, $6, $7 FROM roster_members WHERE member_id = $1`,
      [memberId, input.partnerId, input.category, input.granted, input.source, input.actor ?? null, recordedAt],
    );
    if (rowCount === 0) throw new RosterNotFoundError('member not found');
    return { partnerId: input.partnerId, category: input.category, granted: input.granted, source: input.source, recordedAt };
  }

  async memberConcerns(memberId: string, partners: readonly string[]): Promise<boolean> {
    if (partners.length === 0) return false;
    const { rows } = await this.pool.query(
      `SELECT 1 FROM roster_attributions WHERE member_id = $1 AND (partner_id = ANY($2::text[]) OR source_partner = ANY($2::text[])) LIMIT 1`,
      [memberId, partners],
    );
    return rows.length > 0;
  }

  // ---- listings -----------------------------------------------------------------------------

  async listImports(q: ImportQuery): Promise<Page<ImportRecord>> {
    const limit = pageSize(q.limit);
    const where: string[] = [];
    const args: unknown[] = [];
    const arg = (v: unknown) => (args.push(v), `$${args.length}`);
    if (q.partner !== undefined) where.push(`partner_id = ${arg(q.partner)}`);
    if (q.partners !== undefined) where.push(`partner_id = ANY(${arg(q.partners)}::text[])`);
    if (q.status !== undefined) where.push(`status = ${arg(q.status)}`);
    const after = cursorId(q.cursor);
    if (after !== undefined) where.push(`id < ${arg(after)}`);
    const { rows } = await this.pool.query(
      `SELECT * FROM roster_imports ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${arg(limit + 1)}`,
      args,
    );
    return toPage((rows as Row[]).map((r) => importFromRow(r, dateOf)), limit, (i) => i.id);
  }

  async getImport(id: string, issueLimit: number): Promise<ImportDetail | null> {
    const { rows } = await this.pool.query('SELECT * FROM roster_imports WHERE id = $1', [id]);
    if (rows.length === 0) return null;
    const issues = await this.pool.query(
      'SELECT line, kind, reason FROM roster_import_issues WHERE import_id = $1 ORDER BY line, kind, reason LIMIT $2',
      [id, issueLimit],
    );
    return { ...importFromRow(rows[0] as Row, dateOf), issues: (issues.rows as Row[]).map(issueFromRow) };
  }

  async listDiffEvents(q: DiffEventQuery): Promise<Page<DiffEvent>> {
    const limit = pageSize(q.limit);
    const where: string[] = [];
    const args: unknown[] = [];
    const arg = (v: unknown) => (args.push(v), `$${args.length}`);
    if (q.partner !== undefined) where.push(`strpos(partners, ${arg(` ${q.partner} `)}) > 0`);
    if (q.partners !== undefined) {
      if (q.partners.length === 0) return { items: [], next: null };
      where.push(`(${q.partners.map((p) => `strpos(partners, ${arg(` ${p} `)}) > 0`).join(' OR ')})`);
    }
    if (q.since !== undefined) where.push(`created_at >= ${arg(q.since)}`);
    if (q.importId !== undefined) where.push(`import_id = ${arg(q.importId)}`);
    if (q.kind !== undefined) where.push(`kind = ${arg(q.kind)}`);
    if (q.notified !== undefined) where.push(q.notified ? 'notified' : 'NOT notified');
    const after = cursorId(q.cursor);
    if (after !== undefined) where.push(`id > ${arg(integerId(after))}`);
    const { rows } = await this.pool.query(
      `SELECT * FROM roster_diff_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ${arg(limit + 1)}`,
      args,
    );
    return toPage((rows as Row[]).map((r) => diffEventFromRow(r, dateOf)), limit, (e) => e.id);
  }

  async markDiffEventsNotified(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const { rowCount } = await this.pool.query('UPDATE roster_diff_events SET notified = true WHERE NOT notified AND id = ANY($1::bigint[])', [
      ids.map(integerId),
    ]);
    return rowCount ?? 0;
  }

  async importsAwaitingNotice(finishedBefore: Date, limit: number): Promise<string[]> {
    const { rows } = await this.pool.query(
      `SELECT i.id FROM roster_imports i
       WHERE i.status = 'applied' AND i.finished_at <= $1
         AND EXISTS (SELECT 1 FROM roster_diff_events e WHERE e.import_id = i.id AND NOT e.notified)
       ORDER BY i.finished_at, i.id LIMIT $2`,
      [finishedBefore, limit],
    );
    return (rows as Row[]).map((r) => String(r.id));
  }

  async listUnmatched(q: UnmatchedQuery): Promise<Page<UnmatchedEvent>> {
    const limit = pageSize(q.limit);
    const where: string[] = [];
    const args: unknown[] = [];
    const arg = (v: unknown) => (args.push(v), `$${args.length}`);
    if (q.resolved !== undefined) where.push(q.resolved ? 'resolved_at IS NOT NULL' : 'resolved_at IS NULL');
    if (q.partners !== undefined) where.push(`partner_id = ANY(${arg(q.partners)}::text[])`);
    const after = cursorId(q.cursor);
    if (after !== undefined) where.push(`id < ${arg(integerId(after))}`);
    const { rows } = await this.pool.query(
      `SELECT * FROM roster_unmatched ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${arg(limit + 1)}`,
      args,
    );
    return toPage((rows as Row[]).map((r) => unmatchedFromRow(r, dateOf)), limit, (u) => u.id);
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
