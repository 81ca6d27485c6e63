// Care plans end to end: the transition-of-care plan created on a discharge, CP care plans routed to
// the member's ACO for PCP sign-off, the sign-off recorded and sent back to the CP, follow-up
// completion, due/overdue lists and the weekly status file.
//
// Every outbound care-plan event is a message in the message store (raw = the FHIR content, source
// names in outbound.ts) whose deliveries `deliveriesFor` decides; `dispatch` (the pipeline's FHIR
// path in the gateway) completes it and enqueues them. The plan is saved first, then the message is
// stored: a caller that saw an error retries, and every step is idempotent (deterministic ids, dedupe
// keys per plan version / decision / week), so a retry finishes what a crash interrupted.
import type { Binary, Bundle, CarePlan, Encounter, Patient, Provenance, Reference } from 'fhir/r4.js';
import { idFromParts, uuidV5 } from '../fhir/ids.js';
import type { Logger } from '../observability/log.js';
import type { Attribution, MemberIdentifier, RosterLookup } from '../roster/types.js';
import type { DeliveryInput, InboundInput, MessageStore } from '../store/types.js';
import { addBusinessDays, addCalendarDays, type BusinessCalendarOptions, type DueDay } from './business-days.js';
import { CarePlanError } from './errors.js';
import { formatInstantInZone, instantMillis, parseLocalDate } from './local-date.js';
import {
  carePlanBundle,
  safeFileName,
  signoffBundle,
  SIGNOFF_SOURCE,
  statusBinary,
  statusBinaryCsv,
  statusBinaryPartner,
  STATUS_SOURCE,
  SUBMISSION_SOURCE,
  type FilePayload,
} from './outbound.js';
import { partnerOrganization, partnerOf, signingPartnerOf } from './partners.js';
import { referenceKey, toReference, type ReferenceInput } from './references.js';
import type { CarePlanSettings } from './settings.js';
import { applySignoff, type SignoffDecision, type SignoffMethod } from './signoff.js';
import type { CarePlanQuery, CarePlanRecord, CarePlanStore, CarePlanWrite, FollowUpRecord, Page, SaveExtras, SignoffRecord } from './store/types.js';
import { checkSubmission, contentHash, MEMBER_ID_SYSTEM, normalizeSubmission } from './submission.js';
import { buildTransitionOfCarePlan, followUpActivity, transitionOfCarePlanId } from './transition-of-care.js';
import { latestWeeklySlot, slotDate, WeeklyTimer } from './weekly-schedule.js';
import { weeklyStatusCsv, weeklyStatusRows, type StatusPlan } from './weekly-status.js';

/** What the service needs to know about a configured partner. */
export interface CarePlanPartner {
  name: string;
  kind: string;
  destinations: { careplan?: string };
  /** NPIs of the PCPs of this organization: it also receives and may sign their members' CP care plans. */
  pcpNpis?: readonly string[];
}

/** Members attributed to a partner on a date: the roster's answer, for the weekly status file. */
export interface MemberDirectory {
  membersOf(partnerId: string, date: string, role: 'cp' | 'aco'): Promise<string[]>;
  /**
   * A member's attributions over time. Its PCP ones (role pcp, partnerId = the PCP's NPI) route a
   * CP care plan to the PCP's organization too; without it, plans go to the ACO only.
   */
  attributionHistory?(memberId: string): Promise<Attribution[]>;
}

/** Completes a stored care-plan message with `deliveriesFor` and enqueues (the pipeline's processFhir). */
export type Dispatch = (messageId: string, sourceName: string, resource: { resourceType: string }, receivedAt: number) => Promise<void>;

export interface CarePlanServiceDeps {
  store: CarePlanStore;
  messages: Pick<MessageStore, 'acceptInbound' | 'getMessageRaw'>;
  dispatch: Dispatch;
  /** Without it, CP care plans cannot be matched to members (submissions are refused). */
  roster?: RosterLookup;
  /** Without it, the weekly file's members are those seen in discharges and care plans. */
  members?: MemberDirectory;
  partners: Readonly<Record<string, CarePlanPartner>>;
  /** Destination id → type (webhook, fhir, sftp, ...): decides the payload's shape. */
  destinationTypes: ReadonlyMap<string, string>;
  settings: CarePlanSettings;
  log: Logger;
  now?: () => Date;
}

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

export interface SubmitOptions {
  /** How the plan came in; default api. */
  channel?: 'api' | 'sftp';
}

export interface SubmitResult {
  record: CarePlanRecord;
  outcome: 'created' | 'revised' | 'unchanged';
  /** The message routing this version to the ACO. */
  messageId: string;
}

export interface SignoffRequest {
  decision: SignoffDecision;
  /** Practitioner (e.g. by NPI identifier), PractitionerRole or Organization. */
  who: ReferenceInput;
  /** When the PCP decided (FHIR instant). */
  when: string;
  method: SignoffMethod;
  reason?: string;
  /** The plan version signed; a plan revised since is a conflict. */
  version?: number;
  /** The partner recording it; must be the plan's ACO or its PCP's organization when given. */
  actingPartner?: string;
}

