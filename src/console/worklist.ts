// The care team's worklist: a CP's attributed members' admissions, ED visits, discharges and
// transfers (the ADT events routed to the CP's own destination), newest first, each with the
// follow-up contact it calls for, when that is due in business days, and whether it was made.
import type { Bundle, Encounter, Patient } from 'fhir/r4';
import { addBusinessDays } from '../careplan/business-days.js';
import type { CarePlanService } from '../careplan/service.js';
import type { CarePlanSettings } from '../careplan/settings.js';
import type { GatewayConfig } from '../config/types.js';
import type { DeliveryRecord, MessageDetail, MessageStore } from '../store/types.js';

export type EventKind = 'admit' | 'ed-visit' | 'discharge' | 'transfer';
export type FollowUpState = 'due' | 'overdue' | 'done';

export interface WorklistItem {
  /** The ADT message (what the follow-up is recorded against). */
  messageId: string;
  kind: EventKind;
  event: string;
  /** When it happened: the encounter's start (admit, ED) or end (discharge), else when it was received. */
  at: string;
  patient: { name: string; birthDate: string | null; memberIds: string[] };
  facility: string | null;
  /** The transition-of-care plan of a discharge, when the gateway made one. */
  carePlanId: string | null;
  dueDate: string;
  dueAt: string;
  businessDays: number;
  state: FollowUpState;
  done: { at: string; by: string; contactedBy: string | null } | null;
}

/** Business days allowed for the contact: reach the member while in the ED, soon after an admission. */
export const FOLLOW_UP_BUSINESS_DAYS: Record<Exclude<EventKind, 'discharge'>, number> = { 'ed-visit': 0, admit: 1, transfer: 1 };

const NOT_SHOWN_IDENTIFIERS = /us-ssn|ssn|social|driver|dln|license/i;

export const FOLLOW_UP_AUDIT = { action: 'worklist.follow-up', subjectType: 'worklist-event' } as const;
export const followUpSubject = (partner: string, messageId: string) => `${partner}:${messageId}`;

type Entry = NonNullable<Bundle['entry']>[number];

function resourcesOf(fhir: string | null): Entry['resource'][] {
  if (!fhir) return [];
  try {
    const bundle = JSON.parse(fhir) as Bundle;
    return (bundle.entry ?? []).map((e) => e.resource);
  } catch {
    return [];
  }
}

/** What kind of event this is for a care team, or undefined when it is none of the four. */
export function eventKind(triggerEvent: string | null, encounter: Encounter | undefined): EventKind | undefined {
  const emergency = encounter?.class?.code === 'EMER';
  switch (triggerEvent) {
    case 'A03':
      return 'discharge';
    case 'A02':
    case 'A06':
    case 'A07':
      return 'transfer';
    case 'A01':
      return emergency ? 'ed-visit' : 'admit';
    case 'A04':
      return emergency ? 'ed-visit' : undefined;
    default:
      return undefined;
  }
}

const patientName = (p: Patient | undefined): string => {
  const n = p?.name?.[0];
  if (!n) return '(no name)';
  return [n.family, [...(n.given ?? [])].join(' ')].filter(Boolean).join(', ') || '(no name)';
};

/** The CarePlan id a discharge's delivery to the CP carried (the pipeline adds it to the Bundle). */
function carePlanIdOf(delivery: DeliveryRecord): string | null {
  if (!delivery.payload || !delivery.payload.includes('"CarePlan"')) return null;
  for (const r of resourcesOf(delivery.payload)) if (r?.resourceType === 'CarePlan' && r.id) return r.id;
  return null;
}

export interface WorklistDeps {
  config: GatewayConfig;
  store: MessageStore;
  careplans?: CarePlanService;
  settings: CarePlanSettings;
}

/** The destination a partner's attributed members' ADT events go to. */
export function partnerAdtDestination(config: GatewayConfig, partner: string): string | undefined {
  return config.partners[partner]?.destinations.adt ?? config.destinations.find((d) => d.partner === partner)?.id;
}

/** One delivery to the partner as a worklist row; undefined when it is not an event a care team works. */
export async function worklistItem(
  deps: WorklistDeps,
  partner: string,
  delivery: DeliveryRecord,
  message: MessageDetail,
  now: Date,
): Promise<WorklistItem | undefined> {
  if (delivery.status === 'withheld' || delivery.status === 'cancelled') return undefined;
  const resources = resourcesOf(message.fhir);
  const encounter = resources.find((r): r is Encounter => r?.resourceType === 'Encounter');
  const kind = eventKind(message.triggerEvent, encounter);
  if (!kind) return undefined;
  const patient = resources.find((r): r is Patient => r?.resourceType === 'Patient');
  const at = (kind === 'discharge' ? encounter?.period?.end : encounter?.period?.start) ?? message.receivedAt.toISOString();
  const carePlanId = kind === 'discharge' ? carePlanIdOf(delivery) : null;
  const plan = carePlanId && deps.careplans ? await deps.careplans.get(carePlanId) : null;

  let dueDate: string;
  let dueAt: string;
  let businessDays: number;
  if (plan?.record.dueAt) {
    businessDays = deps.settings.followUpBusinessDays;
    dueAt = plan.record.dueAt.toISOString();
    dueDate = deps.settings.localDate(plan.record.dueAt, partner);
  } else {
    businessDays = kind === 'discharge' ? deps.settings.followUpBusinessDays : FOLLOW_UP_BUSINESS_DAYS[kind];
    let due;
    try {
      due = addBusinessDays(at, businessDays, deps.settings.calendarAround(at, partner));
    } catch {
      due = addBusinessDays(message.receivedAt, businessDays, deps.settings.calendarAround(message.receivedAt, partner));
    }
    dueAt = due.dueAt;
    dueDate = due.dueDate;
  }

  const recorded = (
    await deps.store.listAudit({ subjectType: FOLLOW_UP_AUDIT.subjectType, subjectId: followUpSubject(partner, message.id), limit: 1 })
  ).items[0];
  let done: WorklistItem['done'] = null;
  if (recorded) {
    const detail = (recorded.detail ?? {}) as { contactedBy?: string };
    done = { at: recorded.at.toISOString(), by: recorded.actor, contactedBy: detail.contactedBy ?? null };
  } else if (plan?.followUp) {
    done = { at: plan.followUp.completedAt.toISOString(), by: plan.followUp.recordedBy, contactedBy: null };
  }
  // Overdue from the local midnight after the due date (dueAt is its last second).
  const state: FollowUpState = done ? 'done' : now.getTime() >= Date.parse(dueAt) + 1000 ? 'overdue' : 'due';
  return {
    messageId: message.id,
    kind,
    event: [message.messageType, message.triggerEvent].filter(Boolean).join('^'),
    at,
    patient: {
      name: patientName(patient),
      birthDate: patient?.birthDate ?? null,
      // Record numbers a coordinator looks members up by; never an SSN or a driver's license.
      memberIds: message.identifiers
        .filter((i) => !NOT_SHOWN_IDENTIFIERS.test(i.system))
        .map((i) => i.value)
        .slice(0, 3),
    },
    facility: message.sender,
    carePlanId,
    dueDate,
    dueAt,
    businessDays,
    state,
    done,
  };
}
