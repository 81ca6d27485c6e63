import type { CodeableConcept, Encounter, EncounterLocation, EncounterParticipant, Patient } from 'fhir/r4';
import type { EventRule } from './events.js';
import { readCWE, readCX } from '../../src/hl7v2/index.js';
import { codeableConcept, mapCode, tableConcept } from './codes.js';
import { ref, type ConversionContext } from './context.js';
import { identifierFromCX } from './datatypes.js';
import { zExtensions } from './patient.js';
import { locationFromPL, organizationForFacility, practitionerFromXCN } from './participants.js';

const ENCOUNTER_STATUS = new Set([
  'planned',
  'arrived',
  'triaged',
  'in-progress',
  'onleave',
  'finished',
  'cancelled',
  'entered-in-error',
  'unknown',
]);
const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';

/**
 * Whether PV1 describes a visit worth an Encounter. Person-level events (A28/A31, A40) often
 * carry an empty PV1 or class N (not applicable); those produce no Encounter.
 */
export function hasVisit(ctx: ConversionContext): boolean {
  const pv1 = ctx.segment('PV1');
  if (!pv1) return false;
  const cls = ctx.value('patientClass');
  const visit = ctx.value('visitNumber');
  const admit = ctx.value('admitTime');
  const loc = ctx.value('location');
  if (cls === 'N' && !visit) return false;
  return Boolean(cls || visit || admit || loc);
}

/**
 * Encounter status (see mappings/README.md): a discharge time means finished; otherwise the
 * IG's Event[EncounterStatus] map by trigger event; otherwise PatientClass[EncounterStatus].
 */
export function encounterStatus(ctx: ConversionContext, event: string, rule?: EventRule): Encounter['status'] {
  if (rule?.status) return rule.status;
  if (ctx.value('dischargeTime')) return 'finished';
  const byEvent = mapCode(ctx, 'Event[EncounterStatus]', event)?.code;
  if (byEvent && byEvent !== 'unknown' && ENCOUNTER_STATUS.has(byEvent)) return byEvent as Encounter['status'];
  const byClass = mapCode(ctx, 'PatientClass[EncounterStatus]', ctx.value('patientClass'))?.code;
  if (byClass && ENCOUNTER_STATUS.has(byClass)) return byClass as Encounter['status'];
  return 'unknown';
}

