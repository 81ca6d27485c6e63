// Care plans end to end: the transition-of-care plan created on a discharge, CP care plans routed to
// the member's ACO for PCP sign-off, the sign-off recorded and sent back to the CP, follow-up
// completion, due/overdue lists and the weekly status file.
//
// This class is the one face of those jobs (each in jobs/, sharing jobs/context.ts). Every outbound
// care-plan event is a message in the message store (raw = the FHIR content, source names in
// outbound.ts) whose deliveries `deliveriesFor` decides; `dispatch` (the pipeline's FHIR path in the
// gateway) completes it and enqueues them. The plan is saved first, then the message is stored: a
// caller that saw an error retries, and every step is idempotent (deterministic ids, dedupe keys per
// plan version / decision / week), so a retry finishes what a crash interrupted.
import type { CarePlan } from 'fhir/r4.js';
import type { DeliveryInput } from '../store/types.js';
import { CarePlanContext, type CarePlanServiceDeps } from './jobs/context.js';
import { dueAndOverdue, dueList, type DueItem } from './jobs/due-list.js';
import { completeFollowUp, onDischarge, transitionOfCare, type DischargeInput } from './jobs/follow-ups.js';
import { deliveriesFor } from './jobs/outbound-routing.js';
import { recordSignoff, type SignoffRequest, type SignoffResultInfo } from './jobs/signoff.js';
import { submitCarePlan, type SubmitOptions, type SubmitResult } from './jobs/submission.js';
import { WeeklyStatusJob } from './jobs/weekly-status-job.js';
import type { CarePlanQuery, CarePlanRecord, FollowUpRecord, Page, SignoffRecord } from './store/types.js';

export type { CarePlanPartner, CarePlanServiceDeps, Dispatch, MemberDirectory } from './jobs/context.js';
export type { DueItem } from './jobs/due-list.js';
export type { DischargeInput } from './jobs/follow-ups.js';
export { alreadyDecided, standingSignoff, type SignoffRequest, type SignoffResultInfo } from './jobs/signoff.js';
export type { SubmitOptions, SubmitResult } from './jobs/submission.js';

export interface CarePlanDetail {
  record: CarePlanRecord;
  signoffs: SignoffRecord[];
  followUp: FollowUpRecord | null;
}

export class CarePlanService {
  private readonly ctx: CarePlanContext;
  private readonly weekly: WeeklyStatusJob;

  constructor(deps: CarePlanServiceDeps) {
    this.ctx = new CarePlanContext(deps);
    this.weekly = new WeeklyStatusJob(this.ctx);
  }

  // ---- transition of care (jobs/follow-ups.ts) ---------------------------------------------------

  /** The CP's transition-of-care plan for a discharge, created or updated; the stored CarePlan. */
  onDischarge(input: DischargeInput): Promise<CarePlan> {
    return onDischarge(this.ctx, input);
  }

  /** onDischarge for the pipeline: a discharge that cannot be planned for is logged and skipped. */
  transitionOfCare(input: DischargeInput): Promise<CarePlan | undefined> {
    return transitionOfCare(this.ctx, input);
  }

  /** The CP made the follow-up contact: the activity and the plan are completed. Idempotent. */
  completeFollowUp(carePlanId: string, when: string, options: { actingPartner?: string; actor?: string } = {}): Promise<CarePlanRecord> {
    return completeFollowUp(this.ctx, carePlanId, when, options);
  }

  // ---- CP care plans (jobs/submission.ts) and sign-off (jobs/signoff.ts) ----------------------

  /** A CP's care plan (API or CSV): matched to its member, stored pending sign-off, routed to the ACO. */
  submitCarePlan(partnerId: string, resource: unknown, options: SubmitOptions = {}): Promise<SubmitResult> {
    return submitCarePlan(this.ctx, partnerId, resource, options);
  }

  /** The PCP's decision on a CP care plan, recorded once and sent to the CP and the other signer. */
  recordSignoff(carePlanId: string, request: SignoffRequest): Promise<SignoffResultInfo> {
    return recordSignoff(this.ctx, carePlanId, request);
  }

  // ---- reading (jobs/due-list.ts) ----------------------------------------------------------------

  async get(carePlanId: string): Promise<CarePlanDetail | null> {
    const { store } = this.ctx.deps;
    const record = await store.get(carePlanId);
    if (!record) return null;
    const [signoffs, followUp] = await Promise.all([store.listSignoffs(carePlanId), store.getFollowUp(carePlanId)]);
    return { record, signoffs, followUp };
  }

  list(query: CarePlanQuery): Promise<Page<CarePlanRecord>> {
    return this.ctx.deps.store.list(query);
  }

  /** A page of the partner's open obligations (as CP and as ACO), by due date. */
  dueList(
    partnerId: string,
    now: Date,
    page: { limit?: number; cursor?: string | null; overdueOnly?: boolean } = {},
  ): Promise<Page<DueItem>> {
    return dueList(this.ctx, partnerId, now, page);
  }

  /** Every open obligation of a partner, each `due` or, past the end of its due date, `overdue`. */
  dueAndOverdue(partnerId: string, now: Date = this.ctx.now()): Promise<DueItem[]> {
    return dueAndOverdue(this.ctx, partnerId, now);
  }

  // ---- the weekly status job (jobs/weekly-status-job.ts) ----------------------------------------

  /** The weekly status CSV of a CP (columns in weekly-status.ts). */
  weeklyStatus(partnerId: string, now: Date = this.ctx.now()): Promise<string> {
    return this.weekly.csv(partnerId, now);
  }

  /** This week's status file of a partner, stored as a message and delivered; once per week. */
  sendWeeklyStatus(partnerId: string, slot: Date): Promise<string> {
    return this.weekly.send(partnerId, slot);
  }

  /** Starts the weekly status timer (when any file is configured), catching up on a missed week. */
  start(): void {
    this.weekly.start();
  }

  stop(): void {
    this.weekly.stop();
  }

  /** The slot whose file is due by `now` (for status displays and tests). */
  currentWeeklySlot(now: Date = this.ctx.now()): Date {
    return this.weekly.currentSlot(now);
  }

  // ---- outbound routing (jobs/outbound-routing.ts) ----------------------------------------------

  /** Deliveries of a stored care-plan message (the pipeline's FHIR hook); undefined for other sources. */
  deliveriesFor(sourceName: string, resource: unknown): Promise<DeliveryInput[] | undefined> {
    return deliveriesFor(this.ctx, sourceName, resource);
  }
}