export interface SignoffResultInfo {
  record: CarePlanRecord;
  provenance: Provenance;
  outcome: 'recorded' | 'duplicate';
  /** The message notifying the CP and the other possible signer. */
  messageId: string;
}

export interface CarePlanDetail {
  record: CarePlanRecord;
  signoffs: SignoffRecord[];
  followUp: FollowUpRecord | null;
}

export interface DueItem {
  carePlanId: string;
  kind: CarePlanRecord['kind'];
  /** follow-up: the contact after a discharge; signoff: the PCP signature of a CP care plan. */
  obligation: 'follow-up' | 'signoff';
  memberId: string | null;
  cpPartner: string;
  acoPartner: string | null;
  signoff: CarePlanRecord['signoff'];
  /** FHIR instant: the end of the due date in the zone it was counted in (CP's follow-up, ACO's sign-off). */
  dueAt: string;
  dueDate: string;
  state: 'due' | 'overdue';
}

const MAX_SAVE_ATTEMPTS = 5;
/** The NPI identifier system (a signer named by NPI may be a PCP of a configured organization). */
const NPI_SYSTEM = 'http://hl7.org/fhir/sid/us-npi';
const PAGE = 1000;

const isResource = <T extends { resourceType: string }>(v: unknown, type: string): v is T =>
  typeof v === 'object' && v !== null && (v as { resourceType?: unknown }).resourceType === type;

export class CarePlanService {
  private readonly now: () => Date;
  private timer: WeeklyTimer | undefined;
  /** PCP NPI → the partner (organization) listing it in pcpNpis. */
  private readonly pcpOrganizations = new Map<string, string>();

  constructor(private readonly deps: CarePlanServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    for (const [partnerId, partner] of Object.entries(deps.partners)) {
      for (const npi of partner.pcpNpis ?? []) {
        const first = this.pcpOrganizations.get(npi);
        if (first !== undefined && first !== partnerId) throw new CarePlanError('invalid', `partners: a PCP NPI is listed by both '${first}' and '${partnerId}'`);
        this.pcpOrganizations.set(npi, partnerId);
      }
    }
    for (const f of deps.settings.weeklyStatus.files) {
      if (!deps.partners[f.partner]) throw new CarePlanError('invalid', `careplans.weeklyStatus.files: unknown partner '${f.partner}'`);
      if (!deps.destinationTypes.has(f.destination)) {
        throw new CarePlanError('invalid', `careplans.weeklyStatus.files: unknown destination '${f.destination}'`);
      }
    }
  }

  private instant(at: Date = this.now()): string {
    return formatInstantInZone(at.getTime(), this.deps.settings.timeZone);
  }

  // ---- transition of care ----------------------------------------------------------------------

