import type { Bundle, BundleEntry, Encounter, MessageHeader, Patient, Provenance, Resource } from 'fhir/r4';
import { UnsupportedMessageError } from '../../src/conversion/errors.js';
import type { Conversion } from '../../src/conversion/types.js';
import type { Hl7Message } from '../../src/hl7v2/index.js';
import type { MappingProfile } from '../../src/mapping/profile-schema.js';
import { OID, URI } from './codes.js';
import { compact, ConversionContext, ref } from './context.js';
import { buildAccident, buildAllergies, buildDiagnoses, buildProcedures, disabilityExtensions } from './clinical.js';
import { buildEncounter, hasVisit } from './encounter.js';
import { ADT_EVENTS, NOT_CONVERTED, SUPPORTED_EVENTS, type EventRule } from './events.js';
import { buildCoverages, buildGuarantors } from './insurance.js';
import { accountFor, applyRetirements, linkPatients } from './merge.js';
import { buildObservations } from './observation.js';
import { organizationForFacility } from './participants.js';
import { buildNextOfKin, buildPatient, MappingError } from './patient.js';
import { buildRoles } from './roles.js';

export { SUPPORTED_EVENTS } from './events.js';
// A message type other than ADT we still accept when its trigger is an ADT event (ACK^A01 is not).
const ADT_TYPES = new Set(['ADT']);

/** The ADT adapter's Conversion: an ADT message always has a patient. */
export interface AdtConversion extends Conversion {
  patient: Patient;
}

const V2_EVENTS = 'http://terminology.hl7.org/CodeSystem/v2-0003';

/**
 * Converts one ADT message into a FHIR R4 message Bundle per the HL7 v2-to-FHIR IG.
 * Empty members are left as `undefined` (cheaper than deleting them): serialize the Bundle with
 * JSON.stringify, or compare it with deep-equality that ignores undefined, before handing it on.
 */
export function convertAdt(msg: Hl7Message, profile: MappingProfile): AdtConversion {
  const type = msg.messageType;
  const event = msg.triggerEvent;
  if (!ADT_TYPES.has(type)) throw new UnsupportedMessageError(`message type ${type}^${event} is not supported (ADT only)`, '200');
  if (!event) throw new UnsupportedMessageError('ADT message without a trigger event (MSH-9.2 is empty)', '201');
  const rule = ADT_EVENTS[event];
  if (!rule)
    throw new UnsupportedMessageError(
      NOT_CONVERTED[event] ?? `ADT^${event} is not supported (supported: ${SUPPORTED_EVENTS.join(' ')})`,
      '201',
    );
  const ctx = new ConversionContext(msg, profile);
  const groups = patientGroups(ctx);
  const converted = groups.map((g) => convertGroup(g, event, rule, groups.length === 1));
  const { patient, encounter } = converted[0]!;
  if (rule.kind === 'link' && converted[1]) linkPatients(patient, converted[1].patient);

  const focus = converted.map((c) => c.encounter ?? c.patient);
  const { bundle, timestamp } = messageBundle(ctx, event, focus, rule.activity ?? 'UPDATE');
  const first = groups[0]!;
  const loc = first.locate('location');
  const facilityCodes = [loc.seg?.get(loc.field, 1, 4, 1) ?? '', msg.msh.get(4, 1, 1)].filter(Boolean);
  const when = encounter?.period?.end ?? encounter?.period?.start ?? ctx.dateTime(ctx.value('recordedTime'), 'EVN-2') ?? timestamp;
  return {
    adapterId: 'hl7v2-adt',
    messageType: type,
    bundle,
    warnings: ctx.warnings,
    event,
    patient,
    encounter,
    // The first patient's only: a swap (A17) or link (A24) names two people, and routing one
    // person's event to the other's care team would disclose it (see mappings/README.md).
    patientIdentifiers: patient.identifier ?? [],
    sender: msg.sender,
    patientClass: first.value('patientClass'),
    facilityCodes,
    hospitalService: first.value('hospitalService'),
    // FHIR dateTimes carry the local offset, so their first ten characters are the local date.
    eventDate: when && when.length >= 10 ? when.slice(0, 10) : undefined,
  };
}

/**
 * One context per patient group: the whole message when it names one patient (the common case,
 * no copying), else the header segments plus each PID's group (A17 swap, A24 link, A39 merges …).
 */
function patientGroups(ctx: ConversionContext): ConversionContext[] {
  const segs = ctx.msg.segments;
  const starts: number[] = [];
  for (let i = 0; i < segs.length; i++) if (segs[i]!.name === 'PID') starts.push(i);
  if (starts.length <= 1) return [ctx];
  const header = segs.slice(0, starts[0]);
  return starts.map((start, k) => ctx.forGroup([...header, ...segs.slice(start, starts[k + 1] ?? segs.length)]));
}

/** Patient, visit and the clinical segments of one patient group, per the IG segment maps. */
function convertGroup(
  ctx: ConversionContext,
  event: string,
  rule: EventRule,
  onlyGroup: boolean,
): { patient: Patient; encounter?: Encounter } {
  const patient = buildPatient(ctx);
  const encounter = hasVisit(ctx) ? buildEncounter(ctx, patient, event, rule) : undefined;
  if (rule.kind === 'merge' || rule.kind === 'move') applyRetirements(ctx, event, rule, patient, encounter, onlyGroup);
  // A29 deletes the person: FHIR Patient has no entered-in-error, `active: false` retires the record.
  if (event === 'A29') patient.active = false;
  accountFor(ctx, patient);
  buildNextOfKin(ctx, patient);
  disabilityExtensions(ctx, patient);
  if (ctx.maps('DG1')) buildDiagnoses(ctx, patient, encounter);
  if (ctx.maps('AL1')) buildAllergies(ctx, patient, 'AL1');
  if (ctx.maps('IAM')) buildAllergies(ctx, patient, 'IAM');
  if (ctx.maps('PR1')) buildProcedures(ctx, patient, encounter);
  if (ctx.maps('IN1')) buildCoverages(ctx, patient);
  if (ctx.maps('GT1')) buildGuarantors(ctx, patient);
  if (ctx.maps('ACC')) buildAccident(ctx, patient, encounter);
  buildRoles(ctx, patient, encounter);
  if (ctx.maps('OBX')) buildObservations(ctx, patient, encounter);
  return { patient, encounter };
}

