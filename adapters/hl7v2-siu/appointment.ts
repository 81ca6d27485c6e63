import type { Appointment, AppointmentParticipant, CodeableConcept, Identifier, Patient } from 'fhir/r4';
import type { Segment } from '../../src/hl7v2/index.js';
import { readCWE, readEI } from '../../src/hl7v2/index.js';
import { codeableConcept, mapCode } from '../hl7v2-adt/codes.js';
import { ref, type ConversionContext } from '../hl7v2-adt/context.js';
import { UnsupportedMessageError } from '../hl7v2-adt/index.js';
import { identifierFromEI, notesOf } from '../hl7v2-adt/observation.js';
import { locationFromPL, practitionerFromXCN } from '../hl7v2-adt/participants.js';
import { addMinutes, durationMinutes } from './timing.js';

type Status = Appointment['status'];
type ParticipantStatus = AppointmentParticipant['status'];

/** Appointment status by trigger event; events left out take SCH-25 (see mappings/README.md). */
const STATUS_BY_EVENT: Record<string, Status> = {
  S12: 'booked',
  S13: 'booked',
  S15: 'cancelled',
  S16: 'cancelled',
  S17: 'entered-in-error',
  S26: 'noshow',
};
/** Filler status codes (v2 table 0278 and common local spellings) the IG map leaves open. */
const EXTRA_FILLER_STATUS: Record<string, Status> = {
  DISCONTINUED: 'cancelled',
  NOSHOW: 'noshow',
  OVERBOOK: 'booked',
  SCHEDULED: 'booked',
  CONFIRMED: 'booked',
  ARRIVED: 'arrived',
  CHECKEDIN: 'checked-in',
};
const APPOINTMENT_STATUS = new Set([
  'proposed',
  'pending',
  'booked',
  'arrived',
  'fulfilled',
  'cancelled',
  'noshow',
  'entered-in-error',
  'checked-in',
  'waitlist',
]);
const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';

/** The resource segments (AIS, AIG, AIL, AIP) a participant or time can come from. */
interface Resources {
  ais: Segment[];
  aig: Segment[];
  ail: Segment[];
  aip: Segment[];
}

/** SCH + AIS/AIG/AIL/AIP (+ NTE) → Appointment per the IG's SCH/AI*[Appointment] maps. */
export function buildAppointment(ctx: ConversionContext, sch: Segment, patient: Patient): Appointment {
  const msg = ctx.msg;
  const event = msg.triggerEvent;
  const res: Resources = {
    ais: msg.segmentsNamed('AIS'),
    aig: msg.segmentsNamed('AIG'),
    ail: msg.segmentsNamed('AIL'),
    aip: msg.segmentsNamed('AIP'),
  };
  const placer = identifierFromEI(ctx, readEI(sch, 1), 'appointment', 'PLAC');
  const filler = identifierFromEI(ctx, readEI(sch, 2), 'appointment', 'FILL');
  const status = appointmentStatus(ctx, event, sch.get(25));
  const { start, end } = appointmentTimes(ctx, sch, res);
  if ((!start || !end) && status !== 'cancelled' && status !== 'waitlist' && status !== 'proposed') {
    // R4 app-3: only proposed, cancelled or waitlisted appointments may lack start and end.
    throw new UnsupportedMessageError(
      `SIU^${event}: no appointment start and end (SCH-11, TQ1, AIS/AIG/AIL/AIP start and duration)`,
      '201',
    );
  }
  const key = filler ?? placer;
  if (!key) ctx.warn('SCH-1/SCH-2: no appointment id; Appointment id derived from patient and start');
  const reason = readCWE(sch, 7);
  const reasonIsType = /^HL70277$/i.test(reason.system);
  const appointment: Appointment = {
    resourceType: 'Appointment',
    id: key ? ctx.idFor('Appointment', key.system!, key.value!) : ctx.idFromParts('Appointment', patient.id!, start ?? sch.get(11, 1, 4)),
    identifier: [placer, filler].filter((i): i is Identifier => i !== undefined),
    status,
    serviceType: res.ais.map((s) => codeableConcept(ctx, readCWE(s, 3))).filter((c): c is CodeableConcept => c !== undefined),
    appointmentType: codeableConcept(ctx, readCWE(sch, 8)) ?? (reasonIsType ? codeableConcept(ctx, reason) : undefined),
    reasonCode: !reasonIsType && codeableConcept(ctx, reason) ? [codeableConcept(ctx, reason)!] : undefined,
    start: start && end ? start : undefined,
    end: start && end ? end : undefined,
    minutesDuration: minutesDuration(sch),
    comment:
      notesOf(leadingNotes(msg.segments))
        .map((n) => n.text)
        .join('\n') || undefined,
    participant: [
      { actor: ref(patient), status: 'accepted' },
      ...res.aip.map((s) => personnel(ctx, s)),
      ...res.ail.map((s) => location(ctx, s)),
      ...res.aig.map((s) => generalResource(ctx, s)),
    ].filter((p): p is AppointmentParticipant => p !== undefined),
  };
  return ctx.add(appointment);
}

function appointmentStatus(ctx: ConversionContext, event: string, fillerStatus: string): Status {
  const byEvent = STATUS_BY_EVENT[event];
  if (byEvent) return byEvent;
  if (!fillerStatus) return 'booked';
  const mapped =
    mapCode(ctx, 'FillerStatusCodes[Appointment]', fillerStatus)?.code ??
    EXTRA_FILLER_STATUS[fillerStatus.toUpperCase().replace(/[\s-]/g, '')];
  if (mapped && APPOINTMENT_STATUS.has(mapped)) return mapped as Status;
  ctx.warn('SCH-25: filler status not in the status map; status booked');
  return 'booked';
}