  /**
   * Creates (or, for a resent or corrected discharge, updates) the CP's transition-of-care plan with
   * its follow-up contact due N business days after discharge. Returns the stored CarePlan, for the
   * CP's discharge Bundle. A completed follow-up stays completed.
   */
  async onDischarge(input: DischargeInput): Promise<CarePlan> {
    if (instantMillis(input.dischargeAt) === undefined && parseLocalDate(input.dischargeAt) === undefined) {
      throw new CarePlanError('invalid', 'dischargeAt is not a FHIR instant or a YYYY-MM-DD date');
    }
    const partner = this.deps.partners[input.cpPartnerId];
    const patientRef = referenceTo(input.patient, 'Patient');
    const encounterRef = referenceTo(input.encounter, 'Encounter');
    const cpOrganization = partnerOrganization(input.cpPartnerId, partner?.name);
    const n = this.deps.settings.followUpBusinessDays;
    // The follow-up is the CP's to make: its business days count in the CP's zone, with its holidays.
    const calendar = input.calendar ?? this.deps.settings.calendarAround(input.dischargeAt, input.cpPartnerId);
    const due = addBusinessDays(input.dischargeAt, n, calendar);
    const id = transitionOfCarePlanId(cpOrganization, encounterRef);
    const saved = await this.mutate(id, async (existing) => {
      const built = buildTransitionOfCarePlan({
        id,
        patientRef,
        encounterRef,
        cpOrganization,
        dischargeAt: input.dischargeAt,
        dueAt: due,
        followUpBusinessDays: n,
        created: existing?.resource.created ?? this.instant(),
      });
      const hash = contentHash(built);
      if (existing && existing.contentHash === hash) return undefined;
      const completedAt = existing?.completedAt ?? null;
      const plan = completedAt ? withFollowUpDone(built, this.instant(completedAt)) : built;
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
          createdAt: existing?.createdAt ?? this.now(),
          completedAt,
          resource: plan,
          contentHash: hash,
          lastMessageId: existing?.lastMessageId ?? null,
        },
      };
    });
    this.deps.log.info({ carePlanId: id, messageId: input.messageId, cp: input.cpPartnerId, dueDate: due.dueDate }, 'transition-of-care plan stored');
    return saved.record.resource;
  }

  /**
   * onDischarge for the pipeline: a discharge that cannot be planned for (a date it cannot read, a
   * Patient without id) is logged and skipped so the discharge notification still goes out; a store
   * failure propagates, and the message is processed again later.
   */
  async transitionOfCare(input: DischargeInput): Promise<CarePlan | undefined> {
    try {
      return await this.onDischarge(input);
    } catch (e) {
      if (!(e instanceof CarePlanError || e instanceof RangeError || e instanceof TypeError)) throw e;
      this.deps.log.warn({ messageId: input.messageId, cp: input.cpPartnerId, reason: (e as Error).message }, 'no transition-of-care plan for this discharge');
      return undefined;
    }
  }

  /** The CP made the follow-up contact: the activity and the plan are completed. Idempotent. */
  async completeFollowUp(carePlanId: string, when: string, options: { actingPartner?: string; actor?: string } = {}): Promise<CarePlanRecord> {
    const whenMs = instantMillis(when);
    if (whenMs === undefined) throw new CarePlanError('invalid', 'when must be a FHIR instant (with seconds and offset)');
    const { record } = await this.mutate(carePlanId, async (existing) => {
      if (!existing) throw new CarePlanError('not-found', 'care plan not found');
      if (options.actingPartner !== undefined && existing.cpPartner !== options.actingPartner) throw new CarePlanError('not-found', 'care plan not found');
      if (existing.kind !== 'transition-of-care') throw new CarePlanError('conflict', 'only a transition-of-care plan has a follow-up contact');
      if (existing.completedAt) return undefined;
      const completedAt = new Date(whenMs);
      const resource = withFollowUpDone(existing.resource, when);
      return {
        write: { ...existing, status: resource.status, completedAt, resource },
        extras: { followUp: { carePlanId, completedAt, recordedAt: this.now(), recordedBy: options.actor ?? 'system' } },
      };
    });
    return record;
  }

  // ---- CP care plans and sign-off --------------------------------------------------------------

  /**
   * A CP's care plan (API or CSV): checked, matched to the roster member, stored as waiting for
   * sign-off and routed to the member's ACO. A resubmission with the same content changes nothing;
   * a changed one is a new version, back to pending.
   */
  async submitCarePlan(partnerId: string, resource: unknown, options: SubmitOptions = {}): Promise<SubmitResult> {
    const partner = this.deps.partners[partnerId];
    if (!partner) throw new CarePlanError('forbidden', `unknown partner '${partnerId}'`);
    if (partner.kind !== 'cp') throw new CarePlanError('forbidden', `partner '${partnerId}' is not a community partner (kind cp)`);
    const check = checkSubmission(resource);
    if (!check.ok) throw new CarePlanError('invalid', 'the care plan is not acceptable', check.issues);
    const { memberId, acoPartner, pcpPartner } = await this.routeMember(partnerId, check.memberIdentifiers);
    const hash = contentHash(check.plan);
    let outcome: SubmitResult['outcome'] = 'unchanged';
    const nowInstant = this.instant();
    const draft = normalizeSubmission(check.plan, { cpPartnerId: partnerId, cpName: partner.name, now: nowInstant });
    const { record } = await this.mutate(draft.id!, async (existing) => {
      if (existing && existing.kind !== 'cp-plan') throw new CarePlanError('conflict', 'the id belongs to another kind of care plan');
      if (existing && existing.contentHash === hash && existing.acoPartner === acoPartner && existing.pcpPartner === pcpPartner) return undefined;
      outcome = existing ? 'revised' : 'created';
      const plan = existing && check.plan.created === undefined ? { ...draft, created: existing.resource.created ?? nowInstant } : draft;
      const signoffDue = this.signoffDueDay(this.now(), acoPartner);
      return {
        write: {
          id: draft.id!,
          kind: 'cp-plan',
          memberId,
          cpPartner: partnerId,
          acoPartner,
          pcpPartner,
          encounterRef: null,
          status: plan.status,
          signoff: 'pending',
          dueAt: new Date(instantMillis(signoffDue.dueAt)!),
          createdAt: existing?.createdAt ?? this.now(),
          completedAt: null,
          resource: plan,
          contentHash: hash,
          lastMessageId: existing?.lastMessageId ?? null,
        },
      };
    });
    if (outcome === 'unchanged' && record.lastMessageId) {
      await this.redispatchIfUnfinished(record.lastMessageId);
      return { record, outcome, messageId: record.lastMessageId };
    }
    const messageId = await this.send(
      {
        sourceKind: options.channel === 'sftp' ? 'sftp' : 'api',
        sourceName: SUBMISSION_SOURCE,
        partnerId,
        sender: partnerId,
        controlId: record.id,
        messageType: 'FHIR',
        triggerEvent: 'CarePlan',
        dedupeKey: `careplan|submission|${record.id}|${record.version}`,
        raw: Buffer.from(JSON.stringify(record.resource), 'utf8'),
        identifiers: check.memberIdentifiers,
      },
      record.resource,
      record,
    );
    this.deps.log.info({ carePlanId: record.id, cp: partnerId, aco: acoPartner, pcpOrganization: pcpPartner, version: record.version, outcome }, 'care plan submitted');
    return { record: { ...record, lastMessageId: messageId }, outcome, messageId };
  }

  /**
   * When a plan submitted (or revised) at `from` must be signed: `unsignedDays` calendar days later
   * in the calendar of the ACO, which signs every CP plan (a PCP's organization may sign too, but is
   * optional and may change with a revision, so its calendar would move the deadline). A due date on a
   * weekend day or holiday of that calendar moves to its next business day: nobody is there to sign.
   */
  private signoffDueDay(from: Date, acoPartner: string): DueDay {
    const { settings } = this.deps;
    const plain = addCalendarDays(from, settings.unsignedDays, settings.timeZoneOf(acoPartner));
    return addBusinessDays(plain.dueDate, 0, settings.calendarAround(plain.dueDate, acoPartner));
  }

  /**
   * The member's roster id, checked to be this CP's member today, the ACO it goes to, and the PCP's
   * organization when the member's PCP today is listed by a partner (other than that ACO).
   */
  private async routeMember(
    cpPartnerId: string,
    identifiers: MemberIdentifier[],
  ): Promise<{ memberId: string; acoPartner: string; pcpPartner: string | null }> {
    const roster = this.deps.roster;
    if (!roster) throw new CarePlanError('unprocessable', 'no roster is configured: care plans cannot be matched to members');
    // The roster member id needs no matching; an unknown one is attributed to nobody (refused below).
    const direct = identifiers.find((i) => i.system === MEMBER_ID_SYSTEM)?.value;
    let memberId = direct;
    if (!memberId) {
      const match = await roster.resolve({ identifiers });
      if (match.kind !== 'matched') throw new CarePlanError('unprocessable', 'the care plan subject is not a member on the roster');
      memberId = match.member.memberId;
    }
    const today = this.deps.settings.localDate(this.now());
    const cps = await roster.attributedOn(memberId, today, 'cp');
    if (!cps.includes(cpPartnerId)) {
      // A member id taken as is may name nobody: the roster has no attribution for it either way.
      throw new CarePlanError('unprocessable', `the member is ${direct ? 'not on the roster or ' : ''}not attributed to ${cpPartnerId} today`);
    }
    const acos = [...(await roster.attributedOn(memberId, today, 'aco'))].sort();
    if (acos.length === 0) throw new CarePlanError('unprocessable', 'the member has no ACO attributed today: nobody to sign the care plan');
    if (acos.length > 1) this.deps.log.warn({ cp: cpPartnerId, acos }, 'member attributed to several ACOs today; the care plan goes to the first');
    const acoPartner = acos[0]!;
    return { memberId, acoPartner, pcpPartner: await this.pcpOrganizationOf(memberId, today, acoPartner) };
  }

  /**
   * The partner listing the member's PCP (roster attribution role pcp on `date`) in its pcpNpis;
   * null when there is none or it is the ACO itself. Only the roster counts, not a PCP the plan
   * names: a CP must not be able to send a member's plan to an organization of its choosing.
   */
  private async pcpOrganizationOf(memberId: string, date: string, acoPartner: string): Promise<string | null> {
    if (this.pcpOrganizations.size === 0 || !this.deps.members?.attributionHistory) return null;
    const history = await this.deps.members.attributionHistory(memberId);
    const organizations = [
      ...new Set(
        history
          .filter((a) => a.role === 'pcp' && a.start <= date && (a.end === undefined || a.end >= date))
          .map((a) => this.pcpOrganizations.get(a.partnerId))
          .filter((p): p is string => p !== undefined && p !== acoPartner),
      ),
    ].sort();
    if (organizations.length > 1) {
      this.deps.log.warn({ aco: acoPartner, organizations }, "member's PCPs today belong to several organizations; the care plan goes to the first");
    }
    return organizations[0] ?? null;
  }

  /**
   * The signing partner a decision is recorded for: the acting partner when given, else the one the
   * signer is (an Organization reference) or practices at (a PCP's NPI), else the ACO.
   */
  private signingPartnerOf(record: CarePlanRecord, who: Reference, actingPartner: string | undefined): string {
    const aco = record.acoPartner!;
    const pcp = record.pcpPartner;
    if (actingPartner !== undefined) return actingPartner;
    const org = partnerOf(who);
    if (org === aco || (pcp !== null && org === pcp)) return org;
    const npi = who.identifier?.system === NPI_SYSTEM ? who.identifier.value : undefined;
    if (pcp !== null && npi !== undefined && this.pcpOrganizations.get(npi) === pcp) return pcp;
    return aco;
  }

  /**
   * The PCP's decision on a CP care plan: status, sign-off tag and note per applySignoff, the
   * Provenance stored with it, and the CP and the other possible signer notified (CarePlan +
   * Provenance). The same decision recorded twice (a resent file, a retried call) is one decision;
   * another decision on a version already decided is a conflict.
   */
  async recordSignoff(carePlanId: string, request: SignoffRequest): Promise<SignoffResultInfo> {
    if (instantMillis(request.when) === undefined) throw new CarePlanError('invalid', 'when must be a FHIR instant (with seconds and offset)');
    if (instantMillis(request.when)! > this.now().getTime() + 5 * 60_000) throw new CarePlanError('invalid', 'when is in the future');
    let provenance: Provenance | undefined;
    let outcome: SignoffResultInfo['outcome'] = 'recorded';
    let signingPartner: string | undefined;
    const { record } = await this.mutate(carePlanId, async (existing) => {
      if (!existing) throw new CarePlanError('not-found', 'care plan not found');
      // The ACO and the PCP's organization both sign; anyone else does not see the plan.
      if (request.actingPartner !== undefined && existing.acoPartner !== request.actingPartner && existing.pcpPartner !== request.actingPartner) {
        throw new CarePlanError('not-found', 'care plan not found');
      }
      if (existing.kind !== 'cp-plan' || !existing.acoPartner) throw new CarePlanError('conflict', 'only a CP care plan is signed off');
      const who = toReference(request.who);
      signingPartner = this.signingPartnerOf(existing, who, request.actingPartner);
      const signoffs = await this.deps.store.listSignoffs(carePlanId);
      const previous = signoffs.find((s) => s.decision === request.decision && s.provenance.occurredDateTime === request.when && sameAgent(s.provenance, who));
      if (previous) {
        provenance = previous.provenance;
        outcome = 'duplicate';
        return undefined;
      }
      // One decision per submitted version: the first signer (ACO or PCP's organization) decides, and
      // the other is told; only a revision by the CP (back to pending) opens a new sign-off.
      if (existing.signoff !== 'pending') throw alreadyDecided(existing.signoff, signoffs);
      if (request.version !== undefined && request.version !== existing.version) {
        throw new CarePlanError('conflict', `the care plan was revised: version ${existing.version} is current, not ${request.version}`);
      }
      const signingOrganization = partnerOrganization(signingPartner, this.deps.partners[signingPartner]?.name);
      const signerIsOrganization = partnerOf(who) === signingPartner;
      const recorded = this.instant();
      let result;
      try {
        result = applySignoff(existing.resource, {
          carePlanRef: `CarePlan/${existing.id}/_history/${existing.version}`,
          who,
          ...(signerIsOrganization ? {} : { onBehalfOf: signingOrganization }),
          when: request.when,
          recorded,
          method: request.method,
          decision: request.decision,
          ...(request.reason !== undefined ? { reason: request.reason } : {}),
        });
      } catch (e) {
        // The builders check references, methods and instants; their messages name fields, not values.
        throw new CarePlanError('invalid', (e as Error).message);
      }
      if (!result.ok) throw new CarePlanError('conflict', result.reason);
      provenance = result.provenance;
      const approved = request.decision === 'approved';
      return {
        write: {
          ...existing,
          status: result.plan.status,
          signoff: request.decision,
          completedAt: approved ? new Date(instantMillis(request.when)!) : null,
          resource: result.plan,
        },
        extras: {
          signoff: {
            id: result.provenance.id!,
            carePlanId,
            planVersion: existing.version,
            decision: request.decision,
            method: request.method,
            decidedAt: new Date(instantMillis(request.when)!),
            recordedAt: new Date(instantMillis(recorded)!),
            provenance: result.provenance,
          },
        },
      };
    });
    const prov = provenance!;
    // uuidV5(JSON.stringify) rather than idFromParts: the id is typed optional, and these ids must not change.
    const bundle = signoffBundle(uuidV5(JSON.stringify(['careplan-signoff-bundle', prov.id])), record.resource, prov, prov.recorded);
    const messageId = await this.send(
      {
        sourceKind: request.method === 'file' ? 'sftp' : 'api',
        sourceName: SIGNOFF_SOURCE,
        partnerId: signingPartner ?? record.acoPartner,
        sender: signingPartner ?? record.acoPartner,
        controlId: prov.id,
        messageType: 'FHIR',
        triggerEvent: 'Provenance',
        dedupeKey: `careplan|signoff|${prov.id}`,
        raw: Buffer.from(JSON.stringify(bundle), 'utf8'),
      },
      bundle,
      undefined,
    );
    this.deps.log.info({ carePlanId, decision: request.decision, method: request.method, outcome }, 'care plan sign-off recorded');
    return { record, provenance: prov, outcome, messageId };
  }

  // ---- reading ----------------------------------------------------------------------------------

  async get(carePlanId: string): Promise<CarePlanDetail | null> {
    const record = await this.deps.store.get(carePlanId);
    if (!record) return null;
    const [signoffs, followUp] = await Promise.all([this.deps.store.listSignoffs(carePlanId), this.deps.store.getFollowUp(carePlanId)]);
    return { record, signoffs, followUp };
  }

  list(query: CarePlanQuery): Promise<Page<CarePlanRecord>> {
    return this.deps.store.list(query);
  }

  /** A page of the partner's open obligations (as CP and as ACO), by due date. */
  async dueList(partnerId: string, now: Date, page: { limit?: number; cursor?: string | null; overdueOnly?: boolean } = {}): Promise<Page<DueItem>> {
    const result = await this.deps.store.listOpen({
      partner: partnerId,
      limit: page.limit,
      cursor: page.cursor,
      ...(page.overdueOnly ? { dueBefore: new Date(now.getTime() - 999) } : {}),
    });
    return { items: result.items.map((r) => this.dueItem(r, now)), next: result.next };
  }

  /**
   * Every open obligation of a partner: follow-ups not yet completed (as CP) and care plans not yet
   * signed (as CP or ACO), each `due` or, past the end of its due date, `overdue`.
   */
  async dueAndOverdue(partnerId: string, now: Date = this.now()): Promise<DueItem[]> {
    const out: DueItem[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<DueItem> = await this.dueList(partnerId, now, { limit: PAGE, cursor });
      out.push(...page.items);
      cursor = page.next;
    } while (cursor);
    return out;
  }

  private dueItem(r: CarePlanRecord, now: Date): DueItem {
    const due = r.dueAt!;
    // In the zone the due date was counted in: the CP's for a follow-up, the ACO's for a sign-off.
    const zonePartner = (r.kind === 'transition-of-care' ? r.cpPartner : r.acoPartner) ?? undefined;
    const zone = this.deps.settings.timeZoneOf(zonePartner);
    return {
      carePlanId: r.id,
      kind: r.kind,
      obligation: r.kind === 'transition-of-care' ? 'follow-up' : 'signoff',
      memberId: r.memberId,
      cpPartner: r.cpPartner,
      acoPartner: r.acoPartner,
      signoff: r.signoff,
      dueAt: formatInstantInZone(due.getTime(), zone),
      dueDate: this.deps.settings.localDate(due, zonePartner),
      // dueAt is the last whole second of the due date: overdue from the next local midnight.
      state: now.getTime() >= due.getTime() + 1000 ? 'overdue' : 'due',
    };
  }

  /** The weekly status CSV of a CP (columns in weekly-status.ts). */
  async weeklyStatus(partnerId: string, now: Date = this.now()): Promise<string> {
    const plans: StatusPlan[] = [];
    const seenMembers = new Set<string>();
    for await (const r of this.all({ partner: partnerId, role: 'cp' })) {
      if (r.memberId) seenMembers.add(r.memberId);
      if (r.kind === 'cp-plan') plans.push({ ...r, created: r.resource.created, dueTimeZone: this.deps.settings.timeZoneOf(r.acoPartner ?? undefined) });
    }
    const members = this.deps.members
      ? await this.deps.members.membersOf(partnerId, this.deps.settings.localDate(now), 'cp')
      : seenMembers;
    return weeklyStatusCsv(weeklyStatusRows({ members, plans, now, timeZone: this.deps.settings.timeZone }));
  }

  private async *all(query: CarePlanQuery): AsyncGenerator<CarePlanRecord> {
    let cursor: string | null = null;
    do {
      const page: Page<CarePlanRecord> = await this.deps.store.list({ ...query, limit: PAGE, cursor });
      yield* page.items;
      cursor = page.next;
    } while (cursor);
  }

  /**
   * Stores this week's status file of a partner as a message and delivers it to the configured
   * destination. Once per partner and week (the slot's local date keys it).
   */
  async sendWeeklyStatus(partnerId: string, slot: Date): Promise<string> {
    const week = slotDate(slot, this.deps.settings.timeZone);
    const csv = await this.weeklyStatus(partnerId, slot);
    const binary = statusBinary(idFromParts(['careplan-status', partnerId, week]), partnerId, csv);
    binary.meta!.tag!.push({ system: WEEK_TAG_SYSTEM, code: week });
    const messageId = await this.send(
      {
        sourceKind: 'api',
        sourceName: STATUS_SOURCE,
        partnerId,
        sender: null,
        controlId: `${partnerId}-${week}`,
        messageType: 'CSV',
        triggerEvent: 'careplan-status',
        dedupeKey: `careplan|status|${partnerId}|${week}`,
        raw: Buffer.from(JSON.stringify(binary), 'utf8'),
      },
      binary,
      undefined,
    );
    this.deps.log.info({ partner: partnerId, week, messageId }, 'weekly care-plan status file queued');
    return messageId;
  }

  // ---- outbound ---------------------------------------------------------------------------------

  /**
   * Deliveries of a stored care-plan message (the pipeline's FHIR hook); undefined for any other
   * source, which the route table handles.
   */
  async deliveriesFor(sourceName: string, resource: unknown): Promise<DeliveryInput[] | undefined> {
    switch (sourceName) {
      case SUBMISSION_SOURCE: {
        if (!isResource<CarePlan>(resource, 'CarePlan') || !resource.id) return [];
        const record = await this.deps.store.get(resource.id);
        if (!record?.acoPartner) return [];
        const bundle = carePlanBundle(
          idFromParts(['careplan-submission-bundle', resource.id, resource.meta?.versionId ?? '']),
          [resource],
          resource.meta?.lastUpdated ?? this.instant(),
        );
        const name = `careplan-${resource.id}-v${resource.meta?.versionId ?? '0'}.json`;
        return this.toPartners([record.acoPartner, record.pcpPartner], `careplan:${resource.id}`, bundle, name);
      }
      case SIGNOFF_SOURCE: {
        if (!isResource<Bundle>(resource, 'Bundle')) return [];
        const resources = resource.entry?.map((e) => e.resource) ?? [];
        const plan = resources.find((r): r is CarePlan => r?.resourceType === 'CarePlan');
        const provenance = resources.find((r): r is Provenance => r?.resourceType === 'Provenance');
        const record = plan?.id ? await this.deps.store.get(plan.id) : null;
        if (!record) return [];
        // The CP learns the outcome, and so does the other possible signer (ACO or PCP's organization),
        // whose copy would otherwise stay pending. The signer itself knows.
        const signer = provenance ? signingPartnerOf(provenance) : undefined;
        const otherSigners = [record.acoPartner, record.pcpPartner].filter((p) => p !== signer);
        return this.toPartners([record.cpPartner, ...otherSigners], `careplan:${record.id}`, resource, `careplan-signoff-${resource.id}.json`);
      }
      case STATUS_SOURCE: {
        if (!isResource<Binary>(resource, 'Binary')) return [];
        const partner = statusBinaryPartner(resource);
        const week = resource.meta?.tag?.find((t) => t.system === WEEK_TAG_SYSTEM)?.code ?? 'week';
        const targets = this.deps.settings.weeklyStatus.files.filter((f) => f.partner === partner);
        return targets.map((t) => ({
          destination: t.destination,
          patientKey: `careplan-status:${partner}`,
          payload:
            this.deps.destinationTypes.get(t.destination) === 'sftp'
              ? JSON.stringify({ fileName: safeFileName(`careplan-status-${partner}-${week}.csv`), content: statusBinaryCsv(resource) } satisfies FilePayload)
              : JSON.stringify(carePlanBundle(uuidV5(JSON.stringify(['careplan-status-bundle', resource.id])), [resource], this.instant())),
        }));
      }
      default:
        return undefined;
    }
  }

  /** One delivery per destination of these partners, should two of them share one. */
  private toPartners(partnerIds: readonly (string | null)[], patientKey: string, bundle: Bundle, fileName: string): DeliveryInput[] {
    const out: DeliveryInput[] = [];
    for (const partnerId of partnerIds) {
      if (partnerId === null) continue;
      for (const d of this.toPartner(partnerId, patientKey, bundle, fileName)) {
        if (!out.some((o) => o.destination === d.destination)) out.push(d);
      }
    }
    return out;
  }

  /** One delivery to the partner's `destinations.careplan`, shaped for its type. */
  private toPartner(partnerId: string, patientKey: string, bundle: Bundle, fileName: string): DeliveryInput[] {
    const destination = this.deps.partners[partnerId]?.destinations.careplan;
    if (!destination) {
      this.deps.log.warn({ partner: partnerId }, 'partner declares no careplan destination; the care plan is kept for the API only');
      return [];
    }
    const type = this.deps.destinationTypes.get(destination);
    if (type === 'sftp') {
      return [{ destination, patientKey, payload: JSON.stringify({ fileName: safeFileName(fileName), content: JSON.stringify(bundle) } satisfies FilePayload) }];
    }
    if (type === 'webhook' || type === 'fhir') return [{ destination, patientKey, payload: JSON.stringify(bundle) }];
    this.deps.log.warn({ partner: partnerId, destination, type }, 'careplan destination type cannot carry care plans (use webhook, fhir or sftp)');
    return [];
  }

  /**
   * Stores the outbound message (idempotent by dedupe key) and has it dispatched unless an earlier
   * call already did. A dispatch failure leaves the message `received`: the recovery sweep routes it.
   */
  private async send(input: InboundInput, resource: { resourceType: string }, record: CarePlanRecord | undefined): Promise<string> {
    const [stored] = await this.deps.messages.acceptInbound([input]);
    const result = stored!;
    if (!result.duplicate || result.status === 'received') {
      await this.deps
        .dispatch(result.id, input.sourceName, resource, Date.now())
        .catch((e) => this.deps.log.warn({ messageId: result.id, err: (e as Error).message }, 'care-plan message left to the recovery sweep'));
    }
    if (record && record.lastMessageId !== result.id) await this.deps.store.setLastMessage(record.id, result.id);
    return result.id;
  }

  /** A message a crash left `received` (stored, never routed) is routed now. */
  private async redispatchIfUnfinished(messageId: string): Promise<void> {
    const stored = await this.deps.messages.getMessageRaw(messageId);
    if (stored?.status !== 'received') return;
    const resource = JSON.parse(stored.raw.toString('utf8')) as { resourceType: string };
    await this.deps
      .dispatch(messageId, stored.sourceName, resource, stored.receivedAt.getTime())
      .catch((e) => this.deps.log.warn({ messageId, err: (e as Error).message }, 'care-plan message left to the recovery sweep'));
  }

  // ---- scheduling --------------------------------------------------------------------------------

  /** Starts the weekly status timer (when any file is configured), catching up on a missed week. */
  start(): void {
    const { weeklyStatus, timeZone } = this.deps.settings;
    if (this.timer || weeklyStatus.files.length === 0) return;
    this.timer = new WeeklyTimer({ weekday: weeklyStatus.weekday, time: weeklyStatus.time, timeZone }, (slot) => this.runWeek(slot), this.now);
    this.timer.start();
  }

  stop(): void {
    this.timer?.stop();
    this.timer = undefined;
  }

  /** The slot whose file is due by `now` (for status displays and tests). */
  currentWeeklySlot(now: Date = this.now()): Date {
    const { weeklyStatus, timeZone } = this.deps.settings;
    return latestWeeklySlot(now, { weekday: weeklyStatus.weekday, time: weeklyStatus.time, timeZone });
  }

  private async runWeek(slot: Date): Promise<void> {
    const partners = [...new Set(this.deps.settings.weeklyStatus.files.map((f) => f.partner))];
    let failed = 0;
    for (const partner of partners) {
      try {
        await this.sendWeeklyStatus(partner, slot);
      } catch (e) {
        failed++;
        this.deps.log.warn({ partner, err: (e as Error).message }, 'weekly care-plan status file failed');
      }
    }
    if (failed) throw new Error(`${failed} weekly status file(s) failed`);
  }

  // ---- optimistic updates -------------------------------------------------------------------------

  /**
   * Read, change, save if nobody changed it meanwhile; again on a conflict. `change` returns the
   * new row (and extras), or undefined to keep the stored one as it is.
   */
  private async mutate(
    id: string,
    change: (existing: CarePlanRecord | null) => Promise<{ write: CarePlanWrite; extras?: SaveExtras } | undefined>,
  ): Promise<{ record: CarePlanRecord }> {
    for (let attempt = 1; ; attempt++) {
      const existing = await this.deps.store.get(id);
      const next = await change(existing);
      if (!next) return { record: existing! };
      const version = existing?.version ?? 0;
      const write: CarePlanWrite = { ...next.write, resource: withMeta(next.write.resource, version + 1, this.instant()) };
      const saved = await this.deps.store.save(write, version, next.extras);
      if (saved) return { record: saved };
      if (attempt >= MAX_SAVE_ATTEMPTS) throw new CarePlanError('conflict', 'the care plan is being changed concurrently; try again');
    }
  }
}

