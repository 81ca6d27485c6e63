import { describe, expect, it } from 'vitest';
import type { CarePlan } from 'fhir/r4.js';
import {
  applySignoff,
  buildSignoffProvenance,
  isOverdue,
  SIGNOFF_DECISION_EXTENSION,
  SIGNOFF_METHOD_EXTENSION,
  SIGNOFF_REASON_EXTENSION,
  SIGNOFF_STATUS_SYSTEM,
  signoffDue,
  signoffProvenanceId,
  signoffStatusOf,
  withPendingSignoff,
  type SignoffInput,
} from '../../../src/careplan/signoff.js';
import { errorsOf, formatIssues, validateWithBoth } from '../../helpers/validate-fhir.js';

function expectValid(resource: object): void {
  const issues = validateWithBoth(resource);
  expect(errorsOf(issues), formatIssues(issues)).toEqual([]);
}

// A CP care plan as submitted for PCP sign-off.
const cpPlan: CarePlan = {
  resourceType: 'CarePlan',
  id: 'cp-plan-1',
  meta: { tag: [{ system: 'urn:carebridge:partner:cp-north:source', code: 'careplan-csv' }] },
  status: 'draft',
  intent: 'plan',
  title: 'Comprehensive care plan',
  subject: { reference: 'Patient/p1' },
  created: '2024-05-01T14:00:00-04:00',
  author: { reference: 'Organization/cp-north' },
};

function signoff(overrides: Partial<SignoffInput> = {}): SignoffInput {
  return {
    carePlanRef: 'CarePlan/cp-plan-1/_history/3',
    who: { reference: 'Practitioner/pcp-7', display: 'Dr. Primary' },
    onBehalfOf: 'Organization/aco-east',
    when: '2024-05-20T10:15:00-04:00',
    method: 'api',
    decision: 'approved',
    ...overrides,
  };
}

describe('buildSignoffProvenance', () => {
  it('records an approval: attester agent, verification signature, decision and method', () => {
    const prov = buildSignoffProvenance(signoff({ recorded: '2024-05-20T14:15:03Z' }));
    expect(prov).toMatchObject({
      resourceType: 'Provenance',
      target: [{ reference: 'CarePlan/cp-plan-1/_history/3' }],
      occurredDateTime: '2024-05-20T10:15:00-04:00',
      recorded: '2024-05-20T14:15:03Z',
      activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'VRF' }] },
      agent: [
        {
          type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'attester' }] },
          who: { reference: 'Practitioner/pcp-7' },
          onBehalfOf: { reference: 'Organization/aco-east' },
        },
      ],
      signature: [
        {
          type: [{ system: 'urn:iso-astm:E1762-95:2013', code: '1.2.840.10065.1.12.1.5' }],
          when: '2024-05-20T10:15:00-04:00',
          who: { reference: 'Practitioner/pcp-7' },
        },
      ],
    });
    expect(prov.extension).toEqual([
      { url: SIGNOFF_DECISION_EXTENSION, valueCode: 'approved' },
      { url: SIGNOFF_METHOD_EXTENSION, valueCode: 'api' },
    ]);
    expect(prov.entity).toBeUndefined();
    expectValid(prov);
  });

  it('records a rejection: verifier agent, no signature, the reason, and the file that carried it', () => {
    const prov = buildSignoffProvenance(
      signoff({ decision: 'rejected', method: 'file', reason: 'Goals missing', source: 'DocumentReference/signoff-file-9' }),
    );
    expect(prov.agent[0]!.type!.coding![0]!.code).toBe('verifier');
    expect(prov.signature).toBeUndefined();
    expect(prov.recorded).toBe(prov.occurredDateTime);
    expect(prov.extension).toEqual([
      { url: SIGNOFF_DECISION_EXTENSION, valueCode: 'rejected' },
      { url: SIGNOFF_METHOD_EXTENSION, valueCode: 'file' },
      { url: SIGNOFF_REASON_EXTENSION, valueString: 'Goals missing' },
    ]);
    expect(prov.entity).toEqual([{ role: 'source', what: { reference: 'DocumentReference/signoff-file-9' } }]);
    expectValid(prov);
  });

  it('validates for every method and decision, signed by an Organization too', () => {
    for (const method of ['api', 'fhir', 'file'] as const) {
      for (const decision of ['approved', 'rejected'] as const) {
        expectValid(buildSignoffProvenance(signoff({ method, decision, who: 'Organization/aco-east', onBehalfOf: undefined })));
      }
    }
  });

  it('has a deterministic id: a resent decision is the same Provenance', () => {
    const a = buildSignoffProvenance(signoff());
    expect(buildSignoffProvenance(signoff())).toEqual(a);
    expect(a.id).toBe(signoffProvenanceId(signoff()));
    expect(buildSignoffProvenance(signoff({ decision: 'rejected' })).id).not.toBe(a.id);
    expect(buildSignoffProvenance(signoff({ when: '2024-05-21T10:15:00-04:00' })).id).not.toBe(a.id);
    expect(buildSignoffProvenance(signoff({ who: 'Practitioner/other' })).id).not.toBe(a.id);
    // How it arrived and when carebridge saw it do not make it a different decision.
    expect(buildSignoffProvenance(signoff({ method: 'file', recorded: '2024-05-22T00:00:00Z' })).id).toBe(a.id);
  });

  it('rejects bad input', () => {
    expect(() => buildSignoffProvenance(signoff({ carePlanRef: 'Patient/p1' }))).toThrow(/carePlanRef/);
    expect(() => buildSignoffProvenance(signoff({ who: 'Patient/p1' }))).toThrow(/who/);
    expect(() => buildSignoffProvenance(signoff({ when: '2024-05-20' }))).toThrow(/when/);
    expect(() => buildSignoffProvenance(signoff({ recorded: 'later' }))).toThrow(/recorded/);
    expect(() => buildSignoffProvenance(signoff({ method: 'fax' as never }))).toThrow(/method/);
    expect(() => buildSignoffProvenance(signoff({ decision: 'maybe' as never }))).toThrow(/decision/);
    expect(() => buildSignoffProvenance(signoff({ reason: '  ' }))).toThrow(/reason/);
  });
});

