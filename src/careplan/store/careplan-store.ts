import type { CarePlan, Provenance } from 'fhir/r4.js';
import { parseStoreUrl } from '../../store/open-store.js';
import { StoreInputError } from '../../store/errors.js';
import { POSTGRES_CAREPLAN_MIGRATIONS, SQLITE_CAREPLAN_MIGRATIONS } from './migrations.js';
import { ms } from '../../store/rows.js';
import { openPostgresDb } from '../../store/sql/postgres-db.js';
import { all, run, Where, type Row, type SqlDb } from '../../store/sql/sql-db.js';
import { openSqliteDb } from '../../store/sql/sqlite-db.js';
import { migrateCarePlanPostgres, migrateCarePlanSqlite } from './migrate.js';
import {
  CAREPLAN_KINDS,
  SIGNOFF_STATES,
  type CarePlanQuery,
  type CarePlanRecord,
  type CarePlanStore,
  type CarePlanWrite,
  type FileRecord,
  type FollowUpRecord,
  type OpenQuery,
  type Page,
  type SaveExtras,
  type SignoffRecord,
} from './types.js';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

const date = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(Number(v)));

function toRecord(r: Row): CarePlanRecord {
  return {
    id: r.id as string,
    kind: r.kind as CarePlanRecord['kind'],
    memberId: (r.member_id as string | null) ?? null,
    cpPartner: r.cp_partner as string,
    acoPartner: (r.aco_partner as string | null) ?? null,
    pcpPartner: (r.pcp_partner as string | null) ?? null,
    encounterRef: (r.encounter_ref as string | null) ?? null,
    status: r.status as CarePlan['status'],
    signoff: (r.signoff as CarePlanRecord['signoff']) ?? null,
    dueAt: date(r.due_at),
    createdAt: date(r.created_at)!,
    completedAt: date(r.completed_at),
    updatedAt: date(r.updated_at)!,
    version: Number(r.version),
    lastMessageId: (r.last_message_id as string | null) ?? null,
    contentHash: r.content_hash as string,
    resource: JSON.parse(r.resource as string) as CarePlan,
  };
}

function limitOf(limit: number | undefined): number {
  const n = limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) throw new StoreInputError(`limit must be an integer 1..${MAX_LIMIT}`);
  return n;
}

// Cursors are opaque to callers but simple inside: "seq" for creation order, "dueMs:seq" for due order.
function seqCursor(cursor: string | null | undefined): number | undefined {
  if (cursor === undefined || cursor === null || cursor === '') return undefined;
  if (!/^\d{1,15}$/.test(cursor)) throw new StoreInputError('invalid cursor');
  return Number(cursor);
}

function dueCursor(cursor: string | null | undefined): [number, number] | undefined {
  if (cursor === undefined || cursor === null || cursor === '') return undefined;
  const m = /^(-?\d{1,15}):(\d{1,15})$/.exec(cursor);
  if (!m) throw new StoreInputError('invalid cursor');
  return [Number(m[1]), Number(m[2])];
}

function checkWrite(w: CarePlanWrite): void {
  if (!CAREPLAN_KINDS.includes(w.kind)) throw new StoreInputError(`kind must be ${CAREPLAN_KINDS.join(' | ')}`);
  if (w.signoff !== null && !SIGNOFF_STATES.includes(w.signoff)) throw new StoreInputError(`signoff must be ${SIGNOFF_STATES.join(' | ')}`);
  if (!w.id || w.resource.id !== w.id) throw new StoreInputError('the resource id must equal the record id');
}

/** Which side of the plan `partner` is on, as SQL (any when no role is given), with its parameters. */
function partnerClause(role: 'cp' | 'aco' | undefined, partner: string): [string, unknown[]] {
  if (role === 'cp') return ['cp_partner = ?', [partner]];
  // The signing side: the ACO, or the PCP's organization.
  if (role === 'aco') return ['(aco_partner = ? OR pcp_partner = ?)', [partner, partner]];
  return ['(cp_partner = ? OR aco_partner = ? OR pcp_partner = ?)', [partner, partner, partner]];
}

const INSERT_PLAN = `INSERT INTO careplans (kind, member_id, cp_partner, aco_partner, pcp_partner, encounter_ref, status, signoff,
    due_at, created_at, completed_at, updated_at, version, last_message_id, content_hash, resource, id)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`;
