/**
 * Member files that arrive by upload instead of a polled folder (`carebridge import-members`,
 * `POST /api/roster/imports`), and the dry run that shows what a file would change without
 * changing anything: the real import runs on a scratch copy of the SQLite database, so the diff is
 * exactly what the import would do (the same code, the same rules), and the copy is deleted.
 */
import { withScratchRosterCopy } from './postgres-roster-copy.js';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { GatewayConfig } from '../config/types.js';
import { openRosterStore, type Roster } from '../roster/roster-store.js';
import type { DiffKind, ImportCounts, ImportIssue, ImportRequest, ImportResult } from '../roster/store-types.js';
import { parseStoreUrl } from '../store/open-store.js';
import type { FileIntake } from './file-intake.js';
import { readMembersOf, type MemberFormat } from './member-partners.js';

/** Source formats an upload may be read as; `member-csv` is the default. */
export const UPLOAD_FORMATS = ['member-csv', 'member-fixed-width', 'member-xlsx', 'x12-834'] as const;
export type UploadFormat = (typeof UPLOAD_FORMATS)[number];
const LAYOUT_OF: Record<UploadFormat, MemberFormat> = {
  'member-csv': 'delimited',
  'member-fixed-width': 'fixed-width',
  'member-xlsx': 'xlsx',
  'x12-834': 'x12-834',
};

export interface MemberUpload {
  partner: string;
  format: UploadFormat;
  /** The file's name (with partner and content hash, the idempotency key). */
  fileName: string;
  localPath: string;
  /** Recorded as the import's source id. */
  sourceId?: string;
}

/** What an import did, or a dry run would do: counts, changes (member ids: PHI, for operators only) and row errors. */
export interface MemberImportReport extends ImportCounts {
  status: 'applied' | 'duplicate' | 'failed' | 'dry-run';
  importId: string | null;
  duplicateOf?: string;
  error?: string;
  /** Row errors and file warnings with line numbers, at most `limit`. */
  issues: ImportIssue[];
  /** The roster changes, at most `limit`. */
  changes: Array<{ memberId: string; kind: DiffKind; detail: Record<string, unknown> }>;
}

const REPORT_LIMIT = 1000;

