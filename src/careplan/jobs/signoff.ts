// The PCP's decision on a CP care plan, by the ACO or the PCP's organization: recorded once per plan
// version with its Provenance, and sent to the CP and the other possible signer.
import type { Provenance, Reference } from 'fhir/r4.js';
import { uuidV5 } from '../../fhir/ids.js';
import { CarePlanError } from '../errors.js';
import { instantMillis } from '../local-date.js';
import { SIGNOFF_SOURCE, signoffBundle } from '../outbound.js';
import { partnerOrganization, partnerOf, signingPartnerOf } from '../partners.js';
import { referenceKey, toReference, type ReferenceInput } from '../references.js';
import { applySignoff, type SignoffDecision, type SignoffMethod } from '../signoff.js';
import type { CarePlanRecord, SignoffRecord } from '../store/types.js';
import type { CarePlanContext } from './context.js';

export interface SignoffRequest {
  decision: SignoffDecision;
  /** Practitioner (e.g. by NPI identifier), PractitionerRole or Organization. */
  who: ReferenceInput;
  /** When the PCP decided (FHIR instant). */
  when: string;
  method: SignoffMethod;
  reason?: string;
  /** The plan version signed; a plan revised since is a conflict. */
  version?: number;
  /** The partner recording it; must be the plan's ACO or its PCP's organization when given. */
  actingPartner?: string;
}

export interface SignoffResultInfo {
  record: CarePlanRecord;
  provenance: Provenance;
  outcome: 'recorded' | 'duplicate';
  /** The message notifying the CP and the other possible signer. */
  messageId: string;
}

/** The NPI identifier system (a signer named by NPI may be a PCP of a configured organization). */
const NPI_SYSTEM = 'http://hl7.org/fhir/sid/us-npi';

/**
 * Status, sign-off tag and note per applySignoff, the Provenance stored with it, and the CP and the
 * other possible signer notified (CarePlan + Provenance). The same decision recorded twice (a resent
 * file, a retried call) is one decision; another decision on a version already decided is a conflict.
 */
export async function recordSignoff(ctx: CarePlanContext, carePlanId: string, request: SignoffRequest): Promise<SignoffResultInfo> {
  const { deps } = ctx;
  if (instantMillis(request.when) === undefined)
    throw new CarePlanError('invalid', 'when must be a FHIR instant (with seconds and offset)');
  if (instantMillis(request.when)! > ctx.now().getTime() + 5 * 60_000) throw new CarePlanError('invalid', 'when is in the future');
  let provenance: Provenance | undefined;
  let outcome: SignoffResultInfo['outcome'] = 'recorded';
  let signingPartner: string | undefined;
  const { record } = await ctx.mutate(carePlanId, async (existing) => {
    if (!existing) throw new CarePlanError('not-found', 'care plan not found');
    // The ACO and the PCP's organization both sign; anyone else does not see the plan.
    if (
      request.actingPartner !== undefined &&
      existing.acoPartner !== request.actingPartner &&
      existing.pcpPartner !== request.actingPartner
    ) {
      throw new CarePlanError('not-found', 'care plan not found');
    }
    if (existing.kind !== 'cp-plan' || !existing.acoPartner) throw new CarePlanError('conflict', 'only a CP care plan is signed off');
    const who = toReference(request.who);
    signingPartner = signingPartnerFor(ctx, existing, who, request.actingPartner);
    const signoffs = await deps.store.listSignoffs(carePlanId);
    const previous = signoffs.find(
      (s) => s.decision === request.decision && s.provenance.occurredDateTime === request.when && sameAgent(s.provenance, who),
    );
    if (previous) {
      provenance = previous.provenance;
      outcome = 'duplicate';
      return undefined;
    }
    // One decision per submitted version: the first signer (ACO or PCP's organization) decides, and
    // the other is told; only a revision by the CP (back to pending) opens a new sign-off.
    if (existing.signoff !== 'pending') throw alreadyDecided(existing.signoff, signoffs);
    if (request.version !== undefined && request.version !== existing.version) {
      throw new CarePlanError('conflict', `the care plan was revised: version ${existing.version} is current, not ${request.version}`);
    }
    const signingOrganization = partnerOrganization(signingPartner, deps.partners[signingPartner]?.name);
    const signerIsOrganization = partnerOf(who) === signingPartner;
    const recorded = ctx.instant();
    let result;
    try {
      result = applySignoff(existing.resource, {
        carePlanRef: `CarePlan/${existing.id}/_history/${existing.version}`,
        who,
        ...(signerIsOrganization ? {} : { onBehalfOf: signingOrganization }),
        when: request.when,
        recorded,
        method: request.method,
        decision: request.decision,
        ...(request.reason !== undefined ? { reason: request.reason } : {}),
      });
    } catch (e) {
      // The builders check references, methods and instants; their messages name fields, not values.
      throw new CarePlanError('invalid', (e as Error).message);
    }
    if (!result.ok) throw new CarePlanError('conflict', result.reason);
    provenance = result.provenance;
    const approved = request.decision === 'approved';
    return {
      write: {
        ...existing,
        status: result.plan.status,
        signoff: request.decision,
        completedAt: approved ? new Date(instantMillis(request.when)!) : null,
        resource: result.plan,
      },
      extras: {
        signoff: {
          id: result.provenance.id!,
          carePlanId,
          planVersion: existing.version,
          decision: request.decision,
          method: request.method,
          decidedAt: new Date(instantMillis(request.when)!),
          recordedAt: new Date(instantMillis(recorded)!),
          provenance: result.provenance,
        },
      },
    };
  });
  const prov = provenance!;
  // uuidV5(JSON.stringify) rather than idFromParts: the id is typed optional, and these ids must not change.
  const bundle = signoffBundle(uuidV5(JSON.stringify(['careplan-signoff-bundle', prov.id])), record.resource, prov, prov.recorded);
  const messageId = await ctx.send(
    {
      kind: 'careplan-signoff',
      key: { provenanceId: prov.id! },
      input: {
        sourceKind: request.method === 'file' ? 'sftp' : 'api',
        sourceName: SIGNOFF_SOURCE,
        partnerId: signingPartner ?? record.acoPartner,
        sender: signingPartner ?? record.acoPartner,
        controlId: prov.id,
        messageType: 'FHIR',
        triggerEvent: 'Provenance',
        raw: Buffer.from(JSON.stringify(bundle), 'utf8'),
      },
    },
    bundle,
    undefined,
  );
  deps.log.info({ carePlanId, decision: request.decision, method: request.method, outcome }, 'care plan sign-off recorded');
  return { record, provenance: prov, outcome, messageId };
}