const UPDATE_PLAN = `UPDATE careplans SET kind = ?, member_id = ?, cp_partner = ?, aco_partner = ?, pcp_partner = ?, encounter_ref = ?,
    status = ?, signoff = ?, due_at = ?, created_at = ?, completed_at = ?, updated_at = ?, version = ?, last_message_id = ?,
    content_hash = ?, resource = ?
  WHERE id = ? AND version = ?`;
const INSERT_SIGNOFF = `INSERT INTO careplan_signoffs (id, careplan_id, plan_version, decision, method, decided_at, recorded_at, provenance)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`;
const INSERT_FOLLOWUP = `INSERT INTO careplan_followups (careplan_id, completed_at, recorded_at, recorded_by) VALUES (?, ?, ?, ?)
  ON CONFLICT (careplan_id) DO NOTHING`;

/** Thrown inside a save's transaction to roll it back: the expected version was not current. */
class StaleVersion extends Error {}

class SqlCarePlanStore implements CarePlanStore {
  constructor(private readonly db: SqlDb) {}

  get kind() {
    return this.db.dialect.kind;
  }

  async get(id: string): Promise<CarePlanRecord | null> {
    const [row] = await this.db.query('SELECT * FROM careplans WHERE id = ?', [id]);
    return row ? toRecord(row) : null;
  }

  async save(write: CarePlanWrite, expectedVersion: number, extras: SaveExtras = {}): Promise<CarePlanRecord | null> {
    checkWrite(write);
    const version = expectedVersion + 1;
    const values = [
      write.kind,
      write.memberId,
      write.cpPartner,
      write.acoPartner,
      write.pcpPartner ?? null,
      write.encounterRef,
      write.status,
      write.signoff,
      ms(write.dueAt),
      ms(write.createdAt),
      ms(write.completedAt),
      Date.now(),
      version,
      write.lastMessageId,
      write.contentHash,
      JSON.stringify(write.resource),
    ];
    const saved = expectedVersion === 0 ? INSERT_PLAN : UPDATE_PLAN;
    const savedParams = expectedVersion === 0 ? [...values, write.id] : [...values, write.id, expectedVersion];
    const s = extras.signoff;
    const f = extras.followUp;
    try {
      return await this.db.write(function* () {
        // No row changed: another writer saved this plan first (or created it); roll back.
        if ((yield* run(saved, savedParams)) === 0) throw new StaleVersion();
        if (s) {
          const provenance = JSON.stringify(s.provenance);
          yield* run(INSERT_SIGNOFF, [
            s.id,
            s.carePlanId,
            s.planVersion,
            s.decision,
            s.method,
            ms(s.decidedAt),
            ms(s.recordedAt),
            provenance,
          ]);
        }
        if (f) yield* run(INSERT_FOLLOWUP, [f.carePlanId, ms(f.completedAt), ms(f.recordedAt), f.recordedBy]);
        const [row] = yield* all('SELECT * FROM careplans WHERE id = ?', [write.id]);
        return row ? toRecord(row) : null;
      });
    } catch (err) {
      if (err instanceof StaleVersion) return null;
      throw err;
    }
  }

  async setLastMessage(id: string, messageId: string): Promise<void> {
    await this.db.exec('UPDATE careplans SET last_message_id = ? WHERE id = ?', [messageId, id]);
  }

  async list(q: CarePlanQuery): Promise<Page<CarePlanRecord>> {
    const limit = limitOf(q.limit);
    const where = new Where();
    if (q.partner !== undefined) {
      const [clause, values] = partnerClause(q.role, q.partner);
      where.add(clause, ...values);
    }
    if (q.partners !== undefined) {
      if (q.partners.length === 0) return { items: [], next: null };
      const marks = q.partners.map(() => '?').join(', ');
      where.add(
        `(cp_partner IN (${marks}) OR aco_partner IN (${marks}) OR pcp_partner IN (${marks}))`,
        ...q.partners,
        ...q.partners,
        ...q.partners,
      );
    }
    if (q.kind !== undefined) where.add('kind = ?', q.kind);
    if (q.signoff !== undefined) where.add('signoff = ?', q.signoff);
    if (q.status !== undefined) where.add('status = ?', q.status);
    if (q.memberId !== undefined) where.add('member_id = ?', q.memberId);
    const after = seqCursor(q.cursor);
    if (after !== undefined) where.add('seq > ?', after);
    const rows = await this.db.query(`SELECT * FROM careplans${where.sql()} ORDER BY seq LIMIT ?`, [...where.params, limit + 1]);
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    return { items: page.map(toRecord), next: more ? String(page[page.length - 1]!.seq) : null };
  }

