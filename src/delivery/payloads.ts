import type { Bundle, Organization, Resource } from 'fhir/r4';
import type { Conversion } from '../conversion/types.js';
import { buildNotificationBundle, notificationEventForTrigger } from '../fhir/davinci.js';
import { uuidV5 } from '../fhir/ids.js';

export type PayloadKind = 'fhir-bundle' | 'davinci-notification' | 'hl7v2';

/** What each destination type is sent. */
export function payloadKindFor(destinationType: string): PayloadKind | undefined {
  switch (destinationType) {
    case 'webhook':
    case 'fhir':
    case 'sftp': // dropped as one JSON file per delivery
      return 'fhir-bundle';
    case 'fhir-messaging':
      return 'davinci-notification';
    case 'mllp':
      return 'hl7v2';
    default:
      return undefined;
  }
}

/**
 * The Da Vinci Unsolicited Notification for a conversion, or undefined when the event is
 * not an admit/transfer/discharge (or there is no Encounter): such events are not sent there.
 */
export function davinciNotification(conversion: Conversion): Bundle | undefined {
  const event = notificationEventForTrigger(conversion.event);
  const { encounter, patient } = conversion;
  if (!event || !encounter || !patient) return undefined;
  const resources = (conversion.bundle.entry ?? []).map((e) => e.resource!) as Resource[];
  const header = resources.find((r) => r.resourceType === 'MessageHeader') as import('fhir/r4').MessageHeader;
  const senderId = header.sender?.reference?.replace('urn:uuid:', '');
  const sender = resources.find((r) => r.resourceType === 'Organization' && r.id === senderId) as Organization | undefined;
  if (!sender) return undefined;
  const skip = new Set<Resource>([header, patient, encounter, sender]);
  const extra = resources.filter((r) => !skip.has(r) && r.resourceType !== 'Provenance');
  const base = conversion.bundle.id!;
  return buildNotificationBundle({
    event,
    bundleId: uuidV5(`davinci|${base}`),
    headerId: uuidV5(`davinci-header|${base}`),
    timestamp: conversion.bundle.timestamp ?? new Date().toISOString(),
    encounter,
    patient,
    sender,
    source: { endpoint: header.source.endpoint, name: header.source.name },
    destination: header.destination?.[0] ? { endpoint: header.destination[0].endpoint, name: header.destination[0].name } : undefined,
    extraResources: extra as import('fhir/r4').FhirResource[],
  });
}
