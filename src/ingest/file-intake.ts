import { createReadStream } from 'node:fs';
import type { GatewayConfig } from '../config/types.js';
import type { Logger } from '../observability/log.js';
import type { Roster } from '../roster/roster-store.js';
import type { ImportResult } from '../roster/store-types.js';
import type { SftpFileHandoff, SftpFileOutcome } from '../sources/sftp/types.js';
import type { MessageStore } from '../store/types.js';
import type { InboundWriterPort } from './inbound.js';
import { LATE_ROUTING_SOURCE, LateRouting } from './late-routing.js';
import { MEMBER_FORMAT_OF_SOURCE, readMembersOf } from './member-partners.js';
import type { Pipeline } from './pipeline.js';
import { ROSTER_NOTICE_SOURCE, RosterNotices } from './roster-notices.js';

export interface FileIntakeDeps {
  config: GatewayConfig;
  store: MessageStore;
  /** The inbox's writer (roster notices and late routings are stored through it). */
  inbound: InboundWriterPort;
  roster: Roster;
  pipeline: Pipeline;
  log: Logger;
  /** Care-plan files (format careplan-csv) go to the care-plan service. */
  carePlanFile?(file: SftpFileHandoff): Promise<SftpFileOutcome>;
}

/**
 * What happens to a file an SFTP source took: member files go through their partner's layout
 * into the roster (streamed, diffed, idempotent per partner + name + hash); then partners are
 * told about newly assigned members, and ADT events the import made resolvable are routed.
 * Also makes the roster notices and the late routing the pipeline's owners of their messages, so
 * the recovery sweep finishes what a crash interrupted (roster-notices.ts, late-routing.ts).
 */
/** The SFTP/folder consumer, plus the same member-file import for uploads (API), returning its result. */
export type FileIntake = ((file: SftpFileHandoff) => Promise<SftpFileOutcome>) & {
  importMembers(file: SftpFileHandoff): Promise<ImportResult>;
};

export function createFileIntake(deps: FileIntakeDeps): FileIntake {
  const notices = new RosterNotices(deps);
  deps.pipeline.own(ROSTER_NOTICE_SOURCE, notices);
  const late = new LateRouting(deps);
  deps.pipeline.own(LATE_ROUTING_SOURCE, late);
  const importMembers = async (file: SftpFileHandoff): Promise<ImportResult> => {
    const format = MEMBER_FORMAT_OF_SOURCE[file.format];
    if (!format) throw new Error(`${file.format} is not a member file format`);
    const result = await deps.roster.importMemberFile({
      partnerId: file.partner,
      sourceId: file.sourceId,
      fileName: file.remoteName,
      sha256: file.sha256,
      items: readMembersOf(deps.config, file.partner, format, createReadStream(file.localPath)),
      // 834s mostly carry changes (adds, changes, terms); delimited/fixed/xlsx files are full rosters.
      fileKind: format === 'x12-834' ? 'changes' : 'full',
      selfRole: kindAsRole(deps.config.partners[file.partner]?.kind),
    });
    deps.log.info(
      {
        sourceId: file.sourceId,
        partner: file.partner,
        importId: result.importId,
        status: result.status,
        rows: result.rows,
        applied: result.applied,
        errors: result.errors,
      },
      'member file imported',
    );
    if (result.status === 'failed') return result;
    // A duplicate is the file seen again, maybe because a crash cut off the notices of its import
    // (the file stays on the server until this returns): finish them; a no-op when they were sent.
    await notices.notify(result.status === 'duplicate' ? (result.duplicateOf ?? result.importId) : result.importId);
    // The crash may also have come before the import re-resolved unmatched events: redo that (idempotent).
    if (result.status === 'duplicate') await deps.roster.reResolveUnmatched();
    // What this import resolved (result.resolvedUnmatched) and whatever a crash left resolved but
    // unrouted: the roster keeps them pending until their routing is stored.
    await late.routePending();
    return result;
  };
  const consume = async (file: SftpFileHandoff): Promise<SftpFileOutcome> => {
    if (file.format === 'careplan-csv') {
      if (!deps.carePlanFile) throw new Error('care-plan files are not handled by this gateway');
      return deps.carePlanFile(file);
    }
    if (!MEMBER_FORMAT_OF_SOURCE[file.format]) return 'failed';
    return (await importMembers(file)).status;
  };
  return Object.assign(consume, { importMembers });
}

export function kindAsRole(kind: string | undefined): 'aco' | 'cp' | undefined {
  return kind === 'aco' || kind === 'cp' ? kind : undefined;
}