const WEEK_TAG_SYSTEM = 'https://carebridge.example.org/fhir/CodeSystem/status-file-week';

/** meta.versionId / lastUpdated as the store will hold them (tags kept). */
function withMeta(plan: CarePlan, version: number, lastUpdated: string): CarePlan {
  return { ...plan, meta: { ...plan.meta, versionId: String(version), lastUpdated } };
}

/** The follow-up contact activity completed, and with it the plan (its only activity). */
function withFollowUpDone(plan: CarePlan, when: string): CarePlan {
  const target = followUpActivity(plan);
  const activity = plan.activity?.map((a) =>
    a === target && a.detail ? { ...a, detail: { ...a.detail, status: 'completed' as const, scheduledPeriod: { ...a.detail.scheduledPeriod } } } : a,
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
      reference: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value.id) ? `urn:uuid:${value.id}` : `${type}/${value.id}`,
      type,
      ...(identifier ? { identifier: { system: identifier.system, value: identifier.value } } : {}),
    };
  }
  return toReference(value);
}

/** The decision standing: the latest on the newest version signed (undefined when none). */
export function standingSignoff(signoffs: readonly SignoffRecord[]): SignoffRecord | undefined {
  return signoffs.reduce<SignoffRecord | undefined>(
    (best, s) => (!best || s.planVersion > best.planVersion || (s.planVersion === best.planVersion && s.recordedAt >= best.recordedAt) ? s : best),
    undefined,
  );
}

/** The conflict for a sign-off of a plan whose current version is already decided: says by whom and when. */
export function alreadyDecided(state: CarePlanRecord['signoff'], signoffs: readonly SignoffRecord[]): CarePlanError {
  const standing = standingSignoff(signoffs);
  const partner = standing ? signingPartnerOf(standing.provenance) : undefined;
  const by = [partner ? `by ${partner}` : '', standing?.provenance.occurredDateTime ? `at ${standing.provenance.occurredDateTime}` : ''].filter(Boolean).join(' ');
  return new CarePlanError(
    'conflict',
    `the care plan is already ${state ?? 'decided'}${by ? ` (${by})` : ''}; a new version must be submitted before it is signed off again`,
  );
}

function sameAgent(provenance: Provenance, who: Reference): boolean {
  const agent = provenance.agent[0]?.who;
  if (!agent) return false;
  try {
    return referenceKey(agent) === referenceKey(who);
  } catch {
    return false;
  }
}