describe('applySignoff: status rules', () => {
  it('approval puts a draft plan in force and tags it approved', () => {
    const result = applySignoff(cpPlan, signoff());
    if (!result.ok) throw new Error(result.reason);
    expect(result.plan.status).toBe('active');
    expect(signoffStatusOf(result.plan)).toBe('approved');
    expect(result.plan.meta!.tag).toEqual([
      { system: 'urn:carebridge:partner:cp-north:source', code: 'careplan-csv' },
      { system: SIGNOFF_STATUS_SYSTEM, code: 'approved' },
    ]);
    expect(result.plan.note).toEqual([
      {
        authorReference: { reference: 'Practitioner/pcp-7', display: 'Dr. Primary' },
        time: '2024-05-20T10:15:00-04:00',
        text: 'Sign-off approved',
      },
    ]);
    expect(cpPlan.status).toBe('draft'); // input untouched
    expectValid(result.plan);
    expectValid(result.provenance);
  });

  it('approval of an active plan keeps it active', () => {
    const result = applySignoff({ ...cpPlan, status: 'active' }, signoff());
    expect(result.ok && result.plan.status).toBe('active');
  });

  it('rejection leaves a draft plan draft, with the reason in a note', () => {
    const result = applySignoff(cpPlan, signoff({ decision: 'rejected', reason: 'Goals missing' }));
    if (!result.ok) throw new Error(result.reason);
    expect(result.plan.status).toBe('draft');
    expect(signoffStatusOf(result.plan)).toBe('rejected');
    expect(result.plan.note!.at(-1)!.text).toBe('Sign-off rejected: Goals missing');
    expectValid(result.plan);
  });

  it('rejection of an active plan keeps it active (no way back to draft; not revoked)', () => {
    const result = applySignoff({ ...cpPlan, status: 'active' }, signoff({ decision: 'rejected' }));
    if (!result.ok) throw new Error(result.reason);
    expect(result.plan.status).toBe('active');
    expect(result.plan.note!.at(-1)!.text).toBe('Sign-off rejected: no reason given');
  });

  it('refuses plans that are not draft or active, and decisions about another plan', () => {
    for (const status of ['on-hold', 'revoked', 'completed', 'entered-in-error', 'unknown'] as const) {
      const result = applySignoff({ ...cpPlan, status }, signoff());
      expect(result).toMatchObject({ ok: false, code: 'not-signable' });
    }
    expect(applySignoff(cpPlan, signoff({ carePlanRef: 'CarePlan/cp-plan-2' }))).toMatchObject({ ok: false, code: 'wrong-plan' });
    expect(applySignoff(cpPlan, signoff({ carePlanRef: 'https://fhir.example.org/r4/CarePlan/cp-plan-1' })).ok).toBe(true);
    expect(applySignoff(cpPlan, signoff({ carePlanRef: 'urn:uuid:0b8e5f0e-2d7c-5c3a-9f1e-4a6b8c0d2e4f' })).ok).toBe(true);
  });

  it('is idempotent: the same decision twice gives the same plan and Provenance', () => {
    const once = applySignoff(cpPlan, signoff());
    if (!once.ok) throw new Error(once.reason);
    const twice = applySignoff(once.plan, signoff());
    if (!twice.ok) throw new Error(twice.reason);
    expect(twice.plan).toEqual(once.plan);
    expect(twice.provenance).toEqual(once.provenance);
  });

  it('a revised plan goes back to pending', () => {
    const rejected = applySignoff(cpPlan, signoff({ decision: 'rejected' }));
    if (!rejected.ok) throw new Error(rejected.reason);
    const revised = withPendingSignoff(rejected.plan);
    expect(signoffStatusOf(revised)).toBe('pending');
    expect(revised.meta!.tag!.filter((t) => t.system === SIGNOFF_STATUS_SYSTEM)).toHaveLength(1);
    expect(signoffStatusOf(cpPlan)).toBe('pending'); // never tagged
  });
});

