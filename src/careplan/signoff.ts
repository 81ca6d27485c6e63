// PCP sign-off of a CP care plan sent to an ACO: the Provenance that records it, the status rules, and
// "unsigned past N days" tracking. A CP is paid only once the plan is signed, so the sign-off state must
// be readable from the CarePlan alone; the Provenance keeps who, when and how.
//
// Status rules (R4 CarePlan.status follows the request pattern: draft = "not yet complete or ready for
// action", active = "in force", revoked = "terminated ... no further activity should occur"):
//   approved: draft -> active, active stays active. The PCP's signature puts the plan in force.
//   rejected: draft stays draft, active stays active. A rejection asks the CP to revise, it does not end
//             the member's care, so `revoked` would be wrong; and the request pattern has no way back from
//             active to draft, so an active plan stays active but unsigned. The reason goes in a note.
//   any other status (on-hold, completed, revoked, entered-in-error, unknown): not signable.
// Either way the plan gets a meta.tag with the sign-off state (pending | approved | rejected). Tags are
// FHIR's place for workflow state and are searchable (_tag), which the due/overdue lists need; the
// decision itself is carried by the Provenance. A revised plan goes back to pending (withPendingSignoff).
//
// The Provenance (R4 requires target, recorded, agent):
//   target     the CarePlan (pass a versioned reference, CarePlan/x/_history/n, to pin what was signed)
//   occurred   when the PCP decided; recorded = when carebridge learned of it (default: the same)
//   activity   v3-ParticipationType VRF "verifier": the PCP verified the plan (either outcome)
//   agent      the PCP or ACO; type attester (approved: "a verifier who attests to the accuracy") or
//              verifier (rejected); onBehalfOf e.g. the ACO when `who` is a Practitioner
//   signature  approvals only: ISO/ASTM E1762 1.2.840.10065.1.12.1.5 "Verification Signature" (a
//              countersignature of information someone else recorded), who and when; no signature bytes
//              (data is optional in R4; none of the three channels delivers a digital signature)
//   extension  decision (approved | rejected), method (api | fhir | file) and the free-text reason: R4
//              Provenance has no element for an outcome or a channel (reason is purpose-of-use).
import type { Annotation, CarePlan, Coding, Extension, Provenance, ProvenanceAgent, Reference } from 'fhir/r4.js';
import { DEFAULT_TIME_ZONE } from '../fhir/datetime.js';
import { idFromParts } from '../fhir/ids.js';
import { addBusinessDays, addCalendarDays, isPastDue, type BusinessCalendarOptions, type DueDay } from './business-days.js';
import { instantMillis } from './local-date.js';
import { checkedReference, referenceKey, toReference, type ReferenceInput } from './references.js';

export type SignoffMethod = 'api' | 'fhir' | 'file';
export type SignoffDecision = 'approved' | 'rejected';
export type SignoffStatus = 'pending' | SignoffDecision;

/** Base of carebridge-defined canonical URLs (extensions, code systems). One place to change it. */
export const CAREBRIDGE_CANONICAL_BASE = 'https://carebridge.example.org/fhir';
export const SIGNOFF_STATUS_SYSTEM = `${CAREBRIDGE_CANONICAL_BASE}/CodeSystem/careplan-signoff-status`;
export const SIGNOFF_DECISION_EXTENSION = `${CAREBRIDGE_CANONICAL_BASE}/StructureDefinition/careplan-signoff-decision`;
export const SIGNOFF_METHOD_EXTENSION = `${CAREBRIDGE_CANONICAL_BASE}/StructureDefinition/careplan-signoff-method`;
export const SIGNOFF_REASON_EXTENSION = `${CAREBRIDGE_CANONICAL_BASE}/StructureDefinition/careplan-signoff-reason`;

const V3_PARTICIPATION_TYPE = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const PARTICIPANT_TYPE = 'http://terminology.hl7.org/CodeSystem/provenance-participant-type';
const SIGNATURE_TYPE = 'urn:iso-astm:E1762-95:2013';

export const SIGNOFF_ACTIVITY: Coding = { system: V3_PARTICIPATION_TYPE, code: 'VRF', display: 'verifier' };
export const VERIFICATION_SIGNATURE: Coding = {
  system: SIGNATURE_TYPE,
  code: '1.2.840.10065.1.12.1.5',
  display: 'Verification Signature',
};