export function buildEncounter(ctx: ConversionContext, patient: Patient, event: string, rule?: EventRule): Encounter {
  const visitLoc = ctx.locate('visitNumber');
  const visit = visitLoc.seg ? identifierFromCX(ctx, readCX(visitLoc.seg, visitLoc.field), 'PV1-19') : undefined;
  if (visit && !visit.type) visit.type = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'VN' }] };
  const admitRaw = ctx.value('admitTime');
  const facility = ctx.msg.msh.get(4);
  const id = visit
    ? ctx.idFor('Encounter', visit.system!, visit.value!)
    : admitRaw
      ? ctx.idFromParts('Encounter', patient.id!, facility, admitRaw)
      : ctx.idFromParts('Encounter', patient.id!, ctx.msg.sender, ctx.msg.controlId);
  if (!visit) ctx.warn('PV1-19: no visit number; Encounter id derived from patient and admit time');

  const clsCode = ctx.value('patientClass');
  const cls = mapCode(ctx, 'PatientClass[EncounterClass]', clsCode);
  const enc: Encounter = {
    resourceType: 'Encounter',
    id,
    status: encounterStatus(ctx, event, rule),
    class: cls
      ? { system: cls.system, code: cls.code, display: cls.display }
      : { system: 'http://terminology.hl7.org/CodeSystem/v3-NullFlavor', code: 'UNK', display: 'unknown' },
    subject: ref(patient),
  };
  if (clsCode && !cls) ctx.warn('PV1-2: patient class not in PatientClass map; class set to unknown');
  const ext = zExtensions(ctx, 'Encounter');
  if (ext.length) enc.extension = ext;
  if (visit) enc.identifier = [visit];

  const start = ctx.dateTime(admitRaw, 'PV1-44');
  // A cancelled discharge (A13) still carries the discharge time it cancels: not an end.
  const end = event === 'A13' ? undefined : ctx.dateTime(ctx.value('dischargeTime'), 'PV1-45');
  if (start || end) enc.period = { start, end };

  const service = ctx.value('hospitalService');
  if (service) enc.serviceType = tableConcept(service, '0069');

  enc.participant = participants(ctx, rule);
  const locations: EncounterLocation[] = [];
  const place = (name: 'location' | 'priorLocation' | 'temporaryLocation' | 'pendingLocation', status: EncounterLocation['status']) => {
    const at = ctx.locate(name);
    const l = at.seg ? locationFromPL(ctx, at.seg, at.field) : undefined;
    if (l) locations.push({ location: ref(l.location), status });
  };
  place('location', 'active');
  if (rule?.priorCompleted) place('priorLocation', 'completed');
  if (rule?.temporary) place('temporaryLocation', rule.temporary);
  if (rule?.pending) place('pendingLocation', 'planned');
  if (locations.length) enc.location = locations;
  const loc = ctx.locate('location');

  const facilityCode = loc.seg?.get(loc.field, 1, 4, 1) || facility;
  const org = organizationForFacility(ctx, facilityCode);
  if (org) enc.serviceProvider = ref(org);

  enc.hospitalization = {
    admitSource: tableConcept(ctx.value('admitSource'), '0023'),
    reAdmission: tableConcept(ctx.value('readmission'), '0092'),
    dischargeDisposition: dischargeDisposition(ctx),
  };

  // Feeds commonly repeat the admit reason (PV2-3) as a DG1 diagnosis: one reason per code.
  const reasons: CodeableConcept[] = [];
  const seen = new Set<string>();
  const addReason = (r: CodeableConcept | undefined) => {
    if (!r) return;
    const c = r.coding?.[0];
    const key = c?.code ? `${c.system ?? ''}|${c.code}` : `text|${r.text ?? ''}`;
    if (seen.has(key)) return;
    seen.add(key);
    reasons.push(r);
  };
  const reasonLoc = ctx.locate('admitReason');
  if (reasonLoc.seg) addReason(codeableConcept(ctx, readCWE(reasonLoc.seg, reasonLoc.field)));
  for (const dg1 of ctx.maps('DG1') ? ctx.segments('DG1') : []) {
    const r = codeableConcept(ctx, readCWE(dg1, 3));
    addReason(r ?? (dg1.get(4) ? { text: dg1.get(4) } : undefined));
  }
  if (reasons.length) enc.reasonCode = reasons;
  return ctx.add(enc);
}

function dischargeDisposition(ctx: ConversionContext) {
  const code = ctx.value('dischargeDisposition');
  if (!code) return undefined;
  const m = mapCode(ctx, 'DischargeDisposition', code);
  return m ? { coding: [{ system: m.system, code: m.code, display: m.display }] } : tableConcept(code, '0112');
}

function participants(ctx: ConversionContext, rule?: EventRule): EncounterParticipant[] {
  // A54/A61: the new attending/consulting doctor takes over when the event occurred.
  const changedAt = rule?.participantChange
    ? (ctx.dateTime(ctx.value('eventOccurred'), 'EVN-6') ?? ctx.dateTime(ctx.value('recordedTime'), 'EVN-2'))
    : undefined;
  const out: EncounterParticipant[] = [];
  const roles: [Parameters<ConversionContext['locate']>[0], string, string][] = [
    ['attending', 'ATND', 'attender'],
    ['referring', 'REF', 'referrer'],
    ['consulting', 'CON', 'consultant'],
    ['admitting', 'ADM', 'admitter'],
  ];
  for (const [name, code, display] of roles) {
    const { seg, field } = ctx.locate(name);
    if (!seg) continue;
    for (let r = 1; r <= seg.repetitions(field); r++) {
      const p = practitionerFromXCN(ctx, seg, field, r);
      if (!p) continue;
      const part: EncounterParticipant = { type: [{ coding: [{ system: PARTICIPATION, code, display }] }], individual: ref(p) };
      if (changedAt && name === rule!.participantChange) part.period = { start: changedAt };
      out.push(part);
    }
  }
  return out;
}
