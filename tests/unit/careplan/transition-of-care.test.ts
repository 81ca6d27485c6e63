import { describe, expect, it } from 'vitest';
import type { CarePlan } from 'fhir/r4.js';
import { usFederalHolidayDates } from '../../../src/careplan/us-federal-holidays.js';
import {
  buildTransitionOfCarePlan,
  followUpActivity,
  isFollowUpOverdue,
  transitionOfCareDue,
  transitionOfCarePlanId,
  type TransitionOfCarePlanInput,
} from '../../../src/careplan/transition-of-care.js';
import { errorsOf, formatIssues, validateWithBoth } from '../../helpers/validate-fhir.js';

const calendar = { timeZone: 'America/New_York', holidays: usFederalHolidayDates(2024) };
// Friday 23:30 in New York: a Friday discharge, due Wednesday.
const dischargeAt = '2024-05-10T23:30:00-04:00';

function input(overrides: Partial<TransitionOfCarePlanInput> = {}): TransitionOfCarePlanInput {
  return {
    patientRef: 'Patient/5c1f6a1e-3b0c-5d7e-9a2f-0b1c2d3e4f50',
    encounterRef: { reference: 'Encounter/7d2e8b4c-1a3f-5e6d-8c9b-2a3b4c5d6e7f', display: 'Inpatient stay' },
    cpOrganization: { reference: 'Organization/cp-north', display: 'North Community Partner' },
    dischargeAt,
    dueAt: transitionOfCareDue(dischargeAt, calendar),
    followUpBusinessDays: 3,
    ...overrides,
  };
}

function expectValid(plan: CarePlan): void {
  const issues = validateWithBoth(plan);
  expect(errorsOf(issues), formatIssues(issues)).toEqual([]);
}

describe('buildTransitionOfCarePlan', () => {
  it('builds an active transition-of-care plan with a follow-up contact due at the end of the due day', () => {
    const plan = buildTransitionOfCarePlan(input());
    expect(plan).toMatchObject({
      resourceType: 'CarePlan',
      status: 'active',
      intent: 'plan',
      category: [{ coding: [{ system: 'http://snomed.info/sct', code: '736372004' }], text: 'Transition of care' }],
      subject: { reference: 'Patient/5c1f6a1e-3b0c-5d7e-9a2f-0b1c2d3e4f50' },
      encounter: { reference: 'Encounter/7d2e8b4c-1a3f-5e6d-8c9b-2a3b4c5d6e7f' },
      supportingInfo: [{ reference: 'Encounter/7d2e8b4c-1a3f-5e6d-8c9b-2a3b4c5d6e7f' }],
      author: { reference: 'Organization/cp-north' },
      period: { start: dischargeAt, end: '2024-05-15T23:59:59-04:00' },
    });
    expect(plan.addresses).toBeUndefined(); // R4: addresses is Reference(Condition) only
    expect(plan.activity).toHaveLength(1);
    expect(plan.activity![0]!.detail).toEqual({
      kind: 'Task',
      code: {
        coding: [{ system: 'http://snomed.info/sct', code: '390906007', display: 'Follow-up encounter (procedure)' }],
        text: 'Follow-up contact',
      },
      status: 'not-started',
      scheduledPeriod: { start: dischargeAt, end: '2024-05-15T23:59:59-04:00' },
      performer: [{ reference: 'Organization/cp-north', display: 'North Community Partner' }],
      description: 'Contact the member within 3 business days of discharge.',
    });
    expect(plan.created).toBeUndefined();
    expectValid(plan);
  });

  it('validates with urn:uuid references, a date-only discharge, created and a string dueAt', () => {
    const plan = buildTransitionOfCarePlan(
      input({
        patientRef: 'urn:uuid:5c1f6a1e-3b0c-5d7e-9a2f-0b1c2d3e4f50',
        encounterRef: 'urn:uuid:7d2e8b4c-1a3f-5e6d-8c9b-2a3b4c5d6e7f',
        dischargeAt: '2024-05-10',
        dueAt: '2024-05-15T23:59:59-04:00',
        created: '2024-05-11T03:31:02Z',
        followUpBusinessDays: 1,
      }),
    );
    expect(plan.created).toBe('2024-05-11T03:31:02Z');
    expect(plan.activity![0]!.detail!.description).toBe('Contact the member within 1 business day of discharge.');
    expectValid(plan);
  });

  it('is deterministic: same input, same JSON; the id depends on CP and encounter only', () => {
    const a = buildTransitionOfCarePlan(input());
    const b = buildTransitionOfCarePlan(input());
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // A corrected discharge time updates the same plan.
    expect(buildTransitionOfCarePlan(input({ dischargeAt: '2024-05-10T20:00:00-04:00' })).id).toBe(a.id);
    expect(buildTransitionOfCarePlan(input({ cpOrganization: 'Organization/cp-south' })).id).not.toBe(a.id);
    expect(buildTransitionOfCarePlan(input({ encounterRef: 'Encounter/other' })).id).not.toBe(a.id);
    expect(a.id).toBe(transitionOfCarePlanId('Organization/cp-north', 'Encounter/7d2e8b4c-1a3f-5e6d-8c9b-2a3b4c5d6e7f'));
    expect(buildTransitionOfCarePlan(input({ id: 'given-id' })).id).toBe('given-id');
  });

  it('keys ids on logical references too', () => {
    const encounterRef = { type: 'Encounter', identifier: { system: 'urn:oid:2.16.840.1.113883.3.999.2', value: 'V100' } };
    const plan = buildTransitionOfCarePlan(input({ encounterRef }));
    expect(plan.id).toBe(transitionOfCarePlanId('Organization/cp-north', encounterRef));
    expectValid(plan);
  });

  it('rejects references of the wrong type and inconsistent times', () => {
    expect(() => buildTransitionOfCarePlan(input({ patientRef: 'Encounter/1' }))).toThrow(/patientRef: must reference Patient/);
    expect(() => buildTransitionOfCarePlan(input({ encounterRef: 'Patient/1' }))).toThrow(/encounterRef/);
    expect(() => buildTransitionOfCarePlan(input({ cpOrganization: 'Practitioner/1' }))).toThrow(/cpOrganization/);
    expect(() => buildTransitionOfCarePlan(input({ patientRef: {} }))).toThrow(/needs \.reference or \.identifier/);
    expect(() => buildTransitionOfCarePlan(input({ dueAt: '2024-05-09T23:59:59-04:00' }))).toThrow(/before dischargeAt/);
    expect(() => buildTransitionOfCarePlan(input({ dueAt: '2024-05-15' }))).toThrow(/dueAt is not a FHIR instant/);
    expect(() => buildTransitionOfCarePlan(input({ dischargeAt: '2024-05-10T23:30' }))).toThrow(/dischargeAt/);
    expect(() => buildTransitionOfCarePlan(input({ created: 'yesterday' }))).toThrow(/created/);
  });
});