/**
 * The signing partner a decision is recorded for: the acting partner when given, else the one the
 * signer is (an Organization reference) or practices at (a PCP's NPI), else the ACO.
 */
function signingPartnerFor(ctx: CarePlanContext, record: CarePlanRecord, who: Reference, actingPartner: string | undefined): string {
  const aco = record.acoPartner!;
  const pcp = record.pcpPartner;
  if (actingPartner !== undefined) return actingPartner;
  const org = partnerOf(who);
  if (org === aco || (pcp !== null && org === pcp)) return org;
  const npi = who.identifier?.system === NPI_SYSTEM ? who.identifier.value : undefined;
  if (pcp !== null && npi !== undefined && ctx.pcpOrganizations.get(npi) === pcp) return pcp;
  return aco;
}

/** The decision standing: the latest on the newest version signed (undefined when none). */
export function standingSignoff(signoffs: readonly SignoffRecord[]): SignoffRecord | undefined {
  return signoffs.reduce<SignoffRecord | undefined>(
    (best, s) =>
      !best || s.planVersion > best.planVersion || (s.planVersion === best.planVersion && s.recordedAt >= best.recordedAt) ? s : best,
    undefined,
  );
}

/** The conflict for a sign-off of a plan whose current version is already decided: says by whom and when. */
export function alreadyDecided(state: CarePlanRecord['signoff'], signoffs: readonly SignoffRecord[]): CarePlanError {
  const standing = standingSignoff(signoffs);
  const partner = standing ? signingPartnerOf(standing.provenance) : undefined;
  const by = [partner ? `by ${partner}` : '', standing?.provenance.occurredDateTime ? `at ${standing.provenance.occurredDateTime}` : '']
    .filter(Boolean)
    .join(' ');
  return new CarePlanError(
    'conflict',
    `the care plan is already ${state ?? 'decided'}${by ? ` (${by})` : ''}; a new version must be submitted before it is signed off again`,
  );
}

function sameAgent(provenance: Provenance, who: Reference): boolean {
  const agent = provenance.agent[0]?.who;
  if (!agent) return false;
  try {
    return referenceKey(agent) === referenceKey(who);
  } catch {
    return false;
  }
}