describe('isOverdue / signoffDue', () => {
  it('counts calendar days from created, in the zone, to the end of the due day', () => {
    // Created 2024-05-01 (local), 30 days -> due at the end of 2024-05-31 in New York.
    expect(signoffDue(cpPlan, 30)).toEqual({ dueDate: '2024-05-31', dueAt: '2024-05-31T23:59:59-04:00', timeZone: 'America/New_York' });
    expect(isOverdue(cpPlan, '2024-05-31T23:00:00-04:00', 30)).toBe(false);
    expect(isOverdue(cpPlan, '2024-06-01T00:00:00-04:00', 30)).toBe(true);
    expect(isOverdue(cpPlan, new Date('2024-06-01T03:59:59Z'), 30)).toBe(false);
    expect(isOverdue(cpPlan, '2024-06-01T00:00:00-04:00', 30, { timeZone: 'America/Los_Angeles' })).toBe(false);
  });

  it('counts business days with a calendar', () => {
    const calendar = { timeZone: 'America/New_York', holidays: ['2024-05-27'] };
    // Wed 2024-05-01 + 20 business days, skipping Memorial Day -> Thu 2024-05-30.
    expect(signoffDue(cpPlan, 20, { calendar })?.dueDate).toBe('2024-05-30');
    expect(isOverdue(cpPlan, '2024-05-31T00:00:00-04:00', 20, { calendar })).toBe(true);
  });

  it('uses `since` over created; without either there is no due date', () => {
    const { created: _, ...noCreated } = cpPlan;
    expect(signoffDue(noCreated as CarePlan, 30)).toBeUndefined();
    expect(isOverdue(noCreated as CarePlan, '2030-01-01T00:00:00Z', 30)).toBe(false);
    expect(signoffDue(cpPlan, 30, { since: '2024-05-10' })?.dueDate).toBe('2024-06-09');
  });

  it('approved plans and plans not in draft/active are never overdue; rejected ones still are', () => {
    const late = '2024-07-01T00:00:00Z';
    const approved = applySignoff(cpPlan, signoff());
    const rejected = applySignoff(cpPlan, signoff({ decision: 'rejected' }));
    if (!approved.ok || !rejected.ok) throw new Error('sign-off failed');
    expect(isOverdue(approved.plan, late, 30)).toBe(false);
    expect(isOverdue(rejected.plan, late, 30)).toBe(true);
    expect(isOverdue({ ...cpPlan, status: 'revoked' }, late, 30)).toBe(false);
    expect(isOverdue({ ...cpPlan, status: 'completed' }, late, 30)).toBe(false);
  });
});
