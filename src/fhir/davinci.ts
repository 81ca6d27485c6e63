// Da Vinci Unsolicited Notifications (HL7 FHIR US davinci-alerts, STU 1.1) message Bundles.
//
// What the IG asks of an admit/transfer/discharge notification:
//   - Bundle: profile notifications-bundle, type "message", id and timestamp present, at least 2 entries,
//     MessageHeader first.
//   - MessageHeader: profiles notifications-messageheader + the event-specific one; eventCoding from the
//     notification-event code system; focus (1..*) is the Encounter; sender/author/responsible, when
//     present, reference resources that are in the Bundle (aggregation "bundled"); at most one
//     destination, with an endpoint; no response.
//   - The Encounter's subject (the Patient) travels in the Bundle too.
import type {
  Bundle,
  Encounter,
  FhirResource,
  MessageHeader,
  Organization,
  Patient,
  Practitioner,
  PractitionerRole,
  Reference,
} from 'fhir/r4.js';
import { buildMessageBundle, BundleAssemblyError, reference, type AddressOptions } from './bundle.js';

const IG = 'http://hl7.org/fhir/us/davinci-alerts';

export const DAVINCI_NOTIFICATION = {
  bundleProfile: `${IG}/StructureDefinition/notifications-bundle`,
  messageHeaderProfile: `${IG}/StructureDefinition/notifications-messageheader`,
  encounterProfile: `${IG}/StructureDefinition/adt-notification-encounter`,
  eventSystem: `${IG}/CodeSystem/notification-event`,
} as const;

export type NotificationEvent = 'admit' | 'transfer' | 'discharge';

const EVENTS: Record<NotificationEvent, { code: string; display: string; headerProfile: string }> = {
  admit: {
    code: 'notification-admit',
    display: 'Admit Notification',
    headerProfile: `${IG}/StructureDefinition/admit-notification-messageheader`,
  },
  transfer: {
    code: 'notification-transfer',
    display: 'Transfer Notification',
    headerProfile: `${IG}/StructureDefinition/transfer-notification-messageheader`,
  },
  discharge: {
    code: 'notification-discharge',
    display: 'Discharge Notification',
    headerProfile: `${IG}/StructureDefinition/discharge-notification-messageheader`,
  },
};

/** eventCoding and event-specific MessageHeader profile for a notification event. */
export function notificationEventCoding(event: NotificationEvent): { system: string; code: string; display: string } {
  const e = EVENTS[event];
  return { system: DAVINCI_NOTIFICATION.eventSystem, code: e.code, display: e.display };
}

export function notificationHeaderProfile(event: NotificationEvent): string {
  return EVENTS[event].headerProfile;
}

/**
 * ADT trigger event (MSH-9.2 / EVN-1) -> notification event: A01 admit and A04 register (ED and
 * outpatient arrivals are what care coordinators act on) and A06 (an outpatient becomes an inpatient)
 * -> admit; A02 and A07 (an inpatient continues as an outpatient) -> transfer; A03 -> discharge.
 * The IG defines no other ADT events (pending, cancel, leave, merge …): those are not sent (undefined).
 */
export function notificationEventForTrigger(trigger: string): NotificationEvent | undefined {
  switch (trigger.trim().toUpperCase()) {
    case 'A01':
    case 'A04':
    case 'A06':
      return 'admit';
    case 'A02':
    case 'A07':
      return 'transfer';
    case 'A03':
      return 'discharge';
    default:
      return undefined;
  }
}

export type NotificationParty = Organization | Practitioner | PractitionerRole;

export interface NotificationBundleInput extends AddressOptions {
  event: NotificationEvent;
  /** Bundle.id (required by the profile); deterministic per source message so resends match. */
  bundleId: string;
  headerId: string;
  /** Bundle.timestamp and, by default, nothing else: an instant. */
  timestamp: string;
  encounter: Encounter;
  patient: Patient;
  /** Real-world sender; included in the Bundle (aggregation "bundled"). */
  sender: NotificationParty;
  /** Message source application; R4 requires source.endpoint. */
  source: { endpoint: string; name?: string; software?: string; version?: string };
  /** At most one destination in this IG. */
  destination?: { endpoint: string; name?: string; receiver?: Reference };
  /** Author (Practitioner/PractitionerRole) and responsible party; included in the Bundle when given. */
  author?: Practitioner | PractitionerRole;
  responsible?: NotificationParty;
  /** Anything else to carry: Location, Condition, Coverage, Provenance, ... */
  extraResources?: readonly FhirResource[];
}

/** A Da Vinci notification message Bundle with the Encounter as MessageHeader.focus. */
export function buildNotificationBundle(input: NotificationBundleInput): Bundle {
  const address: AddressOptions = { style: input.style, baseUrl: input.baseUrl };
  const subject = input.encounter.subject?.reference;
  const patientRef = reference(input.patient, address).reference;
  if (subject !== patientRef) {
    throw new BundleAssemblyError(`Encounter.subject must reference the bundled Patient (${patientRef})`);
  }
  const header: MessageHeader = {
    resourceType: 'MessageHeader',
    id: input.headerId,
    meta: { profile: [DAVINCI_NOTIFICATION.messageHeaderProfile, notificationHeaderProfile(input.event)] },
    eventCoding: notificationEventCoding(input.event),
    ...(input.destination ? { destination: [{ ...input.destination }] } : {}),
    sender: reference(input.sender, address),
    ...(input.author ? { author: reference(input.author, address) } : {}),
    source: { ...input.source },
    ...(input.responsible ? { responsible: reference(input.responsible, address) } : {}),
    focus: [reference(input.encounter, address)],
  };

  // Encounter and Patient right after the header, then the parties, then the rest; a resource given
  // twice as the same object (e.g. sender and responsible) is bundled once.
  const resources: FhirResource[] = [];
  const seen = new Map<string, FhirResource>();
  const add = (r: FhirResource | undefined): void => {
    if (!r) return;
    const key = `${r.resourceType}/${r.id}`;
    const earlier = seen.get(key);
    if (earlier === r) return;
    if (earlier) throw new BundleAssemblyError(`two different resources share the address ${key}`);
    seen.set(key, r);
    resources.push(r);
  };
  add(input.encounter);
  add(input.patient);
  add(input.sender);
  add(input.author);
  add(input.responsible);
  for (const r of input.extraResources ?? []) add(r);

  return buildMessageBundle({
    ...address,
    id: input.bundleId,
    meta: { profile: [DAVINCI_NOTIFICATION.bundleProfile] },
    timestamp: input.timestamp,
    header,
    resources,
  });
}
