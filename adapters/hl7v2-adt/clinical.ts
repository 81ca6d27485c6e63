import type {
  AllergyIntolerance,
  CodeableConcept,
  Condition,
  Encounter,
  Identifier,
  Patient,
  Procedure,
  ProcedurePerformer,
} from 'fhir/r4';
import { readCWE, type Segment } from '../../src/hl7v2/index.js';
import { codeableConcept, codingSystem, mapCode, tableConcept } from './codes.js';
import { ref, type ConversionContext } from './context.js';
import { practitionerFromXCN } from './participants.js';

const CONDITION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/condition-category';
const CONDITION_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
const ALLERGY_CLINICAL = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical';
const ALLERGY_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification';
const SNOMED = 'http://snomed.info/sct';

/** EI (entity id^namespace^universal id^type) → Identifier, system like an assigning authority's. */
function identifierFromEI(ctx: ConversionContext, seg: Segment, field: number): Identifier | undefined {
  const value = seg.get(field, 1, 1);
  if (!value) return undefined;
  const ns = seg.get(field, 1, 2);
  const uid = seg.get(field, 1, 3);
  return { system: codingSystem(ctx, uid || ns) ?? ctx.localSystem('id', 'unknown'), value };
}

/** The key a clinical resource's id hangs on: its own identifier, else its code, else its text. */
function keyOf(id: Identifier | undefined, cc: CodeableConcept | undefined): string {
  if (id) return `id|${id.system}|${id.value}`;
  const c = cc?.coding?.[0];
  return c ? `code|${c.system ?? ''}|${c.code}` : `text|${cc?.text ?? ''}`;
}

/** DG1 → Condition (encounter-diagnosis), referenced from Encounter.diagnosis (IG DG1[Condition], DG1[Encounter]). */
export function buildDiagnoses(ctx: ConversionContext, patient: Patient, encounter: Encounter | undefined): void {
  for (const dg1 of ctx.segments('DG1')) {
    const code = codeableConcept(ctx, readCWE(dg1, 3)) ?? (dg1.get(4) ? { text: dg1.get(4) } : undefined);
    if (!code) continue;
    if (!code.text && dg1.get(4)) code.text = dg1.get(4);
    const identifier = identifierFromEI(ctx, dg1, 20);
    const asserter = practitionerFromXCN(ctx, dg1, 16);
    const removed = dg1.get(21) === 'D';
    const condition = ctx.add<Condition>({
      resourceType: 'Condition',
      id: ctx.idFromParts('Condition', patient.id!, encounter?.id ?? '', keyOf(identifier, code)),
      identifier: identifier ? [identifier] : undefined,
      verificationStatus: removed ? { coding: [{ system: CONDITION_VERIFICATION, code: 'entered-in-error' }] } : undefined,
      category: [{ coding: [{ system: CONDITION_CATEGORY, code: 'encounter-diagnosis', display: 'Encounter Diagnosis' }] }],
      code,
      subject: ref(patient),
      encounter: encounter ? ref(encounter) : undefined,
      onsetDateTime: ctx.dateTime(dg1.get(5), 'DG1-5'),
      recordedDate: ctx.dateTime(dg1.get(19), 'DG1-19'),
      asserter: asserter ? ref(asserter) : undefined,
    });
    if (!encounter || removed) continue;
    const use = mapCode(ctx, 'DiagnosisType', dg1.get(6));
    const rank = Number(dg1.get(15));
    (encounter.diagnosis ??= []).push({
      condition: ref(condition),
      use: use ? { coding: [{ system: use.system, code: use.code, display: use.display }] } : tableConcept(dg1.get(6), '0052'),
      rank: Number.isInteger(rank) && rank > 0 ? rank : undefined,
    });
  }
}

/**
 * AL1 (and IAM for A60) → AllergyIntolerance (IG AL1/IAM[AllergyIntolerance]). IAM-6 action D
 * (delete) marks the allergy entered-in-error, which then carries no clinical status (ait-2).
 */
export function buildAllergies(ctx: ConversionContext, patient: Patient, name: 'AL1' | 'IAM'): void {
  const iam = name === 'IAM';
  for (const seg of ctx.segments(name)) {
    const code = codeableConcept(ctx, readCWE(seg, 3));
    if (!code) continue;
    const identifier = iam ? identifierFromEI(ctx, seg, 7) : undefined;
    const removed = iam && seg.get(6) === 'D';
    const typeCode = seg.get(2, 1, 1);
    const category = mapCode(ctx, 'AllergenType[AllergyIntoleranceCategory]', typeCode)?.code;
    const type = mapCode(ctx, 'AllergyType', typeCode)?.code;
    const severityCode = seg.get(4, 1, 1);
    const criticality = mapCode(ctx, 'AllergySeverity[AllergyIntolerance.criticality]', severityCode)?.code;
    const severity = mapCode(ctx, 'AllergySeverity[AllergyIntolerance.reaction.severity]', severityCode)?.code;
    const manifestation: CodeableConcept[] = [];
    for (let r = 1; r <= seg.repetitions(5); r++) {
      const m = iam ? codeableConcept(ctx, readCWE(seg, 5, r)) : seg.get(5, r) ? { text: seg.get(5, r) } : undefined;
      if (m) manifestation.push(m);
    }
    const onset = ctx.dateTime(seg.get(iam ? 11 : 6), iam ? 'IAM-11' : 'AL1-6');
    ctx.add<AllergyIntolerance>({
      resourceType: 'AllergyIntolerance',
      id: ctx.idFromParts('AllergyIntolerance', patient.id!, keyOf(identifier, code)),
      identifier: identifier ? [identifier] : undefined,
      clinicalStatus: removed ? undefined : { coding: [{ system: ALLERGY_CLINICAL, code: 'active' }] },
      verificationStatus: removed ? { coding: [{ system: ALLERGY_VERIFICATION, code: 'entered-in-error' }] } : undefined,
      type: type === 'allergy' || type === 'intolerance' ? type : undefined,
      category: category && ALLERGY_CATEGORIES.has(category) ? [category as 'food'] : undefined,
      criticality: criticality === 'low' || criticality === 'high' || criticality === 'unable-to-assess' ? criticality : undefined,
      code,
      patient: ref(patient),
      onsetDateTime: onset,
      onsetString: iam && !onset ? seg.get(12) || undefined : undefined,
      recordedDate: iam ? ctx.dateTime(seg.get(13), 'IAM-13') : undefined,
      reaction: manifestation.length
        ? [{ manifestation, severity: severity === 'mild' || severity === 'moderate' || severity === 'severe' ? severity : undefined }]
        : undefined,
    });
  }
}
const ALLERGY_CATEGORIES = new Set(['food', 'medication', 'environment', 'biologic']);

