import type { Account, CareTeam, Coverage, CoverageClass, Identifier, Organization, Patient, Reference, RelatedPerson } from 'fhir/r4';
import { readCWE, readCX, readXON, type Segment } from '../../src/hl7v2/index.js';
import { codeableConcept, mapCode } from './codes.js';
import { ref, type ConversionContext } from './context.js';
import { addressesFromField, identifierFromCX, identifierSystem, namesFromField, telecomFromField } from './datatypes.js';
import { accountFor } from './merge.js';

const COVERAGE_CLASS = 'http://terminology.hl7.org/CodeSystem/coverage-class';
const SUBSCRIBER_RELATIONSHIP = 'http://terminology.hl7.org/CodeSystem/subscriber-relationship';
const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
// v2 table 0063 → FHIR subscriber-relationship (the Coverage.relationship value set); the rest is "other".
const RELATIONSHIP: Record<string, string> = {
  SEL: 'self',
  SPO: 'spouse',
  DOM: 'common',
  CHD: 'child',
  NCH: 'child',
  SCH: 'child',
  FCH: 'child',
  PAR: 'parent',
  MTH: 'parent',
  FTH: 'parent',
};
const IN1_COMPANIONS = ['IN2', 'IN3', 'ROL'];

/**
 * IN1 (+ its IN2) → Coverage with a payor Organization (IG IN1[Coverage]). A Medicaid member id
 * in IN2-8, or in IN1-36 of a Medicaid plan (profile `medicaid`), also becomes a Patient identifier
 * of type MA so the roster can match on it. Each IN3 naming a case manager becomes a CareTeam (IG IN3[CareTeam]).
 */
export function buildCoverages(ctx: ConversionContext, patient: Patient): void {
  for (const in1 of ctx.segments('IN1')) {
    const in2 = ctx.companion(in1, 'IN2', IN1_COMPANIONS);
    const payer = payerOrganization(ctx, in1);
    const plan = readCWE(in1, 2);
    const policy = in1.get(36);
    const relCode = in1.get(17, 1, 1);
    const rel = relCode ? (RELATIONSHIP[relCode.toUpperCase()] ?? 'other') : undefined;
    const classes: CoverageClass[] = [];
    if (plan.code)
      classes.push({ type: { coding: [{ system: COVERAGE_CLASS, code: 'plan' }] }, value: plan.code, name: plan.text || undefined });
    if (in1.get(8))
      classes.push({ type: { coding: [{ system: COVERAGE_CLASS, code: 'group' }] }, value: in1.get(8), name: in1.get(9) || undefined });
    const start = ctx.dateTime(in1.get(12), 'IN1-12');
    const end = ctx.dateTime(in1.get(13), 'IN1-13');
    const order = Number(in1.get(22));
    const coverage: Coverage = {
      resourceType: 'Coverage',
      id: ctx.idFromParts('Coverage', patient.id!, payer?.id ?? in1.get(4), plan.code, policy || in1.get(49) || in1.get(1)),
      identifier: plan.code ? [{ system: ctx.namespaceSystem('health-plan'), value: plan.code }] : undefined,
      status: 'active',
      type: codeableConcept(ctx, readCWE(in1, 15), 'http://terminology.hl7.org/CodeSystem/v2-0086'),
      subscriber: subscriber(ctx, in1, patient, relCode),
      subscriberId: policy || in1.get(49) || undefined,
      beneficiary: ref(patient),
      relationship: rel ? { coding: [{ system: SUBSCRIBER_RELATIONSHIP, code: rel }] } : undefined,
      period: start || end ? { start, end } : undefined,
      payor: [payer ? ref(payer) : { display: in1.get(4) || 'unknown payer' }],
      class: classes,
      order: Number.isInteger(order) && order > 0 ? order : undefined,
    };
    ctx.add(coverage);
    addMedicaidId(ctx, patient, in1, in2);
    for (let in3 = ctx.companion(in1, 'IN3', IN1_COMPANIONS); in3; in3 = ctx.companion(in3, 'IN3', IN1_COMPANIONS)) {
      certificationCareTeam(ctx, in3, patient, coverage);
    }
  }
}

