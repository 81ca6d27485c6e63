// Transition-of-care CarePlan: after a hospital or ED discharge, the member's Community Partner must make
// a follow-up contact within N business days. This is the plan carebridge creates for that CP.
//
// Coding choices (checked against the R4 spec and published examples; R4 binds neither element beyond
// "example", so these are conventions, not requirements):
//   - category: SNOMED CT 736372004 "Discharge care plan (record artifact)", a child of 734163000 "Care
//     plan", the root of R4's example value set care-plan-category. SNOMED has no "transition of care
//     plan" concept in that hierarchy; "Inpatient care plan" (736353004) would be wrong for ED discharges.
//     The text says "Transition of care". US Core's only category code, assess-plan ("Assessment and Plan
//     of Treatment"), describes clinical assessment notes, not a CP outreach task, so it is not claimed.
//   - activity: SNOMED CT 390906007 "Follow-up encounter (procedure)", kind Task (a care coordinator's
//     to-do; the contact may be a call or a visit), status not-started, scheduledPeriod from discharge to
//     the end of the due business day in the partner's zone.
//   - the discharge Encounter: R4 CarePlan.addresses only references Condition, so the Encounter goes in
//     `encounter` ("the Encounter ... to which the creation of this record is tightly associated", and
//     searchable as CarePlan?encounter=) and in `supportingInfo` ("information considered as part of
//     the plan"), which states plainly that the plan is about that stay rather than made during it.
//   - author: the CP organization (carebridge writes the plan on its behalf); it is also the performer.
// The id is deterministic from (CP, encounter): a resent or corrected discharge updates the same plan.
import type { CarePlan, CarePlanActivity, CodeableConcept } from 'fhir/r4.js';
import { idFromParts } from '../fhir/ids.js';
import { addBusinessDays, isPastDue, type BusinessCalendarOptions, type DueDay } from './business-days.js';
import { instantMillis, parseLocalDate } from './local-date.js';
import { checkedReference, referenceKey, type ReferenceInput } from './references.js';

export const SNOMED = 'http://snomed.info/sct';

export const TRANSITION_OF_CARE_CATEGORY: CodeableConcept = {
  coding: [{ system: SNOMED, code: '736372004', display: 'Discharge care plan (record artifact)' }],
  text: 'Transition of care',
};

export const FOLLOW_UP_CONTACT_CODE: CodeableConcept = {
  coding: [{ system: SNOMED, code: '390906007', display: 'Follow-up encounter (procedure)' }],
  text: 'Follow-up contact',
};

/** The default: follow-up within 3 business days of discharge. */
export const DEFAULT_FOLLOW_UP_BUSINESS_DAYS = 3;

export interface TransitionOfCarePlanInput {
  /** Resource id; default transitionOfCarePlanId(cpOrganization, encounterRef). */
  id?: string;
  patientRef: ReferenceInput;
  /** The discharge Encounter (inpatient or ED). */
  encounterRef: ReferenceInput;
  /** The Community Partner the member is attributed to. */
  cpOrganization: ReferenceInput;
  /** Discharge time: a FHIR instant (or a bare date when the sender gave no time). */
  dischargeAt: string;
  /** End of the due business day: a DueDay from addBusinessDays, or its dueAt instant. */
  dueAt: DueDay | string;
  /** N used for the due date, only to word the activity description. */
  followUpBusinessDays?: number;
  /** CarePlan.created; omitted when not given so the output stays a pure function of the input. */
  created?: string;
}

/** Deterministic CarePlan id for the follow-up of one discharge at one CP. */
export function transitionOfCarePlanId(cpOrganization: ReferenceInput, encounterRef: ReferenceInput): string {
  const cp = checkedReference(cpOrganization, ['Organization'], 'cpOrganization');
  const encounter = checkedReference(encounterRef, ['Encounter'], 'encounterRef');
  return idFromParts(['transition-of-care', referenceKey(cp), referenceKey(encounter)]);
}

/** Due date of the follow-up: `n` business days (default 3) after the local discharge date. */
export function transitionOfCareDue(
  dischargeAt: string,
  calendar: BusinessCalendarOptions,
  n: number = DEFAULT_FOLLOW_UP_BUSINESS_DAYS,
): DueDay {
  return addBusinessDays(dischargeAt, n, calendar);
}

function checkDischargeAt(value: string): number | undefined {
  const ms = instantMillis(value);
  if (ms !== undefined) return ms;
  if (parseLocalDate(value) !== undefined) return undefined;
  throw new RangeError('dischargeAt is not a FHIR instant or a YYYY-MM-DD date');
}

export function buildTransitionOfCarePlan(input: TransitionOfCarePlanInput): CarePlan {
  const subject = checkedReference(input.patientRef, ['Patient'], 'patientRef');
  const encounter = checkedReference(input.encounterRef, ['Encounter'], 'encounterRef');
  const cp = checkedReference(input.cpOrganization, ['Organization'], 'cpOrganization');
  const dueAt = typeof input.dueAt === 'string' ? input.dueAt : input.dueAt.dueAt;
  const dueMs = instantMillis(dueAt);
  if (dueMs === undefined) throw new RangeError('dueAt is not a FHIR instant');
  const dischargeMs = checkDischargeAt(input.dischargeAt);
  if (dischargeMs !== undefined && dueMs < dischargeMs) throw new RangeError('dueAt is before dischargeAt');
  if (input.created !== undefined && instantMillis(input.created) === undefined) {
    throw new RangeError('created is not a FHIR instant');
  }
  const n = input.followUpBusinessDays;
  const activity: CarePlanActivity = {
    detail: {
      kind: 'Task',
      code: FOLLOW_UP_CONTACT_CODE,
      status: 'not-started',
      scheduledPeriod: { start: input.dischargeAt, end: dueAt },
      performer: [cp],
      description:
        n === undefined
          ? 'Contact the member after discharge by the due date.'
          : `Contact the member within ${n} business day${n === 1 ? '' : 's'} of discharge.`,
    },
  };
  // Keys in R4 element order so stored and delivered JSON reads naturally.
  return {
    resourceType: 'CarePlan',
    id: input.id ?? transitionOfCarePlanId(cp, encounter),
    status: 'active',
    intent: 'plan',
    category: [TRANSITION_OF_CARE_CATEGORY],
    title: 'Transition of care follow-up',
    subject,
    encounter,
    period: { start: input.dischargeAt, end: dueAt },
    ...(input.created !== undefined ? { created: input.created } : {}),
    author: cp,
    supportingInfo: [encounter],
    activity: [activity],
  };
}

const FINISHED_ACTIVITY = new Set(['completed', 'cancelled', 'stopped', 'entered-in-error']);

function hasFollowUpCode(activity: CarePlanActivity): boolean {
  return Boolean(activity.detail?.code?.coding?.some((c) => c.system === SNOMED && c.code === '390906007'));
}

/** The follow-up contact activity of a transition-of-care plan, if the plan has one. */
export function followUpActivity(plan: CarePlan): CarePlanActivity | undefined {
  return plan.activity?.find(hasFollowUpCode);
}

/**
 * True when the plan is active, its follow-up contact is not finished (completed, cancelled, stopped,
 * entered in error) and `now` is past the end of its due day.
 */
export function isFollowUpOverdue(plan: CarePlan, now: string | Date): boolean {
  if (plan.status !== 'active') return false;
  const detail = followUpActivity(plan)?.detail;
  const due = detail?.scheduledPeriod?.end;
  if (!detail || !due || FINISHED_ACTIVITY.has(detail.status)) return false;
  return isPastDue(due, now);
}
