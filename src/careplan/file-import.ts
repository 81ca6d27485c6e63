// Care-plan CSV files (SFTP format `careplan-csv`): a CP's care plans are submitted, an ACO's returned
// sign-offs are recorded, row by row through the service. A bad row is reported with its line and
// the next row goes on. A file is applied once per partner + name + SHA-256; re-running one a crash
// interrupted is safe because every row is idempotent (an unchanged plan, the same decision).
import { createReadStream } from 'node:fs';
import { CarePlanFileError, NPI_SYSTEM, readCarePlanCsv, type CarePlanFileKind, type CsvInput } from '../../adapters/careplan-csv/index.js';
import type { Logger } from '../observability/log.js';
import type { SftpFileConsumer } from '../sources/sftp/types.js';
import { CarePlanError } from './errors.js';
import type { CarePlanService } from './service.js';
import type { CarePlanSettings } from './settings.js';
import type { CarePlanStore } from './store/types.js';
import { MEMBER_ID_SYSTEM } from './submission.js';

/** Row problems kept per file (all are counted). */
const MAX_REPORTED_ERRORS = 1000;

export interface CarePlanFileMeta {
  partnerId: string;
  fileName: string;
  sha256: string;
}

export interface CarePlanFileResult {
  status: 'applied' | 'duplicate';
  fileKind?: CarePlanFileKind;
  rows: number;
  applied: number;
  /** Count of bad rows; `issues` has at most MAX_REPORTED_ERRORS of them, in line order. */
  errors: number;
  issues: { line: number; reason: string }[];
}

export interface CarePlanFileDeps {
  service: CarePlanService;
  store: CarePlanStore;
  settings: CarePlanSettings;
  partnerName(partnerId: string): string | undefined;
  log: Logger;
}

/**
 * Applies one file. Throws CarePlanFileError for a file that cannot be used at all (no header, a
 * required column missing) and lets other errors (store down) through: the caller retries later.
 */
export async function importCarePlanFile(deps: CarePlanFileDeps, input: CsvInput, meta: CarePlanFileMeta): Promise<CarePlanFileResult> {
  const done = await deps.store.getFile(meta.partnerId, meta.fileName, meta.sha256);
  if (done) return { status: 'duplicate', fileKind: done.kind, rows: done.rows, applied: done.applied, errors: done.errors, issues: [] };
  const result: CarePlanFileResult = { status: 'applied', rows: 0, applied: 0, errors: 0, issues: [] };
  const fail = (line: number, reason: string): void => {
    result.errors++;
    if (result.issues.length < MAX_REPORTED_ERRORS) result.issues.push({ line, reason });
  };
  const items = readCarePlanCsv(input, {
    cpPartnerId: meta.partnerId,
    cpName: deps.partnerName(meta.partnerId),
    memberIdSystem: MEMBER_ID_SYSTEM,
    timeZone: deps.settings.timeZone,
  });
  for await (const item of items) {
    if (item.kind === 'file') {
      result.fileKind = item.fileKind;
      continue;
    }
    result.rows++;
    if (item.kind === 'error') {
      fail(item.line, item.reason);
      continue;
    }
    try {
      if (item.kind === 'careplan') {
        await deps.service.submitCarePlan(meta.partnerId, item.carePlan, { channel: 'sftp' });
      } else {
        const s = item.signoff;
        await deps.service.recordSignoff(s.carePlanId, {
          decision: s.decision,
          who: { type: 'Practitioner', identifier: { system: NPI_SYSTEM, value: s.signedByNpi } },
          when: s.signedAt,
          method: 'file',
          ...(s.reason !== undefined ? { reason: s.reason } : {}),
          ...(s.version !== undefined ? { version: s.version } : {}),
          actingPartner: meta.partnerId,
        });
      }
      result.applied++;
    } catch (e) {
      if (!(e instanceof CarePlanError)) throw e;
      fail(item.line, [e.message, ...e.issues].join(': '));
    }
  }
  await deps.store.recordFile({
    partnerId: meta.partnerId,
    fileName: meta.fileName,
    sha256: meta.sha256,
    kind: result.fileKind ?? 'careplans',
    rows: result.rows,
    applied: result.applied,
    errors: result.errors,
    recordedAt: new Date(),
  });
  deps.log.info(
    {
      partner: meta.partnerId,
      file: meta.fileName,
      kind: result.fileKind,
      rows: result.rows,
      applied: result.applied,
      errors: result.errors,
    },
    'care-plan file applied',
  );
  return result;
}

/** The SFTP poller's consumer for `careplan-csv` sources. */
export function carePlanFileConsumer(deps: CarePlanFileDeps): SftpFileConsumer {
  return async (file) => {
    try {
      const r = await importCarePlanFile(deps, createReadStream(file.localPath), {
        partnerId: file.partner,
        fileName: file.remoteName,
        sha256: file.sha256,
      });
      return r.status;
    } catch (e) {
      if (e instanceof CarePlanFileError) {
        deps.log.warn({ partner: file.partner, file: file.remoteName, reason: e.message }, 'care-plan file refused');
        return 'failed';
      }
      throw e;
    }
  };
}