/**
 * IN3 (the plan's certification of this stay) → CareTeam: the IG maps only IN3-21, the payer's case
 * manager, to a participant's role. Our additions, for a coordinator who must call that person: the
 * certification number (IN3-2) as the identifier and its begin/end dates (IN3-9/10) as the period.
 * An IN3 without a case manager has no one to list and adds nothing.
 */
function certificationCareTeam(ctx: ConversionContext, in3: Segment, patient: Patient, coverage: Coverage): void {
  const caseManager = in3.get(21);
  if (!caseManager) return;
  const certification = identifierFromCX(ctx, readCX(in3, 2), 'IN3-2');
  const start = ctx.dateTime(in3.get(9), 'IN3-9');
  const end = ctx.dateTime(in3.get(10), 'IN3-10');
  ctx.add<CareTeam>({
    resourceType: 'CareTeam',
    id: ctx.idFromParts('CareTeam', coverage.id!, 'certification', in3.get(1), certification?.value ?? ''),
    identifier: certification ? [certification] : undefined,
    status: 'active',
    name: 'Insurance certification',
    subject: ref(patient),
    period: start || end ? { start, end } : undefined,
    participant: [{ role: [{ text: caseManager }] }],
  });
}

function payerOrganization(ctx: ConversionContext, in1: Segment): Organization | undefined {
  const company = identifierFromCX(ctx, readCX(in1, 3), 'IN1-3');
  const name = readXON(in1, 4).name;
  if (!company && !name) return undefined;
  return ctx.once(`Payer ${company?.system}|${company?.value}|${name}`, () =>
    ctx.add<Organization>({
      resourceType: 'Organization',
      id: company ? ctx.idFor('Organization', company.system!, company.value!) : ctx.idFromParts('Organization', 'payer', name),
      identifier: company ? [company] : undefined,
      active: true,
      type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'pay', display: 'Payer' }] }],
      name: name || undefined,
      address: addressesFromField(ctx, in1, 5, 'IN1-5'),
      telecom: telecomFromField(ctx, in1, 7, 'work'),
    }),
  );
}

