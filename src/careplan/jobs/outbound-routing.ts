// Who receives a stored care-plan message, decided from the message alone (the pipeline's FHIR
// hook), so the recovery sweep routes a message a crash left `received` as the first try would have.
import type { Binary, Bundle, CarePlan, Provenance } from 'fhir/r4.js';
import { renderFor, typesAccepting } from '../../delivery/deliverers/registry.js';
import { idFromParts, uuidV5 } from '../../fhir/ids.js';
import type { DeliveryInput } from '../../store/types.js';
import {
  carePlanBundle,
  safeFileName,
  SIGNOFF_SOURCE,
  statusBinaryCsv,
  statusBinaryPartner,
  STATUS_SOURCE,
  SUBMISSION_SOURCE,
  WEEK_TAG_SYSTEM,
} from '../outbound.js';
import { signingPartnerOf } from '../partners.js';
import type { CarePlanContext } from './context.js';

const isResource = <T extends { resourceType: string }>(v: unknown, type: string): v is T =>
  typeof v === 'object' && v !== null && (v as { resourceType?: unknown }).resourceType === type;

/**
 * Deliveries of a stored care-plan message; undefined for any other source, which the route table
 * handles.
 */
export async function deliveriesFor(ctx: CarePlanContext, sourceName: string, resource: unknown): Promise<DeliveryInput[] | undefined> {
  const { deps } = ctx;
  switch (sourceName) {
    case SUBMISSION_SOURCE: {
      if (!isResource<CarePlan>(resource, 'CarePlan') || !resource.id) return [];
      const record = await deps.store.get(resource.id);
      if (!record?.acoPartner) return [];
      const bundle = carePlanBundle(
        idFromParts(['careplan-submission-bundle', resource.id, resource.meta?.versionId ?? '']),
        [resource],
        resource.meta?.lastUpdated ?? ctx.instant(),
      );
      const name = `careplan-${resource.id}-v${resource.meta?.versionId ?? '0'}.json`;
      return toPartners(ctx, [record.acoPartner, record.pcpPartner], `careplan:${resource.id}`, bundle, name);
    }
    case SIGNOFF_SOURCE: {
      if (!isResource<Bundle>(resource, 'Bundle')) return [];
      const resources = resource.entry?.map((e) => e.resource) ?? [];
      const plan = resources.find((r): r is CarePlan => r?.resourceType === 'CarePlan');
      const provenance = resources.find((r): r is Provenance => r?.resourceType === 'Provenance');
      const record = plan?.id ? await deps.store.get(plan.id) : null;
      if (!record) return [];
      // The CP learns the outcome, and so does the other possible signer (ACO or PCP's organization),
      // whose copy would otherwise stay pending. The signer itself knows.
      const signer = provenance ? signingPartnerOf(provenance) : undefined;
      const otherSigners = [record.acoPartner, record.pcpPartner].filter((p) => p !== signer);
      return toPartners(
        ctx,
        [record.cpPartner, ...otherSigners],
        `careplan:${record.id}`,
        resource,
        `careplan-signoff-${resource.id}.json`,
      );
    }
    case STATUS_SOURCE: {
      if (!isResource<Binary>(resource, 'Binary')) return [];
      const partner = statusBinaryPartner(resource);
      const week = resource.meta?.tag?.find((t) => t.system === WEEK_TAG_SYSTEM)?.code ?? 'week';
      const targets = deps.settings.weeklyStatus.files.filter((f) => f.partner === partner);
      return targets.flatMap((t) => {
        // The CSV itself where files are dropped, else a Bundle carrying the Binary (the destination's module decides).
        const payload = renderFor(deps.destinationTypes.get(t.destination), {
          kind: 'status-file',
          fileName: safeFileName(`careplan-status-${partner}-${week}.csv`),
          csv: () => statusBinaryCsv(resource),
          bundle: () => carePlanBundle(uuidV5(JSON.stringify(['careplan-status-bundle', resource.id])), [resource], ctx.instant()),
        });
        if (typeof payload === 'string') return [{ destination: t.destination, patientKey: `careplan-status:${partner}`, payload }];
        deps.log.warn({ partner, destination: t.destination }, 'status file destination cannot carry a status file');
        return [];
      });
    }
    default:
      return undefined;
  }
}

/** One delivery per destination of these partners, should two of them share one. */
function toPartners(
  ctx: CarePlanContext,
  partnerIds: readonly (string | null)[],
  patientKey: string,
  bundle: Bundle,
  fileName: string,
): DeliveryInput[] {
  const out: DeliveryInput[] = [];
  for (const partnerId of partnerIds) {
    if (partnerId === null) continue;
    for (const d of toPartner(ctx, partnerId, patientKey, bundle, fileName)) {
      if (!out.some((o) => o.destination === d.destination)) out.push(d);
    }
  }
  return out;
}

/** One delivery to the partner's `destinations.careplan`, shaped for its type. */
function toPartner(ctx: CarePlanContext, partnerId: string, patientKey: string, bundle: Bundle, fileName: string): DeliveryInput[] {
  const { deps } = ctx;
  const destination = deps.partners[partnerId]?.destinations.careplan;
  if (!destination) {
    deps.log.warn({ partner: partnerId }, 'partner declares no careplan destination; the care plan is kept for the API only');
    return [];
  }
  const type = deps.destinationTypes.get(destination);
  // Shaped by the destination's type: the Bundle as JSON, or a named file where files are dropped.
  const payload = renderFor(type, { kind: 'careplan', bundle, fileName: safeFileName(fileName) });
  if (typeof payload === 'string') return [{ destination, patientKey, payload }];
  deps.log.warn(
    { partner: partnerId, destination, type },
    `careplan destination type cannot carry care plans (use ${typesAccepting('careplan').join(', ')})`,
  );
  return [];
}
