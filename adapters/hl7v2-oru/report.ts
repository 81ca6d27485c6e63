import type { DiagnosticReport, Encounter, Identifier, Patient } from 'fhir/r4';
import type { Segment } from '../../src/hl7v2/index.js';
import { readCWE, readEI } from '../../src/hl7v2/index.js';
import { codeableConcept, mapCode, tableConcept } from '../hl7v2-adt/codes.js';
import { ref, type ConversionContext } from '../hl7v2-adt/context.js';
import { identifierFromEI } from '../hl7v2-adt/observation.js';

/** One ORDER_OBSERVATION group: its OBR, the ORC before it, and the OBX/NTE segments after it. */
export interface OrderGroup {
  obr: Segment;
  orc?: Segment;
  results: Segment[];
}

const REPORT_STATUS = new Set([
  'registered',
  'partial',
  'preliminary',
  'final',
  'amended',
  'corrected',
  'appended',
  'cancelled',
  'entered-in-error',
  'unknown',
]);
/** OBR-25 codes the IG map leaves open (see mappings/README.md). */
const EXTRA_STATUS: Record<string, DiagnosticReport['status']> = { A: 'partial', Y: 'unknown', M: 'unknown', N: 'unknown', Z: 'unknown' };
const DATA_ABSENT = 'http://terminology.hl7.org/CodeSystem/data-absent-reason';

/** OBR (+ ORC) → DiagnosticReport per the IG's OBR[DiagnosticReport] map; results are added by the caller. */
export function buildDiagnosticReport(
  ctx: ConversionContext,
  group: OrderGroup,
  patient: Patient,
  encounter: Encounter | undefined,
): DiagnosticReport {
  const { obr, orc } = group;
  const where = `OBR-${obr.get(1) || '?'}`;
  const placer = orderNumber(ctx, obr, orc, 2, 'PLAC');
  const filler = orderNumber(ctx, obr, orc, 3, 'FILL');
  const code = codeableConcept(ctx, readCWE(obr, 4));
  const observed = obr.get(7);
  const key = filler ?? placer;
  let id: string;
  if (key) id = ctx.idFor('DiagnosticReport', key.system!, key.value!);
  else {
    ctx.warn(`${where}: no filler or placer order number (OBR-3/OBR-2); DiagnosticReport id derived from patient, service and time`);
    const first = code?.coding?.[0];
    id = ctx.idFromParts(
      'DiagnosticReport',
      patient.id!,
      first?.code ?? code?.text ?? '',
      observed || `${ctx.msg.controlId}|${obr.get(1)}`,
    );
  }
  if (!code) ctx.warn(`${where}: no universal service identifier (OBR-4); code set to unknown`);
  const start = ctx.dateTime(observed, `${where}-7`);
  const end = ctx.dateTime(obr.get(8), `${where}-8`);
  const section = obr.get(24);
  const mappedSection = mapCode(ctx, 'DiagnosticServiceSectionID', section);
  const report: DiagnosticReport = {
    resourceType: 'DiagnosticReport',
    id,
    identifier: [placer, filler].filter((i): i is Identifier => i !== undefined),
    status: reportStatus(ctx, obr.get(25), where),
    category: section
      ? [
          mappedSection
            ? { coding: [{ system: mappedSection.system, code: mappedSection.code, display: mappedSection.display }] }
            : tableConcept(section, '0074')!,
        ]
      : undefined,
    code: code ?? { coding: [{ system: DATA_ABSENT, code: 'unknown', display: 'Unknown' }] },
    subject: ref(patient),
    encounter: encounter ? ref(encounter) : undefined,
    issued: ctx.instant(obr.get(22), `${where}-22`),
  };
  if (end) report.effectivePeriod = { start, end };
  else report.effectiveDateTime = start;
  return ctx.add(report);
}

/** OBR-2/OBR-3 (placer/filler order number), else the same field of the ORC before it. */
function orderNumber(
  ctx: ConversionContext,
  obr: Segment,
  orc: Segment | undefined,
  field: 2 | 3,
  type: 'PLAC' | 'FILL',
): Identifier | undefined {
  const ei = readEI(obr, field);
  return identifierFromEI(ctx, ei.entityId || !orc ? ei : readEI(orc, field), 'order', type);
}

function reportStatus(ctx: ConversionContext, code: string, where: string): DiagnosticReport['status'] {
  if (!code) {
    ctx.warn(`${where}: no result status (OBR-25); status unknown`);
    return 'unknown';
  }
  const mapped = mapCode(ctx, 'ResultStatus[Non-Queries]', code)?.code ?? EXTRA_STATUS[code.toUpperCase()];
  if (mapped && REPORT_STATUS.has(mapped)) return mapped as DiagnosticReport['status'];
  ctx.warn(`${where}: result status (OBR-25) not in the status map; status unknown`);
  return 'unknown';
}
