import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { MemberItem } from '../../adapters/member-common/types.js';
import type { RosterBackend } from './backend.js';
import { ChunkSizer } from './chunk-sizer.js';
import { dateInZone, isCalendarDate } from './dates.js';
import { RosterInputError } from './errors.js';
import { normalizeRecord } from './normalize.js';
import type { ChunkContext, ChunkItem, ChunkPlan } from './plan.js';
import type { ImportCounts, ImportRequest, ImportResult, ResolvedUnmatched } from './store-types.js';

export interface ImporterSettings {
  timeZone: string;
  /** Rows per chunk (one transaction) at most. */
  chunkSize: number;
  /** Where a chunk blocks the event loop (SQLite): about how long one may take (ChunkSizer). */
  chunkTargetMs: number;
  maxStoredIssues: number;
  /** Absence sweep batch (members per transaction). */
  sweepSize: number;
}

const zero = (): ImportCounts => ({ rows: 0, applied: 0, errors: 0, warnings: 0, added: 0, changed: 0, terminated: 0 });

/** Marks an error thrown by the roster's database rather than by the file being read. */
class StoreFailure extends Error {
  constructor(readonly original: unknown) {
    super('store failure');
  }
}

/** Text for a file-level failure: an adapter's MemberFileError is written to be shown (no values); anything else is named only. */
function failureText(err: unknown): string {
  const e = err as { name?: unknown; message?: unknown } | null;
  const name = typeof e?.name === 'string' ? e.name : 'Error';
  if (name === 'MemberFileError' && typeof e?.message === 'string') return e.message.slice(0, 500);
  return `the file could not be read (${name})`;
}

function toChunkItem(item: MemberItem, selfRole: { role: 'aco' | 'cp'; partnerId: string } | undefined): ChunkItem {
  if (item.kind === 'warning') return { kind: 'warning', line: item.warning.line, reason: item.warning.reason };
  if (item.kind === 'error')
    return { kind: 'error', line: item.error.line, reason: item.error.reason, memberId: item.error.memberId?.trim() || undefined };
  const normalized = normalizeRecord(item.record, selfRole);
  if (normalized.ok) return { kind: 'record', record: normalized.record };
  return { kind: 'error', line: item.record.line, reason: normalized.reason, memberId: item.record.memberId?.trim() || undefined };
}

function checkRequest(req: ImportRequest): void {
  if (!req.partnerId?.trim()) throw new RosterInputError('partnerId is required');
  if (!req.fileName?.trim()) throw new RosterInputError('fileName is required');
  if (!/^[0-9a-f]{64}$/i.test(req.sha256 ?? '')) throw new RosterInputError('sha256 must be 64 hex digits');
  if (req.importDate !== undefined && !isCalendarDate(req.importDate)) throw new RosterInputError('importDate must be YYYY-MM-DD');
  if (req.fileKind !== undefined && req.fileKind !== 'full' && req.fileKind !== 'changes')
    throw new RosterInputError('fileKind must be full or changes');
}

/**
 * Streams a member file into the roster:
 * - the same file (partner + name + sha256) applied before → a `duplicate` import, nothing applied;
 *   the same file left unfinished by a crash or a failure → redone under the same import id
 *   (every write is an idempotent upsert against the state, so a re-run converges);
 * - items are applied in chunks (`chunkSize` rows, one transaction each), each diffed against the
 *   database, never against an in-memory copy of the roster or the file;
 * - bad rows are recorded with their line number while good rows apply;
 * - a full file then ends, in SQL and in batches, the attributions this partner's earlier files
 *   stated for members this file no longer lists (end = the day before the import date);
 * - unmatched ADT events are re-resolved against the new roster and returned for routing.
 * Errors reading the file end the import as `failed` (what was applied stays; a re-drop of the
 * same file resumes it). Database errors are thrown after an attempt to record the failure.
 */
export async function runImport(
  backend: RosterBackend,
  req: ImportRequest,
  settings: ImporterSettings,
  reResolve: () => Promise<ResolvedUnmatched[]>,
): Promise<ImportResult> {
  checkRequest(req);
  const partnerId = req.partnerId.trim();
  const receivedAt = req.receivedAt ?? new Date();
  const selfRole = req.selfRole ? { role: req.selfRole, partnerId } : undefined;

  return backend.withPartnerLock(partnerId, async () => {
    const started = await backend.startImport({
      partnerId,
      sourceId: req.sourceId ?? null,
      fileName: req.fileName,
      sha256: req.sha256.toLowerCase(),
      receivedAt,
      importDate: req.importDate ?? dateInZone(receivedAt, settings.timeZone),
      fileKind: req.fileKind ?? 'full',
    });
    if (started.kind === 'duplicate') {
      // Let a generator-backed reader close its file without being read.
      await req.items[Symbol.asyncIterator]().return?.();
      return {
        importId: started.importId,
        status: 'duplicate',
        duplicateOf: started.duplicateOf,
        resumed: false,
        ...zero(),
        absenceSkipped: false,
        resolvedUnmatched: [],
      };
    }

    const ctx: ChunkContext = { importId: started.importId, generation: started.generation, partnerId, importDate: started.importDate };
    const counts = zero();
    let issuesStored = 0;
    let buffer: ChunkItem[] = [];
    const sizer = new ChunkSizer(settings.chunkSize, backend.blocksEventLoop ? settings.chunkTargetMs : undefined);
    const flush = async (): Promise<void> => {
      let plan: ChunkPlan;
      const started = performance.now();
      try {
        plan = await backend.applyChunk(ctx, buffer, counts, settings.maxStoredIssues - issuesStored);
      } catch (err) {
        throw new StoreFailure(err);
      }
      sizer.record(buffer.length, performance.now() - started);
      // Let sockets and timers have a turn between two blocking chunks (ACKs wait one chunk at most).
      if (backend.blocksEventLoop) await yieldToEventLoop();
      counts.rows += plan.rows;
      counts.applied += plan.applied;
      counts.errors += plan.errors;
      counts.warnings += plan.warnings;
      issuesStored = Math.min(settings.maxStoredIssues, issuesStored + plan.issues.length);
      buffer = [];
    };

    try {
      for await (const item of req.items) {
        buffer.push(toChunkItem(item, selfRole));
        if (buffer.length >= sizer.next) await flush();
      }
      if (buffer.length) await flush();
    } catch (err) {
      const original = err instanceof StoreFailure ? err.original : err;
      const text = err instanceof StoreFailure ? 'the roster database failed during the import' : failureText(err);
      let final: ImportCounts;
      try {
        final = await backend.finishImport(ctx.importId, 'failed', counts, text);
      } catch {
        throw original;
      }
      if (err instanceof StoreFailure) throw original;
      return {
        importId: ctx.importId,
        status: 'failed',
        resumed: started.resumed,
        ...final,
        error: text,
        absenceSkipped: true,
        resolvedUnmatched: [],
      };
    }

    // An empty or entirely unreadable "full" file is a broken delivery, not an empty roster.
    const absenceSkipped = started.fileKind === 'full' && counts.applied === 0;
    if (started.fileKind === 'full' && !absenceSkipped) {
      while ((await backend.sweepAbsent(ctx, settings.sweepSize)) > 0) {
        // each pass ends up to sweepSize members in its own transaction
        if (backend.blocksEventLoop) await yieldToEventLoop();
      }
    }
    const final = await backend.finishImport(ctx.importId, 'applied', counts, null);
    const resolvedUnmatched = await reResolve();
    return { importId: ctx.importId, status: 'applied', resumed: started.resumed, ...final, absenceSkipped, resolvedUnmatched };
  });
}
