import { createReadStream } from 'node:fs';
import { loadMemberLayout, readMemberFile } from '../../adapters/member-common/index.js';
import type { MemberFormat } from '../../adapters/member-common/layout-schema.js';
import type { GatewayConfig } from '../config/types.js';
import type { Logger } from '../observability/log.js';
import { memberAsPatient } from '../roster/fhir-patient.js';
import type { Roster } from '../roster/roster-store.js';
import type { DiffEvent } from '../roster/store-types.js';
import type { SftpFileHandoff, SftpFileOutcome } from '../sources/sftp/types.js';
import type { DeliveryInput, MessageStore } from '../store/types.js';
import type { Pipeline } from './pipeline.js';

const MEMBER_FORMATS: Record<string, MemberFormat> = {
  'member-csv': 'delimited',
  'member-fixed-width': 'fixed-width',
  'x12-834': 'x12-834',
  'member-xlsx': 'xlsx',
};

export interface FileIntakeDeps {
  config: GatewayConfig;
  store: MessageStore;
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
 */
export function createFileIntake(deps: FileIntakeDeps): (file: SftpFileHandoff) => Promise<SftpFileOutcome> {
  return async (file) => {
    if (file.format === 'careplan-csv') {
      if (!deps.carePlanFile) throw new Error('care-plan files are not handled by this gateway');
      return deps.carePlanFile(file);
    }
    const format = MEMBER_FORMATS[file.format];
    if (!format) return 'failed';
    const layout = loadMemberLayout({ partner: file.partner, format, mappingsDir: deps.config.mappings.dir });
    const result = await deps.roster.importMemberFile({
      partnerId: file.partner,
      sourceId: file.sourceId,
      fileName: file.remoteName,
      sha256: file.sha256,
      items: readMemberFile(createReadStream(file.localPath), layout),
      // 834s mostly carry changes (adds, changes, terms); delimited/fixed/xlsx files are full rosters.
      fileKind: format === 'x12-834' ? 'changes' : 'full',
      selfRole: kindAsRole(deps.config.partners[file.partner]?.kind),
    });
    deps.log.info(
      { sourceId: file.sourceId, partner: file.partner, importId: result.importId, status: result.status, rows: result.rows, applied: result.applied, errors: result.errors },
      'member file imported',
    );
    if (result.status === 'duplicate') return 'duplicate';
    if (result.status === 'failed') return 'failed';
    await notifyAssignments(deps, result.importId);
    for (const r of result.resolvedUnmatched) await routeResolved(deps, r.messageId);
    return 'applied';
  };
}

/**
 * Newly assigned members (a new member, or a new CP/ACO assignment) are sent, as a FHIR Patient,
 * to the receiving partner's `destinations.members`. One stored message per import carries the
 * deliveries, so they have lineage, retries and dead letters like every other delivery.
 */
async function notifyAssignments(deps: FileIntakeDeps, importId: string): Promise<void> {
  const events: DiffEvent[] = [];
  let cursor: string | null = null;
  do {
    const page = await deps.roster.listDiffEvents({ importId, notified: false, limit: 500, cursor: cursor ?? undefined });
    events.push(...page.items);
    cursor = page.next;
  } while (cursor);
  const deliveries: DeliveryInput[] = [];
  const destinationTypes = new Map(deps.config.destinations.map((d) => [d.id, d.type]));
  for (const e of events) {
    if (e.kind === 'terminated') continue;
    const detail = e.detail as { newMember?: boolean; cp?: { to?: string | null }; aco?: { to?: string | null } };
    const targets = new Set<string>();
    if (detail.cp?.to) targets.add(detail.cp.to);
    if (detail.aco?.to) targets.add(detail.aco.to);
    if (targets.size === 0) continue;
    const member = await deps.roster.getMember(e.memberId);
    if (!member) continue;
    const patient = JSON.stringify(memberAsPatient(member));
    for (const partner of targets) {
      const destination = deps.config.partners[partner]?.destinations.members;
      const type = destination ? destinationTypes.get(destination) : undefined;
      if (!destination || (type !== 'webhook' && type !== 'fhir')) continue;
      deliveries.push({ destination, patientKey: e.memberId, payload: patient });
    }
  }
  if (deliveries.length > 0) {
    const raw = Buffer.from(JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'rosterImport', valueString: importId }] }));
    const [stored] = await deps.store.acceptInbound([
      { sourceKind: 'sftp', sourceName: 'roster', messageType: 'ROSTER', triggerEvent: 'assignments', controlId: importId, dedupeKey: `roster-assignments|${importId}`, raw },
    ]);
    if (!stored.duplicate) await deps.pipeline.commit(stored.id, { status: 'processed', deliveries });
  }
  if (events.length) await deps.roster.markDiffEventsNotified(events.map((e) => e.id));
}

function kindAsRole(kind: string | undefined): 'aco' | 'cp' | undefined {
  return kind === 'aco' || kind === 'cp' ? kind : undefined;
}

/** An ADT event that matched no member now does: route it to the attributed partners only. */
async function routeResolved(deps: FileIntakeDeps, messageId: string): Promise<void> {
  const replay = await deps.store.createReplay(messageId, { actor: 'roster' });
  await deps.pipeline.reprocess(replay.id, { attributedOnly: true });
}
