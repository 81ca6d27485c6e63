// Care plans: business-day calendar, transition-of-care follow-up plans, PCP sign-off (pure builders),
// and the service, store, file import and weekly status file built on them.
export {
  addBusinessDays,
  addCalendarDays,
  businessDaysBetween,
  isBusinessDay,
  isPastDue,
  MAX_BUSINESS_DAYS,
  type BusinessCalendarOptions,
  type DayOrInstant,
  type DueDay,
} from './business-days.js';
export { usFederalHolidayDates, usFederalHolidays, type FederalHoliday, type FederalHolidayOptions } from './us-federal-holidays.js';
export {
  buildTransitionOfCarePlan,
  DEFAULT_FOLLOW_UP_BUSINESS_DAYS,
  FOLLOW_UP_CONTACT_CODE,
  followUpActivity,
  isFollowUpOverdue,
  TRANSITION_OF_CARE_CATEGORY,
  transitionOfCareDue,
  transitionOfCarePlanId,
  type TransitionOfCarePlanInput,
} from './transition-of-care.js';
export {
  applySignoff,
  buildSignoffProvenance,
  CAREBRIDGE_CANONICAL_BASE,
  isOverdue,
  SIGNOFF_DECISION_EXTENSION,
  SIGNOFF_METHOD_EXTENSION,
  SIGNOFF_REASON_EXTENSION,
  SIGNOFF_STATUS_SYSTEM,
  signoffDue,
  signoffProvenanceId,
  signoffStatusOf,
  withPendingSignoff,
  type SignoffDecision,
  type SignoffDueOptions,
  type SignoffInput,
  type SignoffMethod,
  type SignoffResult,
  type SignoffStatus,
} from './signoff.js';
export type { ReferenceInput } from './references.js';
export { CarePlanError, type CarePlanErrorCode } from './errors.js';
export { MEMBER_ID_SYSTEM, checkSubmission, cpPlanId, cpPlanIdSystem, normalizeSubmission, subjectIdentifiers } from './submission.js';
export { PARTNER_ID_SYSTEM, partnerOrganization, partnerOf } from './partners.js';
export { resolveCarePlanSettings, DEFAULT_CAREPLANS_CONFIG, type CarePlanSettings, type CarePlansConfig } from './settings.js';
export { CAREPLAN_SOURCES, SIGNOFF_SOURCE, STATUS_SOURCE, SUBMISSION_SOURCE, type FilePayload } from './outbound.js';
export { WEEKLY_STATUS_COLUMNS, weeklyStatusCsv, weeklyStatusRows, type StatusRow } from './weekly-status.js';
export { latestWeeklySlot, nextWeeklySlot, WeeklyTimer, type WeeklySlot } from './weekly-schedule.js';
export {
  CarePlanService,
  type CarePlanDetail,
  type CarePlanPartner,
  type CarePlanServiceDeps,
  type DischargeInput,
  type Dispatch,
  type DueItem,
  type MemberDirectory,
  type SignoffRequest,
  type SubmitResult,
} from './service.js';
export { carePlanFileConsumer, importCarePlanFile, type CarePlanFileResult } from './file-import.js';
export { openCarePlanStore } from './store/careplan-store.js';
export type * from './store/types.js';
export { openCarePlans, type CarePlans, type CarePlansOptions } from './open-careplans.js';