describe('transitionOfCareDue', () => {
  it('defaults to 3 business days in the partner zone', () => {
    expect(transitionOfCareDue('2024-07-03T16:00:00-04:00', calendar)).toEqual({
      dueDate: '2024-07-09',
      dueAt: '2024-07-09T23:59:59-04:00',
      timeZone: 'America/New_York',
    });
    expect(transitionOfCareDue('2024-07-03T16:00:00-04:00', calendar, 1).dueDate).toBe('2024-07-05');
  });
});

describe('isFollowUpOverdue', () => {
  const plan = buildTransitionOfCarePlan(input());

  it('is overdue from local midnight after the due date until the contact is done', () => {
    expect(isFollowUpOverdue(plan, '2024-05-15T23:59:00-04:00')).toBe(false);
    expect(isFollowUpOverdue(plan, '2024-05-16T00:00:00-04:00')).toBe(true);
    expect(isFollowUpOverdue(plan, new Date('2024-06-01T00:00:00Z'))).toBe(true);
  });

  it('is not overdue once the activity is completed or cancelled, or the plan is no longer active', () => {
    const late = '2024-06-01T00:00:00Z';
    for (const status of ['completed', 'cancelled', 'stopped', 'entered-in-error'] as const) {
      const done: CarePlan = structuredClone(plan);
      done.activity![0]!.detail!.status = status;
      expect(isFollowUpOverdue(done, late)).toBe(false);
    }
    expect(isFollowUpOverdue({ ...plan, status: 'completed' }, late)).toBe(false);
    expect(isFollowUpOverdue({ ...plan, activity: [] }, late)).toBe(false);
  });

  it('finds the follow-up activity by its code', () => {
    expect(followUpActivity(plan)).toBe(plan.activity![0]);
    expect(followUpActivity({ ...plan, activity: [{ detail: { status: 'not-started' } }] })).toBeUndefined();
  });
});