const METHODS: readonly SignoffMethod[] = ['api', 'fhir', 'file'];
const DECISIONS: readonly SignoffDecision[] = ['approved', 'rejected'];
const SIGNER_TYPES = ['Practitioner', 'PractitionerRole', 'Organization'];
const SIGNABLE = new Set<CarePlan['status']>(['draft', 'active']);

export interface SignoffInput {
  /** The CarePlan signed or rejected; a versioned reference pins the exact version. */
  carePlanRef: ReferenceInput;
  /** Who decided: Practitioner, PractitionerRole or Organization. */
  who: ReferenceInput;
  /** For whom `who` acted, e.g. the ACO Organization. */
  onBehalfOf?: ReferenceInput;
  /** When the PCP decided (FHIR instant). */
  when: string;
  /** When carebridge recorded the decision (FHIR instant); default `when`. */
  recorded?: string;
  method: SignoffMethod;
  decision: SignoffDecision;
  /** Free text from the PCP, e.g. why a plan was rejected. */
  reason?: string;
  /** What carried the decision, e.g. a DocumentReference for a returned file (entity role source). */
  source?: ReferenceInput;
  /** Provenance id; default signoffProvenanceId(input). */
  id?: string;
}

function checkInput(input: SignoffInput): void {
  if (!METHODS.includes(input.method)) throw new TypeError(`method must be ${METHODS.join(' | ')}`);
  if (!DECISIONS.includes(input.decision)) throw new TypeError(`decision must be ${DECISIONS.join(' | ')}`);
  if (instantMillis(input.when) === undefined) throw new RangeError('when is not a FHIR instant');
  if (input.recorded !== undefined && instantMillis(input.recorded) === undefined) {
    throw new RangeError('recorded is not a FHIR instant');
  }
  if (input.reason !== undefined && input.reason.trim() === '') throw new TypeError('reason, when given, must not be blank');
}

/** Deterministic: the same decision received twice (a resent file) yields the same Provenance id. */
export function signoffProvenanceId(input: SignoffInput): string {
  const plan = checkedReference(input.carePlanRef, ['CarePlan'], 'carePlanRef');
  const who = checkedReference(input.who, SIGNER_TYPES, 'who');
  return idFromParts(['careplan-signoff', referenceKey(plan), input.decision, referenceKey(who), input.when]);
}

export function buildSignoffProvenance(input: SignoffInput): Provenance {
  checkInput(input);
  const target = checkedReference(input.carePlanRef, ['CarePlan'], 'carePlanRef');
  const who = checkedReference(input.who, SIGNER_TYPES, 'who');
  const approved = input.decision === 'approved';
  const agent: ProvenanceAgent = {
    type: { coding: [{ system: PARTICIPANT_TYPE, code: approved ? 'attester' : 'verifier' }] },
    who,
    ...(input.onBehalfOf !== undefined
      ? { onBehalfOf: checkedReference(input.onBehalfOf, ['Organization', 'Practitioner', 'PractitionerRole'], 'onBehalfOf') }
      : {}),
  };
  const extension: Extension[] = [
    { url: SIGNOFF_DECISION_EXTENSION, valueCode: input.decision },
    { url: SIGNOFF_METHOD_EXTENSION, valueCode: input.method },
    ...(input.reason !== undefined ? [{ url: SIGNOFF_REASON_EXTENSION, valueString: input.reason }] : []),
  ];
  // Keys in R4 element order.
  return {
    resourceType: 'Provenance',
    id: input.id ?? signoffProvenanceId(input),
    extension,
    target: [target],
    occurredDateTime: input.when,
    recorded: input.recorded ?? input.when,
    activity: { coding: [SIGNOFF_ACTIVITY], text: `Care plan sign-off: ${input.decision}` },
    agent: [agent],
    ...(input.source !== undefined ? { entity: [{ role: 'source' as const, what: toReference(input.source) }] } : {}),
    ...(approved ? { signature: [{ type: [VERIFICATION_SIGNATURE], when: input.when, who }] } : {}),
  };
}

