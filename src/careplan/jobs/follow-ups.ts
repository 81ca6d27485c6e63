// Transition of care: the CP's plan created on a discharge, with its follow-up contact due N
// business days later, and the follow-up marked done.
import type { CarePlan, Encounter, Patient, Reference } from 'fhir/r4.js';
import { addBusinessDays, type BusinessCalendarOptions } from '../business-days.js';
import { CarePlanError } from '../errors.js';
import { instantMillis, parseLocalDate } from '../local-date.js';
import { partnerOrganization } from '../partners.js';
import { referenceKey, toReference, type ReferenceInput } from '../references.js';
import type { CarePlanRecord } from '../store/types.js';
import { contentHash } from '../submission.js';
import { buildTransitionOfCarePlan, followUpActivity, transitionOfCarePlanId } from '../transition-of-care.js';
import type { CarePlanContext } from './context.js';

export interface DischargeInput {
  /** The ADT message the discharge came in (logged, never stored in the plan). */
  messageId: string;
  /** Roster member id, when the roster matched the patient. */
  memberId: string | null;
  cpPartnerId: string;
  /** The Patient and discharge Encounter of the ADT Bundle (urn:uuid references), or references. */
  patient: Patient | ReferenceInput;
  encounter: Encounter | ReferenceInput;
  /** FHIR instant, or a date when the sender gave no time. */
  dischargeAt: string;
  /** Overrides the configured business calendar (a partner's own zone or holidays). */
  calendar?: BusinessCalendarOptions;
}

/**
 * Creates (or, for a resent or corrected discharge, updates) the CP's transition-of-care plan with
 * its follow-up contact due N business days after discharge. Returns the stored CarePlan, for the
 * CP's discharge Bundle. A completed follow-up stays completed.
 */
export async function onDischarge(ctx: CarePlanContext, input: DischargeInput): Promise<CarePlan> {
  if (instantMillis(input.dischargeAt) === undefined && parseLocalDate(input.dischargeAt) === undefined) {
    throw new CarePlanError('invalid', 'dischargeAt is not a FHIR instant or a YYYY-MM-DD date');
  }
  const { deps } = ctx;
  const partner = deps.partners[input.cpPartnerId];
  const patientRef = referenceTo(input.patient, 'Patient');
  const encounterRef = referenceTo(input.encounter, 'Encounter');
  const cpOrganization = partnerOrganization(input.cpPartnerId, partner?.name);
  const n = deps.settings.followUpBusinessDays;
  // The follow-up is the CP's to make: its business days count in the CP's zone, with its holidays.
  const calendar = input.calendar ?? deps.settings.calendarAround(input.dischargeAt, input.cpPartnerId);
  const due = addBusinessDays(input.dischargeAt, n, calendar);
  const id = transitionOfCarePlanId(cpOrganization, encounterRef);
  const saved = await ctx.mutate(id, async (existing) => {
    const built = buildTransitionOfCarePlan({
      id,
      patientRef,
      encounterRef,
      cpOrganization,
      dischargeAt: input.dischargeAt,
      dueAt: due,
      followUpBusinessDays: n,
      created: existing?.resource.created ?? ctx.instant(),
    });
    const hash = contentHash(built);
    if (existing && existing.contentHash === hash) return undefined;
    const completedAt = existing?.completedAt ?? null;
    const plan = completedAt ? withFollowUpDone(built, ctx.instant(completedAt)) : built;
    return {
      write: {
        id,
        kind: 'transition-of-care',
        memberId: input.memberId ?? existing?.memberId ?? null,
        cpPartner: input.cpPartnerId,
        acoPartner: null,
        encounterRef: referenceKey(encounterRef),
        status: plan.status,
        signoff: null,
        dueAt: new Date(instantMillis(due.dueAt)!),
        createdAt: existing?.createdAt ?? ctx.now(),
        completedAt,
        resource: plan,
        contentHash: hash,
        lastMessageId: existing?.lastMessageId ?? null,
      },
    };
  });
  deps.log.info(
    { carePlanId: id, messageId: input.messageId, cp: input.cpPartnerId, dueDate: due.dueDate },
    'transition-of-care plan stored',
  );
  return saved.record.resource;
}

/**
 * onDischarge for the pipeline: a discharge that cannot be planned for (a date it cannot read, a
 * Patient without id) is logged and skipped so the discharge notification still goes out; a store
 * failure propagates, and the message is processed again later.
 */
export async function transitionOfCare(ctx: CarePlanContext, input: DischargeInput): Promise<CarePlan | undefined> {
  try {
    return await onDischarge(ctx, input);
  } catch (e) {
    if (!(e instanceof CarePlanError || e instanceof RangeError || e instanceof TypeError)) throw e;
    ctx.deps.log.warn(
      { messageId: input.messageId, cp: input.cpPartnerId, reason: (e as Error).message },
      'no transition-of-care plan for this discharge',
    );
    return undefined;
  }
}

/** The CP made the follow-up contact: the activity and the plan are completed. Idempotent. */
export async function completeFollowUp(
  ctx: CarePlanContext,
  carePlanId: string,
  when: string,
  options: { actingPartner?: string; actor?: string } = {},
): Promise<CarePlanRecord> {
  const whenMs = instantMillis(when);
  if (whenMs === undefined) throw new CarePlanError('invalid', 'when must be a FHIR instant (with seconds and offset)');
  const { record } = await ctx.mutate(carePlanId, async (existing) => {
    if (!existing) throw new CarePlanError('not-found', 'care plan not found');
    if (options.actingPartner !== undefined && existing.cpPartner !== options.actingPartner)
      throw new CarePlanError('not-found', 'care plan not found');
    if (existing.kind !== 'transition-of-care')
      throw new CarePlanError('conflict', 'only a transition-of-care plan has a follow-up contact');
    if (existing.completedAt) return undefined;
    const completedAt = new Date(whenMs);
    const resource = withFollowUpDone(existing.resource, when);
    return {
      write: { ...existing, status: resource.status, completedAt, resource },
      extras: { followUp: { carePlanId, completedAt, recordedAt: ctx.now(), recordedBy: options.actor ?? 'system' } },
    };
  });
  return record;
}

/** The follow-up contact activity completed, and with it the plan (its only activity). */
function withFollowUpDone(plan: CarePlan, when: string): CarePlan {
  const target = followUpActivity(plan);
  const activity = plan.activity?.map((a) =>
    a === target && a.detail
      ? { ...a, detail: { ...a.detail, status: 'completed' as const, scheduledPeriod: { ...a.detail.scheduledPeriod } } }
      : a,
  );
  const note = { time: when, text: 'Follow-up contact completed' };
  const notes = plan.note ?? [];
  return {
    ...plan,
    status: 'completed',
    ...(activity ? { activity } : {}),
    note: notes.some((n) => n.time === note.time && n.text === note.text) ? notes : [...notes, note],
  };
}

/** A resource of the ADT Bundle becomes a urn:uuid reference (the Bundle's own addressing). */
function referenceTo(value: Patient | Encounter | ReferenceInput, type: 'Patient' | 'Encounter'): Reference {
  if (typeof value === 'object' && 'resourceType' in value) {
    if (value.resourceType !== type || !value.id) throw new CarePlanError('invalid', `${type.toLowerCase()} must be a ${type} with an id`);
    const identifier = value.identifier?.find((i) => i.system && i.value);
    return {
      reference: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value.id)
        ? `urn:uuid:${value.id}`
        : `${type}/${value.id}`,
      type,
      ...(identifier ? { identifier: { system: identifier.system, value: identifier.value } } : {}),
    };
  }
  return toReference(value);
}
