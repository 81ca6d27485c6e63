import type { CodeableConcept, Encounter, Patient, PractitionerRole } from 'fhir/r4';
import { readCWE, readXON, type Segment } from '../../src/hl7v2/index.js';
import { codeableConcept, mapCode } from './codes.js';
import { ref, type ConversionContext } from './context.js';
import { telecomFromField } from './datatypes.js';
import { organizationForFacility, practitionerFromXCN } from './participants.js';

/** Role codes (v2 tables 0443 ROL-3 / 0912 PRT-4) that name the patient's primary care provider. */
const PRIMARY_CARE = new Set(['PP', 'FHCP']);

interface Layout {
  action: number;
  role: number;
  person: number;
  start: number;
  end: number;
  telecom: number;
  organization: number;
  where: string;
}
const ROL: Layout = { action: 2, role: 3, person: 4, start: 5, end: 6, telecom: 12, organization: 14, where: 'ROL' };
const PRT: Layout = { action: 2, role: 4, person: 5, start: 11, end: 12, telecom: 15, organization: 8, where: 'PRT' };

/**
 * ROL and PRT (IG ROL[Encounter-PractitionerRole], ROL[Patient-GeneralPractitioner], PRT[PractitionerRole])
 * → PractitionerRole. A primary care role becomes Patient.generalPractitioner; any other role an
 * Encounter.participant typed by the ProviderRole map. Deleted roles (action DE/D) are skipped;
 * participations without a person (devices, organizations only) are not mapped.
 */
export function buildRoles(ctx: ConversionContext, patient: Patient, encounter: Encounter | undefined): void {
  if (ctx.maps('ROL')) for (const seg of ctx.segments('ROL')) roleFrom(ctx, seg, ROL, patient, encounter);
  if (ctx.maps('PRT')) for (const seg of ctx.segments('PRT')) roleFrom(ctx, seg, PRT, patient, encounter);
}

function roleFrom(ctx: ConversionContext, seg: Segment, at: Layout, patient: Patient, encounter: Encounter | undefined): void {
  const action = seg.get(at.action, 1, 1).toUpperCase();
  if (action === 'DE' || action === 'D') return;
  const role = readCWE(seg, at.role);
  const primary = PRIMARY_CARE.has(role.code.toUpperCase());
  if (!primary && !encounter) return;
  const org = readXON(seg, at.organization);
  const organization =
    org.name || org.idNumber ? organizationForFacility(ctx, org.idNumber || org.name, org.assigningAuthority.universalId) : undefined;
  for (let r = 1; r <= seg.repetitions(at.person); r++) {
    const practitioner = practitionerFromXCN(ctx, seg, at.person, r);
    if (!practitioner) continue;
    const code = codeableConcept(ctx, role, 'http://terminology.hl7.org/CodeSystem/v2-0443');
    const start = ctx.dateTime(seg.get(at.start), `${at.where}-${at.start}`);
    const end = ctx.dateTime(seg.get(at.end), `${at.where}-${at.end}`);
    const pr = ctx.add<PractitionerRole>({
      resourceType: 'PractitionerRole',
      id: ctx.idFromParts('PractitionerRole', practitioner.id!, role.code, organization?.id ?? ''),
      active: true,
      practitioner: ref(practitioner),
      organization: organization ? ref(organization) : undefined,
      code: code ? [code] : undefined,
      telecom: telecomFromField(ctx, seg, at.telecom, 'work'),
    });
    if (primary) {
      const gp = (patient.generalPractitioner ??= []);
      if (!gp.some((g) => g.reference === `urn:uuid:${pr.id}`)) gp.push(ref(pr));
      continue;
    }
    (encounter!.participant ??= []).push({
      type: participantType(ctx, role),
      individual: ref(pr),
      period: start || end ? { start, end } : undefined,
    });
  }
}

function participantType(ctx: ConversionContext, role: ReturnType<typeof readCWE>): CodeableConcept[] | undefined {
  const m = mapCode(ctx, 'ProviderRole', role.code);
  if (m) return [{ coding: [{ system: m.system, code: m.code, display: m.display }], text: role.text || undefined }];
  const text = role.text || role.code;
  return text ? [{ text }] : undefined;
}