function endpointFor(ctx: ConversionContext, app: string, universalId: string): string {
  if (OID.test(universalId)) return `urn:oid:${universalId}`;
  if (URI.test(universalId)) return universalId;
  return ctx.localSystem('app', app || 'unknown');
}

export function messageHeader(ctx: ConversionContext, event: string, focus: Resource | readonly Resource[]): MessageHeader {
  const msh = ctx.msg.msh;
  const sendingApp = msh.get(3, 1, 1);
  const sender = organizationForFacility(ctx, msh.get(4, 1, 1), msh.get(4, 1, 2));
  const receivingApp = msh.get(5, 1, 1);
  const receiver = organizationForFacility(ctx, msh.get(6, 1, 1), msh.get(6, 1, 2));
  const header: MessageHeader = {
    resourceType: 'MessageHeader',
    id: ctx.idFromParts('MessageHeader', ctx.msg.sender, ctx.msg.controlId),
    eventCoding: { system: V2_EVENTS, code: event },
    destination:
      receivingApp || receiver
        ? [
            {
              name: receivingApp || undefined,
              endpoint: endpointFor(ctx, receivingApp, msh.get(5, 1, 2)),
              receiver: receiver ? ref(receiver) : undefined,
            },
          ]
        : undefined,
    sender: sender ? ref(sender) : undefined,
    source: {
      name: sendingApp || undefined,
      software: undefined,
      version: undefined,
      endpoint: endpointFor(ctx, sendingApp, msh.get(3, 1, 2)),
    },
    reason: ctx.value('eventReason')
      ? { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0062', code: ctx.value('eventReason') }] }
      : undefined,
    focus: (Array.isArray(focus) ? focus : [focus]).map((r: Resource) => ref(r)),
  };
  return ctx.add(header);
}

/**
 * The FHIR message Bundle around everything built in `ctx`: MessageHeader first (focused on
 * `focus`), Provenance last. Every HL7 v2 adapter ends here, so the envelope is written once.
 */
export function messageBundle(
  ctx: ConversionContext,
  event: string,
  focus: Resource | readonly Resource[],
  activity: 'CREATE' | 'UPDATE' | 'DELETE',
): { bundle: Bundle; timestamp: string | undefined } {
  const msg = ctx.msg;
  const header = messageHeader(ctx, event, focus);
  const provenance = buildProvenance(ctx, event, header, activity);
  const resources = ctx.all();
  // One pass drops every empty value the builders left (they assign optional fields freely).
  for (const r of resources) compact(r);
  const ordered: Resource[] = [header, ...resources.filter((r) => r !== header && r !== provenance), provenance];
  const timestamp = ctx.instant(msg.msh.get(7), 'MSH-7');
  const bundle: Bundle = {
    resourceType: 'Bundle',
    id: ctx.idFromParts('Bundle', msg.sender, msg.controlId),
    type: 'message',
    identifier: { system: ctx.namespaceSystem('message'), value: `${msg.sender}|${msg.controlId}` },
    timestamp,
    entry: ordered.map((r): BundleEntry => ({ fullUrl: `urn:uuid:${r.id}`, resource: r })),
  };
  return { bundle, timestamp };
}

/** Provenance of the conversion; `activity` defaults to the ADT event's (CREATE, UPDATE or DELETE). */
export function buildProvenance(
  ctx: ConversionContext,
  event: string,
  header: MessageHeader,
  activity: 'CREATE' | 'UPDATE' | 'DELETE' = ADT_EVENTS[event]?.activity ?? 'UPDATE',
): Provenance {
  const msh = ctx.msg.msh;
  const recorded = ctx.instant(ctx.value('recordedTime'), 'EVN-2') ?? ctx.instant(msh.get(7), 'MSH-7') ?? new Date().toISOString();
  const targets = ctx.all().filter((r) => r !== header);
  const sender = organizationForFacility(ctx, msh.get(4, 1, 1), msh.get(4, 1, 2));
  const provenance: Provenance = {
    resourceType: 'Provenance',
    id: ctx.idFromParts('Provenance', ctx.msg.sender, ctx.msg.controlId),
    target: targets.map((r) => ref(r)),
    occurredDateTime: ctx.dateTime(ctx.value('eventOccurred'), 'EVN-6'),
    recorded,
    activity: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: activity }],
    },
    agent: [
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'author' }] },
        who: sender ? ref(sender) : { display: ctx.msg.sender },
      },
    ],
    entity: [
      {
        role: 'source',
        what: {
          identifier: { system: ctx.namespaceSystem('message'), value: `${ctx.msg.sender}|${ctx.msg.controlId}` },
          display: `HL7 v2 ${ctx.msg.messageType}^${event} ${ctx.msg.controlId}`,
        },
      },
    ],
  };
  return ctx.add(provenance);
}

export { MappingError, UnsupportedMessageError };
