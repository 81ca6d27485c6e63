import type { DiagnosticReport, Observation } from 'fhir/r4';
import type { Conversion } from '../../src/conversion/types.js';
import type { Hl7Message, Segment } from '../../src/hl7v2/index.js';
import type { MappingProfile } from '../../src/mapping/profile-schema.js';
import { ConversionContext, ref } from '../hl7v2-adt/context.js';
import { UnsupportedMessageError } from '../hl7v2-adt/index.js';
import { observationsFrom } from '../hl7v2-adt/observation.js';
import { buildPatient } from '../hl7v2-adt/patient.js';
import { messageConversion, referencedVisit } from '../hl7v2-common/message-bundle.js';
import { buildDiagnosticReport, type OrderGroup } from './report.js';

export const ORU_EVENTS = ['R01'] as const;

/**
 * ORU^R01 → FHIR message Bundle per the IG's ORU_R01 message map: Patient (PID, PD1), the visit
 * (PV1), one DiagnosticReport per OBR with its OBX results as Observations, and OBX before any
 * OBR as Observations of the patient. One patient per message: a second PATIENT_RESULT group is
 * not converted (warning), so no result is ever attached to the wrong patient.
 */
export function convertOru(msg: Hl7Message, profile: MappingProfile): Conversion {
  const ctx = new ConversionContext(msg, profile);
  const patient = buildPatient(ctx);
  const encounter = referencedVisit(ctx, patient);
  const { patientResults, orders } = groupSegments(ctx, msg.segments);
  if (orders.length === 0 && !patientResults.some((s) => s.name === 'OBX')) {
    throw new UnsupportedMessageError(`ORU^${msg.triggerEvent} without OBR or OBX: no results to convert`, '201');
  }
  const loose = observationsFrom(ctx, patientResults, { subject: patient, encounter, key: `${patient.id}|patient`, identity: 'set-id' });
  const reports: DiagnosticReport[] = [];
  const observations: Observation[] = [...loose];
  for (const group of orders) {
    const report = buildDiagnosticReport(ctx, group, patient, encounter);
    const results = observationsFrom(ctx, group.results, {
      subject: patient,
      encounter,
      key: report.id!,
      identity: 'set-id',
      effective: report.effectiveDateTime ?? report.effectivePeriod?.start,
    });
    if (results.length) report.result = results.map((o: Observation) => ref(o));
    observations.push(...results);
    reports.push(report);
  }
  const focus = reports[0] ?? loose[0];
  const statuses = [...reports.map((r) => r.status), ...observations.map((o) => o.status)];
  return messageConversion({
    adapterId: 'hl7v2-oru',
    ctx,
    focus,
    patient,
    encounter,
    // A correction or an amendment updates what the receiver has; anything else reports anew.
    activity: statuses.some((s) => s === 'corrected' || s === 'amended' || s === 'entered-in-error') ? 'UPDATE' : 'CREATE',
    when: reports[0]?.effectiveDateTime ?? reports[0]?.effectivePeriod?.start ?? loose[0]?.effectiveDateTime,
  });
}

/** Splits the segments after the first PID into patient-level results and ORDER_OBSERVATION groups. */
function groupSegments(ctx: ConversionContext, segments: readonly Segment[]): { patientResults: Segment[]; orders: OrderGroup[] } {
  const patientResults: Segment[] = [];
  const orders: OrderGroup[] = [];
  let pids = 0;
  let orc: Segment | undefined;
  let current: OrderGroup | undefined;
  for (const seg of segments) {
    if (seg.name === 'PID' && ++pids > 1) {
      ctx.warn('PID: the message has results for more than one patient; only the first patient’s were converted');
      break;
    }
    if (pids === 0) continue;
    if (seg.name === 'ORC') orc = seg;
    else if (seg.name === 'OBR') {
      current = { obr: seg, orc, results: [] };
      orders.push(current);
      orc = undefined;
    } else if (seg.name === 'OBX' || seg.name === 'NTE') (current?.results ?? patientResults).push(seg);
  }
  return { patientResults, orders };
}