/**
 * Start and end as instants: SCH-11 (TQ start^end, v2.5 and earlier), else TQ1-7/8, else the
 * earliest resource start with its duration.
 */
function appointmentTimes(ctx: ConversionContext, sch: Segment, res: Resources): { start?: string; end?: string } {
  const tq1 = ctx.msg.segment('TQ1');
  let startRaw = sch.get(11, 1, 4) || tq1?.get(7) || '';
  let endRaw = sch.get(11, 1, 5) || tq1?.get(8) || '';
  if (!startRaw) {
    const starts = resourceTimes(res).filter((t) => t.start);
    starts.sort((a, b) => (a.start < b.start ? -1 : 1));
    startRaw = starts[0]?.start ?? '';
    if (!endRaw && starts[0]?.minutes !== undefined) endRaw = addMinutes(startRaw, starts[0].minutes) ?? '';
  }
  if (startRaw && !endRaw) {
    const minutes = durationMinutes(sch.get(9), sch.get(10)) ?? durationMinutes(sch.get(11, 1, 3), '');
    if (minutes !== undefined) endRaw = addMinutes(startRaw, minutes) ?? '';
  }
  return { start: ctx.instant(startRaw, 'SCH-11.4'), end: ctx.instant(endRaw, 'SCH-11.5') };
}

/** Each resource segment's start (v2 DTM) and duration in minutes: [start, duration, units] fields differ by segment. */
function resourceTimes(res: Resources): { start: string; minutes?: number }[] {
  const read = (s: Segment, start: number, duration: number) => ({
    start: s.get(start),
    minutes: durationMinutes(s.get(duration), s.get(duration + 1)),
  });
  return [
    ...res.ais.map((s) => read(s, 4, 7)),
    ...res.aig.map((s) => read(s, 8, 11)),
    ...res.ail.map((s) => read(s, 6, 9)),
    ...res.aip.map((s) => read(s, 6, 9)),
  ];
}

function minutesDuration(sch: Segment): number | undefined {
  const m = durationMinutes(sch.get(9), sch.get(10));
  return m !== undefined && m >= 1 && Number.isInteger(m) ? m : undefined;
}

/** NTE segments right after SCH (before the patient and resource groups): the appointment's comment. */
function leadingNotes(segments: readonly Segment[]): Segment[] {
  const i = segments.findIndex((s) => s.name === 'SCH');
  const out: Segment[] = [];
  for (let j = i + 1; j > 0 && j < segments.length && segments[j].name === 'NTE'; j++) out.push(segments[j]);
  return out;
}

/** A resource's filler status (or, lacking one, its segment action code) as a participant status. */
function participantStatus(fillerStatus: string, actionCode: string): ParticipantStatus {
  const s = fillerStatus.toUpperCase();
  if (/^(CANCELL?ED|DELETED|DISCONTINUED|NOSHOW)$/.test(s)) return 'declined';
  if (/^(PENDING|WAITLIST|OVERBOOK)$/.test(s)) return 'tentative';
  if (!s && /^[CD]$/i.test(actionCode)) return 'declined';
  return 'accepted';
}

function period(ctx: ConversionContext, seg: Segment, start: number, duration: number, where: string) {
  const raw = seg.get(start);
  const minutes = durationMinutes(seg.get(duration), seg.get(duration + 1));
  const from = ctx.dateTime(raw, `${where}-${start}`);
  const to = raw && minutes !== undefined ? ctx.dateTime(addMinutes(raw, minutes) ?? '', `${where}-${duration}`) : undefined;
  return from ? { start: from, end: to } : undefined;
}

/** AIP: the clinician the patient sees (a follow-up with the PCP names the PCP here). */
function personnel(ctx: ConversionContext, aip: Segment): AppointmentParticipant | undefined {
  const p = practitionerFromXCN(ctx, aip, 3);
  const type = codeableConcept(ctx, readCWE(aip, 4));
  if (!p && !type) return undefined;
  return {
    actor: p ? ref(p) : undefined,
    type: [type ?? { coding: [{ system: PARTICIPATION, code: 'ATND', display: 'attender' }] }],
    status: participantStatus(aip.get(12), aip.get(2)),
    period: period(ctx, aip, 6, 9, 'AIP'),
  };
}

function location(ctx: ConversionContext, ail: Segment): AppointmentParticipant | undefined {
  const l = locationFromPL(ctx, ail, 3);
  if (!l) return undefined;
  return { actor: ref(l.location), status: participantStatus(ail.get(12), ail.get(2)), period: period(ctx, ail, 6, 9, 'AIL') };
}

/** AIG: a general resource (equipment, a team, sometimes a person) named by a code: display only. */
function generalResource(ctx: ConversionContext, aig: Segment): AppointmentParticipant | undefined {
  const id = readCWE(aig, 3);
  const type = codeableConcept(ctx, readCWE(aig, 4));
  const display = id.text || id.code;
  if (!display && !type) return undefined;
  return {
    actor: display ? { display } : undefined,
    type: type ? [type] : undefined,
    status: participantStatus(aig.get(14), aig.get(2)),
    period: period(ctx, aig, 8, 11, 'AIG'),
  };
}