  async listOpen(q: OpenQuery): Promise<Page<CarePlanRecord>> {
    const limit = limitOf(q.limit);
    const [clause, values] = partnerClause(q.role, q.partner);
    const where = new Where()
      .add('completed_at IS NULL')
      .add('due_at IS NOT NULL')
      .add(clause, ...values);
    if (q.kind !== undefined) where.add('kind = ?', q.kind);
    if (q.dueBefore !== undefined) where.add('due_at < ?', q.dueBefore.getTime());
    const after = dueCursor(q.cursor);
    if (after) where.add('(due_at > ? OR (due_at = ? AND seq > ?))', after[0], after[0], after[1]);
    const rows = await this.db.query(`SELECT * FROM careplans${where.sql()} ORDER BY due_at, seq LIMIT ?`, [...where.params, limit + 1]);
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { items: page.map(toRecord), next: more && last ? `${Number(last.due_at)}:${Number(last.seq)}` : null };
  }

  async listSignoffs(carePlanId: string): Promise<SignoffRecord[]> {
    const rows = await this.db.query('SELECT * FROM careplan_signoffs WHERE careplan_id = ? ORDER BY recorded_at, id', [carePlanId]);
    return rows.map((r) => ({
      id: r.id as string,
      carePlanId: r.careplan_id as string,
      planVersion: Number(r.plan_version),
      decision: r.decision as SignoffRecord['decision'],
      method: r.method as SignoffRecord['method'],
      decidedAt: date(r.decided_at)!,
      recordedAt: date(r.recorded_at)!,
      provenance: JSON.parse(r.provenance as string) as Provenance,
    }));
  }

  async getFollowUp(carePlanId: string): Promise<FollowUpRecord | null> {
    const [r] = await this.db.query('SELECT * FROM careplan_followups WHERE careplan_id = ?', [carePlanId]);
    if (!r) return null;
    return { carePlanId, completedAt: date(r.completed_at)!, recordedAt: date(r.recorded_at)!, recordedBy: r.recorded_by as string };
  }

  async getFile(partnerId: string, fileName: string, sha256: string): Promise<FileRecord | null> {
    const [r] = await this.db.query('SELECT * FROM careplan_files WHERE partner_id = ? AND file_name = ? AND sha256 = ?', [
      partnerId,
      fileName,
      sha256,
    ]);
    if (!r) return null;
    return {
      partnerId,
      fileName,
      sha256,
      kind: r.kind as FileRecord['kind'],
      rows: Number(r.rows),
      applied: Number(r.applied),
      errors: Number(r.errors),
      recordedAt: date(r.recorded_at)!,
    };
  }

  async recordFile(f: FileRecord): Promise<boolean> {
    const changed = await this.db.exec(
      `INSERT INTO careplan_files (partner_id, file_name, sha256, kind, rows, applied, errors, recorded_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (partner_id, file_name, sha256) DO NOTHING`,
      [f.partnerId, f.fileName, f.sha256, f.kind, f.rows, f.applied, f.errors, f.recordedAt.getTime()],
    );
    return changed > 0;
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1 AS ok');
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

export interface OpenCarePlanStoreOptions {
  /** Postgres pool size (default 4: care-plan traffic is light). */
  postgresPoolSize?: number;
}

/**
 * Opens the care-plan tables where the message store lives (`store.url`): a second connection on
 * the SQLite file, or a small pool of its own on the Postgres database. Migrates before returning.
 */
export async function openCarePlanStore(url: string, options: OpenCarePlanStoreOptions = {}): Promise<CarePlanStore> {
  const location = parseStoreUrl(url);
  const db =
    location.kind === 'sqlite'
      ? openSqliteDb(location.filename, {}, (handle) => migrateCarePlanSqlite(handle, SQLITE_CAREPLAN_MIGRATIONS))
      : await openPostgresDb(location.connectionString, { max: options.postgresPoolSize ?? 4 }, (pool) =>
          migrateCarePlanPostgres(pool, POSTGRES_CAREPLAN_MIGRATIONS),
        );
  return new SqlCarePlanStore(db);
}