/** The insured: the patient (IN1-17 SEL or blank), else a RelatedPerson from IN1-16/17/19. */
function subscriber(ctx: ConversionContext, in1: Segment, patient: Patient, relCode: string): Reference | undefined {
  if (!relCode || relCode.toUpperCase() === 'SEL') return in1.get(16) || relCode ? ref(patient) : undefined;
  const names = namesFromField(ctx, in1, 16, 'IN1-16');
  if (names.length === 0) return undefined;
  const m = mapCode(ctx, 'Relationship', relCode);
  const rp = ctx.add<RelatedPerson>({
    resourceType: 'RelatedPerson',
    id: ctx.idFromParts('RelatedPerson', patient.id!, 'insured', names[0]!.family ?? '', names[0]!.given?.[0] ?? ''),
    active: true,
    patient: ref(patient),
    relationship: [
      m
        ? { coding: [{ system: m.system, code: m.code, display: m.display }] }
        : { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0063', code: relCode }] },
    ],
    name: names,
    address: addressesFromField(ctx, in1, 19, 'IN1-19'),
  });
  return ref(rp);
}

function addMedicaidId(ctx: ConversionContext, patient: Patient, in1: Segment, in2: Segment | undefined): void {
  const medicaid = ctx.profile.medicaid;
  if (!medicaid) return;
  let value = in2?.get(8) ?? '';
  if (!value) {
    const planType = in1.get(15, 1, 1).toUpperCase();
    const payerId = in1.get(3, 1, 1).toUpperCase();
    const planId = in1.get(2, 1, 1).toUpperCase();
    const isMedicaid =
      medicaid.planTypes.some((t) => t.toUpperCase() === planType) ||
      medicaid.payerIds.some((p) => {
        const u = p.toUpperCase();
        return u === payerId || u === planId;
      });
    if (isMedicaid) value = in1.get(36);
  }
  if (!value) return;
  const ids = (patient.identifier ??= []);
  if (ids.some((i) => i.system === medicaid.system && i.value === value)) return;
  const id: Identifier = { system: medicaid.system, value, type: { coding: [{ system: V2_0203, code: 'MA' }] } };
  ids.push(id);
}

/**
 * GT1 → the guarantor on the patient's Account (PID-18's, else one per patient for guarantors):
 * the Patient itself (GT1-11 SEL), a RelatedPerson (GT1-3 name) or an Organization (GT1-21).
 */
export function buildGuarantors(ctx: ConversionContext, patient: Patient): void {
  const gt1s = ctx.segments('GT1');
  if (gt1s.length === 0) return;
  const guarantor: NonNullable<Account['guarantor']> = [];
  for (const gt1 of gt1s) {
    const party = guarantorParty(ctx, gt1, patient);
    if (!party) continue;
    const start = ctx.dateTime(gt1.get(13), 'GT1-13');
    const end = ctx.dateTime(gt1.get(14), 'GT1-14');
    guarantor.push({ party, period: start || end ? { start, end } : undefined });
  }
  if (guarantor.length === 0) return;
  const account =
    accountFor(ctx, patient) ??
    ctx.add<Account>({
      resourceType: 'Account',
      id: ctx.idFromParts('Account', patient.id!, 'guarantor'),
      status: 'active',
      subject: [ref(patient)],
    });
  account.guarantor = [...(account.guarantor ?? []), ...guarantor];
}

function guarantorParty(ctx: ConversionContext, gt1: Segment, patient: Patient): Reference | undefined {
  const relCode = gt1.get(11, 1, 1);
  if (relCode.toUpperCase() === 'SEL') return ref(patient);
  const names = namesFromField(ctx, gt1, 3, 'GT1-3');
  if (names.length === 0) {
    const org = readXON(gt1, 21);
    if (!org.name) return undefined;
    const system = org.idNumber ? identifierSystem(ctx, org.assigningAuthority, org.identifierTypeCode) : undefined;
    const o = ctx.add<Organization>({
      resourceType: 'Organization',
      id: system ? ctx.idFor('Organization', system, org.idNumber) : ctx.idFromParts('Organization', 'guarantor', org.name),
      identifier: system ? [{ system, value: org.idNumber }] : undefined,
      active: true,
      name: org.name,
    });
    return ref(o);
  }
  const rel = readCWE(gt1, 11);
  const m = mapCode(ctx, 'Relationship', rel.code);
  const number = identifierFromCX(ctx, readCX(gt1, 2), 'GT1-2');
  const rp = ctx.add<RelatedPerson>({
    resourceType: 'RelatedPerson',
    id: number
      ? ctx.idFor('RelatedPerson', number.system!, number.value!)
      : ctx.idFromParts('RelatedPerson', patient.id!, 'guarantor', names[0]!.family ?? '', names[0]!.given?.[0] ?? ''),
    identifier: number ? [number] : undefined,
    active: true,
    patient: ref(patient),
    relationship:
      rel.code || rel.text
        ? [
            m
              ? { coding: [{ system: m.system, code: m.code, display: m.display }], text: rel.text || undefined }
              : codeableConcept(ctx, rel, 'http://terminology.hl7.org/CodeSystem/v2-0063')!,
          ]
        : undefined,
    name: names,
    telecom: [...telecomFromField(ctx, gt1, 6, 'home'), ...telecomFromField(ctx, gt1, 7, 'work')],
    address: addressesFromField(ctx, gt1, 5, 'GT1-5'),
  });
  return ref(rp);
}