/** PR1 → Procedure (IG PR1[Procedure]); status completed: PR1 reports procedures performed. */
export function buildProcedures(ctx: ConversionContext, patient: Patient, encounter: Encounter | undefined): void {
  for (const pr1 of ctx.segments('PR1')) {
    const code = codeableConcept(ctx, readCWE(pr1, 3)) ?? (pr1.get(4) ? { text: pr1.get(4) } : undefined);
    if (!code) continue;
    if (!code.text && pr1.get(4)) code.text = pr1.get(4);
    const identifier = identifierFromEI(ctx, pr1, 19);
    const performer: ProcedurePerformer[] = [];
    const addPerformer = (field: number, fn?: [string, string]) => {
      for (let r = 1; r <= pr1.repetitions(field); r++) {
        const p = practitionerFromXCN(ctx, pr1, field, r);
        if (p) performer.push({ actor: ref(p), function: fn ? { coding: [{ system: SNOMED, code: fn[0], display: fn[1] }] } : undefined });
      }
    };
    addPerformer(8, ['88189002', 'Anesthesiologist']);
    addPerformer(11, ['304292004', 'Surgeon']);
    addPerformer(12);
    const reason = codeableConcept(ctx, readCWE(pr1, 15));
    const when = ctx.dateTime(pr1.get(5), 'PR1-5');
    ctx.add<Procedure>({
      resourceType: 'Procedure',
      id: ctx.idFromParts('Procedure', patient.id!, encounter?.id ?? '', keyOf(identifier, code), identifier ? '' : pr1.get(5)),
      identifier: identifier ? [identifier] : undefined,
      status: 'completed',
      category: tableConcept(pr1.get(6, 1, 1), '0230'),
      code,
      subject: ref(patient),
      encounter: encounter ? ref(encounter) : undefined,
      performedDateTime: when,
      performer,
      reasonCode: reason ? [reason] : undefined,
    });
  }
}

/**
 * ACC (accident) → Condition: the injury the visit is for. The IG has no ACC map; ACC-2 is the
 * accident code, ACC-1 its time, ACC-3 the place (kept as a note). See mappings/README.md.
 */
export function buildAccident(ctx: ConversionContext, patient: Patient, encounter: Encounter | undefined): void {
  const acc = ctx.segment('ACC');
  if (!acc) return;
  const code = codeableConcept(ctx, readCWE(acc, 2), 'http://terminology.hl7.org/CodeSystem/v2-0050') ?? { text: 'Accident' };
  const when = ctx.dateTime(acc.get(1), 'ACC-1');
  const notes = [acc.get(3) && `Accident location: ${acc.get(3)}`, acc.get(8) && acc.get(8)].filter(Boolean) as string[];
  const condition = ctx.add<Condition>({
    resourceType: 'Condition',
    id: ctx.idFromParts('Condition', patient.id!, encounter?.id ?? '', 'accident', acc.get(1)),
    category: [{ coding: [{ system: CONDITION_CATEGORY, code: 'encounter-diagnosis', display: 'Encounter Diagnosis' }] }],
    code,
    subject: ref(patient),
    encounter: encounter ? ref(encounter) : undefined,
    onsetDateTime: when,
    note: notes.length ? notes.map((text) => ({ text })) : undefined,
  });
  if (encounter) (encounter.diagnosis ??= []).push({ condition: ref(condition) });
}

const DISABILITY = 'http://hl7.org/fhir/StructureDefinition/patient-disability';

/**
 * PD1-6 handicap (IG PD1[Patient]) and DB1 (no IG map) → the patient-disability extension. DB1
 * rows about someone else (DB1-2 other than PT/blank) or saying "not disabled" (DB1-4 N) are skipped.
 */
export function disabilityExtensions(ctx: ConversionContext, patient: Patient): void {
  const values: CodeableConcept[] = [];
  if (ctx.maps('PD1')) {
    const pd1 = ctx.segment('PD1');
    const handicap = pd1 ? codeableConcept(ctx, readCWE(pd1, 6), 'http://terminology.hl7.org/CodeSystem/v2-0295') : undefined;
    if (handicap) values.push(handicap);
  }
  if (ctx.maps('DB1')) {
    for (const db1 of ctx.segments('DB1')) {
      const who = db1.get(2, 1, 1);
      if ((who && who !== 'PT') || db1.get(4) !== 'Y') continue;
      values.push({ coding: [{ system: SNOMED, code: '21134002', display: 'Disability' }], text: 'Disability' });
      break;
    }
  }
  if (values.length)
    patient.extension = [...(patient.extension ?? []), ...values.map((v) => ({ url: DISABILITY, valueCodeableConcept: v }))];
}