/** Sign-off state of a plan from its meta.tag; a plan never tagged is pending. */
export function signoffStatusOf(plan: CarePlan): SignoffStatus {
  const code = plan.meta?.tag?.find((t) => t.system === SIGNOFF_STATUS_SYSTEM)?.code;
  return code === 'approved' || code === 'rejected' ? code : 'pending';
}

function withSignoffTag(plan: CarePlan, status: SignoffStatus): CarePlan {
  const others = (plan.meta?.tag ?? []).filter((t) => t.system !== SIGNOFF_STATUS_SYSTEM);
  return { ...plan, meta: { ...plan.meta, tag: [...others, { system: SIGNOFF_STATUS_SYSTEM, code: status }] } };
}

/** The plan marked as awaiting sign-off: for a plan a CP submits or revises. */
export function withPendingSignoff(plan: CarePlan): CarePlan {
  return withSignoffTag(plan, 'pending');
}

export type SignoffResult =
  { ok: true; plan: CarePlan; provenance: Provenance } | { ok: false; code: 'not-signable' | 'wrong-plan'; reason: string };

function pointsAt(ref: Reference, plan: CarePlan): boolean {
  if (!plan.id || !ref.reference || ref.reference.startsWith('urn:')) return true;
  return new RegExp(`(?:^|/)CarePlan/${plan.id.replace(/\./g, '\\.')}(?:/_history/[^/]+)?$`).test(ref.reference);
}

/**
 * Applies a sign-off decision: the plan with its new status, tag and note, plus the Provenance. Pure and
 * idempotent: applying the same decision again returns an equal plan (the note is not repeated).
 */
export function applySignoff(plan: CarePlan, input: SignoffInput): SignoffResult {
  const provenance = buildSignoffProvenance(input);
  if (!pointsAt(provenance.target[0]!, plan)) {
    return { ok: false, code: 'wrong-plan', reason: 'carePlanRef does not reference this CarePlan' };
  }
  if (!SIGNABLE.has(plan.status)) {
    return { ok: false, code: 'not-signable', reason: `a ${plan.status} care plan cannot be signed off (only draft or active)` };
  }
  const note: Annotation = {
    authorReference: provenance.agent[0]!.who,
    time: input.when,
    text:
      input.decision === 'approved'
        ? `Sign-off approved${input.reason !== undefined ? `: ${input.reason}` : ''}`
        : `Sign-off rejected: ${input.reason ?? 'no reason given'}`,
  };
  const notes = plan.note ?? [];
  const seen = notes.some(
    (n) => n.time === note.time && n.text === note.text && n.authorReference?.reference === note.authorReference?.reference,
  );
  const status = input.decision === 'approved' ? 'active' : plan.status;
  const updated = withSignoffTag({ ...plan, status, note: seen ? notes : [...notes, note] }, input.decision);
  return { ok: true, plan: updated, provenance };
}

export interface SignoffDueOptions {
  /** Start of the sign-off clock; default CarePlan.created. */
  since?: string;
  /** Count business days on this calendar instead of calendar days. */
  calendar?: BusinessCalendarOptions;
  /** Zone for calendar-day counting (ignored with `calendar`); default America/New_York. */
  timeZone?: string;
}

/**
 * When the plan must be signed: `unsignedDays` after the local date the clock started (calendar days,
 * or business days with `calendar`), at the end of that day. Undefined when there is nothing to sign
 * (approved, or not draft/active) or no start is known (no `since`, no `created`).
 */
export function signoffDue(plan: CarePlan, unsignedDays: number, options: SignoffDueOptions = {}): DueDay | undefined {
  if (!SIGNABLE.has(plan.status) || signoffStatusOf(plan) === 'approved') return undefined;
  const since = options.since ?? plan.created;
  if (since === undefined) return undefined;
  return options.calendar
    ? addBusinessDays(since, unsignedDays, options.calendar)
    : addCalendarDays(since, unsignedDays, options.timeZone ?? DEFAULT_TIME_ZONE);
}

/** True when the plan still needs a signature and `now` is past the end of its sign-off due day. */
export function isOverdue(plan: CarePlan, now: string | Date, unsignedDays: number, options: SignoffDueOptions = {}): boolean {
  const due = signoffDue(plan, unsignedDays, options);
  return due !== undefined && isPastDue(due.dueAt, now);
}
