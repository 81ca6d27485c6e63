// Care plans: business-day calendar, transition-of-care follow-up plans, PCP sign-off. Pure, no I/O.
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