export class UploadError extends Error {
  override readonly name = 'UploadError';
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The roster import request for an uploaded file (read with the partner's layout, partners checked). */
export async function uploadRequest(config: GatewayConfig, upload: MemberUpload): Promise<ImportRequest> {
  const partner = config.partners[upload.partner];
  if (!partner) throw new UploadError(`unknown partner '${upload.partner}'`);
  const format = LAYOUT_OF[upload.format];
  return {
    partnerId: upload.partner,
    sourceId: upload.sourceId,
    fileName: upload.fileName,
    sha256: await sha256OfFile(upload.localPath),
    items: readMembersOf(config, upload.partner, format, createReadStream(upload.localPath)),
    // 834s mostly carry changes; delimited/fixed/xlsx files are full rosters (as for SFTP files).
    fileKind: format === 'x12-834' ? 'changes' : 'full',
    selfRole: partner.kind === 'aco' || partner.kind === 'cp' ? partner.kind : undefined,
  };
}

/** The report of an import already run, read back from the roster. */
export async function importReport(
  roster: Roster,
  result: ImportResult,
  status: MemberImportReport['status'] = result.status,
): Promise<MemberImportReport> {
  const id = result.status === 'duplicate' ? (result.duplicateOf ?? result.importId) : result.importId;
  const detail = await roster.getImport(result.importId, { issueLimit: REPORT_LIMIT });
  const events = await roster.listDiffEvents({ importId: id, limit: REPORT_LIMIT });
  return {
    status,
    importId: status === 'dry-run' ? null : result.importId,
    ...(result.duplicateOf !== undefined && { duplicateOf: result.duplicateOf }),
    rows: result.rows,
    applied: result.applied,
    errors: result.errors,
    warnings: result.warnings,
    added: result.added,
    changed: result.changed,
    terminated: result.terminated,
    ...(result.error !== undefined && { error: result.error }),
    issues: detail?.issues ?? [],
    changes: result.status === 'duplicate' ? [] : events.items.map((e) => ({ memberId: e.memberId, kind: e.kind, detail: e.detail })),
  };
}

function rosterOptions(config: GatewayConfig) {
  return {
    matching: { identifierPrecedence: config.roster.identifierPrecedence, demographicMatch: config.roster.demographicMatch },
    chunkTargetMs: config.roster.importChunkMs,
  };
}

/** Opens the config's roster, imports, closes: for the CLI (a running gateway's sweep sends the notices). */
export async function importUpload(config: GatewayConfig, upload: MemberUpload): Promise<MemberImportReport> {
  const request = await uploadRequest(config, upload);
  const roster = await openRosterStore(config.store.url, rosterOptions(config));
  try {
    return await importReport(roster, await roster.importMemberFile(request));
  } finally {
    await roster.close();
  }
}

/**
 * The import on a scratch copy of the database, a consistent snapshot even while the gateway
 * writes: SQLite `VACUUM INTO` a temporary file, Postgres the roster's tables into a scratch
 * schema. Nothing of the real roster changes.
 */
export async function dryRunUpload(config: GatewayConfig, upload: MemberUpload): Promise<MemberImportReport> {
  const location = parseStoreUrl(config.store.url);
  const request = await uploadRequest(config, upload);
  const importOn = async (url: string): Promise<MemberImportReport> => {
    const roster = await openRosterStore(url, rosterOptions(config));
    try {
      const result = await roster.importMemberFile(request);
      return await importReport(roster, result, result.status === 'applied' ? 'dry-run' : result.status);
    } finally {
      await roster.close();
    }
  };
  if (location.kind !== 'sqlite') return withScratchRosterCopy(config.store.url, importOn);
  const dir = await mkdtemp(join(tmpdir(), 'carebridge-dry-run-'));
  try {
    const scratch = join(dir, 'roster.db');
    // No database yet: every member is new, which the empty scratch roster shows.
    if (location.filename !== ':memory:' && existsSync(location.filename)) {
      const db = new Database(location.filename, { readonly: true, fileMustExist: true });
      try {
        db.prepare('VACUUM INTO ?').run(scratch);
      } finally {
        db.close();
      }
    }
    return await importOn(`sqlite:${scratch}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Human-readable lines of a report (member ids are shown: this is for the operator at the terminal). */
export function formatReport(report: MemberImportReport): string[] {
  const lines: string[] = [];
  const head = report.status === 'dry-run' ? 'dry run (nothing applied)' : report.status;
  lines.push(
    `${head}: ${report.rows} rows, ${report.added} added, ${report.changed} changed, ${report.terminated} terminated, ${report.errors} row errors, ${report.warnings} warnings`,
  );
  if (report.importId)
    lines.push(
      `import ${report.importId}${report.duplicateOf ? ` (duplicate of ${report.duplicateOf}: this file was applied before)` : ''}`,
    );
  if (report.error) lines.push(`file error: ${report.error}`);
  for (const c of report.changes) lines.push(`  ${c.kind.padEnd(10)} ${c.memberId}${describeDetail(c.detail)}`);
  for (const i of report.issues) lines.push(`  line ${i.line}: ${i.kind}: ${i.reason}`);
  return lines;
}

function describeDetail(detail: Record<string, unknown>): string {
  const parts = Object.entries(detail)
    .filter(([k]) => k !== 'newMember')
    .map(([k, v]) => {
      if (v && typeof v === 'object' && 'from' in v && 'to' in v) {
        const { from, to } = v as { from: unknown; to: unknown };
        return ['aco', 'cp', 'pcp', 'cpPeriod', 'reason'].includes(k) ? `${k}: ${JSON.stringify(from)} → ${JSON.stringify(to)}` : k;
      }
      return k === 'reason' ? `reason: ${String(v)}` : k;
    });
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/** Uploads inside a running gateway: applied through the file intake (notices and late routing follow at once). */
export function gatewayMemberUploads(
  config: GatewayConfig,
  roster: Roster,
  intake: FileIntake,
): { run(upload: MemberUpload, dryRun: boolean): Promise<MemberImportReport> } {
  return {
    async run(upload, dryRun) {
      if (dryRun) return dryRunUpload(config, upload);
      if (!config.partners[upload.partner]) throw new UploadError(`unknown partner '${upload.partner}'`);
      const sha256 = await sha256OfFile(upload.localPath);
      const result = await intake.importMembers({
        localPath: upload.localPath,
        remoteName: upload.fileName,
        size: statSync(upload.localPath).size,
        sha256,
        partner: upload.partner,
        sourceId: upload.sourceId ?? 'api',
        format: upload.format,
        remoteModifiedAt: new Date(),
      });
      return importReport(roster, result);
    },
  };
}
