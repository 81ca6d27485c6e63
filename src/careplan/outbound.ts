// What carebridge sends about care plans, and to whom. Every outbound care-plan event is stored in
// the message store as a message of its own (so it has lineage, deliveries, retries, replay) under
// one of three source names. Its deliveries are decided here from the stored message alone, so a
// message a crash left `received` is routed the same way by the recovery sweep (through the
// pipeline's FHIR hook) as it would have been the first time.
import type { Binary, Bundle, BundleEntry, CarePlan, FhirResource, Provenance } from 'fhir/r4.js';
import { CAREBRIDGE_CANONICAL_BASE } from './signoff.js';

/** A CP's plan, to the member's ACO for sign-off. Raw: the stored CarePlan. */
export const SUBMISSION_SOURCE = 'careplan-submission';
/** A sign-off decision, to the CP. Raw: a collection Bundle (CarePlan + Provenance). */
export const SIGNOFF_SOURCE = 'careplan-signoff';
/** A weekly status file, to the partner's configured destination. Raw: a Binary (text/csv). */
export const STATUS_SOURCE = 'careplan-status';
export const CAREPLAN_SOURCES: readonly string[] = [SUBMISSION_SOURCE, SIGNOFF_SOURCE, STATUS_SOURCE];

/** Tags a status Binary with the partner it is for (Binary has no subject element). */
export const STATUS_PARTNER_TAG_SYSTEM = `${CAREBRIDGE_CANONICAL_BASE}/CodeSystem/status-file-partner`;

/** Tags a status Binary with the week (the slot's local date) it reports on. */
export const WEEK_TAG_SYSTEM = 'https://carebridge.example.org/fhir/CodeSystem/status-file-week';

/** What a file-dropping destination is given: the file's name (the deliverer adds the delivery id) and content. */
export type { FilePayload } from '../delivery/deliverers/sftp.js';

function entry(resource: FhirResource): BundleEntry {
  return { fullUrl: `urn:uuid:${resource.id}`, resource };
}

/** A collection Bundle (ids are UUIDs, so urn:uuid fullUrls), deterministic id from its contents. */
export function carePlanBundle(bundleId: string, resources: readonly FhirResource[], timestamp: string): Bundle {
  return { resourceType: 'Bundle', id: bundleId, type: 'collection', timestamp, entry: resources.map(entry) };
}

export function signoffBundle(bundleId: string, plan: CarePlan, provenance: Provenance, timestamp: string): Bundle {
  return carePlanBundle(bundleId, [plan, provenance], timestamp);
}

export function statusBinary(id: string, partnerId: string, csv: string): Binary {
  return {
    resourceType: 'Binary',
    id,
    meta: { tag: [{ system: STATUS_PARTNER_TAG_SYSTEM, code: partnerId }] },
    contentType: 'text/csv',
    data: Buffer.from(csv, 'utf8').toString('base64'),
  };
}

export function statusBinaryPartner(binary: Binary): string | undefined {
  return binary.meta?.tag?.find((t) => t.system === STATUS_PARTNER_TAG_SYSTEM)?.code;
}

export function statusBinaryCsv(binary: Binary): string {
  return Buffer.from(binary.data ?? '', 'base64').toString('utf8');
}

/** File name safe on any SFTP server: letters, digits, dot, dash, underscore. */
export function safeFileName(name: string): string {
  return (
    name
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .replace(/^\.+/, '')
      .slice(0, 180) || 'file'
  );
}
