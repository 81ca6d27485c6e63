import type { CarePlan } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { resolveCarePlanSettings } from '../../../src/careplan/settings.js';
import { SIGNOFF_STATUS_SYSTEM } from '../../../src/careplan/signoff.js';
import { checkSubmission, contentHash, cpPlanId, cpPlanIdSystem, normalizeSubmission } from '../../../src/careplan/submission.js';

const base: CarePlan = {
  resourceType: 'CarePlan',
  status: 'draft',
  intent: 'plan',
  subject: { identifier: { system: 'urn:x', value: 'M1' } },
};

describe('submitted care plans', () => {
  it('normalizes: carebridge id, the CP’s id kept, author and created filled, server meta dropped, pending tag', () => {
    const plan = normalizeSubmission(
      { ...base, id: 'local-1', meta: { versionId: '9', lastUpdated: '2020-01-01T00:00:00Z', profile: ['http://example.org/p'] } },
      { cpPartnerId: 'bay-cp', cpName: 'Bay CP', now: '2024-05-01T10:00:00-04:00' },
    );
    expect(plan.id).toBe(cpPlanId('bay-cp', { ...base, id: 'local-1' }));
    expect(plan.identifier).toEqual([{ system: cpPlanIdSystem('bay-cp'), value: 'local-1' }]);
    expect(plan.created).toBe('2024-05-01T10:00:00-04:00');
    expect(plan.author).toMatchObject({ type: 'Organization', display: 'Bay CP' });
    expect(plan.meta).toEqual({ profile: ['http://example.org/p'], tag: [{ system: SIGNOFF_STATUS_SYSTEM, code: 'pending' }] });
  });

  it('content hashes ignore meta (a re-sent plan with new server metadata is unchanged)', () => {
    expect(contentHash({ ...base, meta: { versionId: '1' } })).toBe(contentHash({ ...base, meta: { versionId: '2' } }));
    expect(contentHash({ ...base, title: 'x' })).not.toBe(contentHash(base));
    // Key order does not matter.
    expect(contentHash({ intent: 'plan', resourceType: 'CarePlan', subject: base.subject, status: 'draft' } as CarePlan)).toBe(
      contentHash(base),
    );
  });

  it('checks shape and tells every problem at once', () => {
    expect(checkSubmission([])).toEqual({ ok: false, issues: ['body must be a FHIR CarePlan (a JSON object)'] });
    expect(checkSubmission({ resourceType: 'CarePlan', id: 'bad id', status: 'nope', intent: 'x', contained: {} })).toEqual({
      ok: false,
      issues: [
        'id must match [A-Za-z0-9-.]{1,64}',
        'status is missing or not a CarePlan status',
        'intent is missing or not proposal | plan | order | option',
        'subject is required',
        'contained must be an array',
      ],
    });
    expect(checkSubmission(base)).toMatchObject({ ok: true, memberIdentifiers: [{ system: 'urn:x', value: 'M1' }] });
  });
});

describe('care-plan settings', () => {
  it('builds the business calendar with federal and configured holidays around a date', () => {
    const s = resolveCarePlanSettings({
      followUpBusinessDays: 3,
      unsignedDays: 30,
      timeZone: 'America/Chicago',
      usFederalHolidays: true,
      holidays: ['2024-11-29'],
      weeklyStatus: { weekday: 'friday', time: '17:30', files: [] },
    });
    const cal = s.calendarAround('2024-12-30T10:00:00-06:00');
    expect(cal.timeZone).toBe('America/Chicago');
    expect(cal.holidays).toEqual(expect.arrayContaining(['2024-11-28', '2024-12-25', '2025-01-01', '2024-11-29']));
    expect(s.calendarAround(new Date('2024-06-01T00:00:00Z'))).toBe(s.calendarAround('2024-01-05'));
    expect(s.weeklyStatus.weekday).toBe(5);
    expect(s.localDate(new Date('2024-06-01T03:00:00Z'))).toBe('2024-05-31');
  });
});
