/**
 * One care-plan row from a CP → a FHIR R4 CarePlan ready for CarePlanService.submitCarePlan.
 *
 * Columns (header names are case-insensitive; spaces and dashes count as underscores):
 *   member_id      required  the member's roster id (Medicaid member id)
 *   plan_id        required  the CP's own id for the plan; a later row with the same id revises it
 *   created        required  YYYY-MM-DD or YYYY-MM-DDThh:mm:ss+hh:mm
 *   status         optional  draft | active (default active)
 *   title          optional
 *   description    optional
 *   goals          optional  goals, separated by "|"  (each a contained Goal)
 *   activities     optional  activities, separated by "|" (each an activity, not started)
 *   pcp_npi        optional  the member's PCP (a contained Practitioner in the plan's CareTeam)
 *   period_start   optional  YYYY-MM-DD
 *   period_end     optional  YYYY-MM-DD
 * Other columns are ignored.
 */
import type { CarePlan, CareTeam, Goal, Practitioner, Reference } from 'fhir/r4.js';
import { partnerOrganization } from '../../src/careplan/partners.js';
import { cpPlanIdSystem } from '../../src/careplan/submission.js';
import { parseDate, parseDateOrInstant, parseNpi, splitList, type Parsed } from './values.js';

export const NPI_SYSTEM = 'http://hl7.org/fhir/sid/us-npi';
const SNOMED = 'http://snomed.info/sct';

export const CAREPLAN_REQUIRED_COLUMNS = ['member_id', 'plan_id', 'created'] as const;

/** The CP care plan category: SNOMED CT 734163000 "Care plan (record artifact)". */
export const CP_CARE_PLAN_CATEGORY = {
  coding: [{ system: SNOMED, code: '734163000', display: 'Care plan (record artifact)' }],
  text: 'Community Partner care plan',
};

const PCP_ROLE = { coding: [{ system: SNOMED, code: '446050000', display: 'Primary care physician' }], text: 'Primary care provider' };

export interface CarePlanRowOptions {
  cpPartnerId: string;
  cpName?: string;
  /** Identifier system of member_id (default: carebridge's roster member id system). */
  memberIdSystem: string;
}

export function carePlanFromRow(values: ReadonlyMap<string, string>, options: CarePlanRowOptions): Parsed<CarePlan> {
  const get = (name: string) => values.get(name) ?? '';
  for (const column of CAREPLAN_REQUIRED_COLUMNS) if (!get(column)) return { ok: false, reason: `${column}: required` };
  const created = parseDateOrInstant('created', get('created'));
  if (!created.ok) return created;
  const status = get('status').toLowerCase() || 'active';
  if (status !== 'draft' && status !== 'active') return { ok: false, reason: 'status: must be draft or active' };
  let pcpNpi: string | undefined;
  if (get('pcp_npi')) {
    const npi = parseNpi('pcp_npi', get('pcp_npi'));
    if (!npi.ok) return npi;
    pcpNpi = npi.value;
  }
  let period: CarePlan['period'] | undefined;
  for (const [column, key] of [
    ['period_start', 'start'],
    ['period_end', 'end'],
  ] as const) {
    if (!get(column)) continue;
    const d = parseDate(column, get(column));
    if (!d.ok) return d;
    period = { ...period, [key]: d.value };
  }
  if (period?.start && period.end && period.end < period.start) return { ok: false, reason: 'period_end: before period_start' };

  const subject: Reference = { type: 'Patient', identifier: { system: options.memberIdSystem, value: get('member_id') } };
  const goals: Goal[] = splitList(get('goals')).map((text, i) => ({
    resourceType: 'Goal',
    id: `goal-${i + 1}`,
    lifecycleStatus: 'active',
    description: { text },
    subject,
  }));
  const contained: (Goal | Practitioner | CareTeam)[] = [...goals];
  if (pcpNpi) {
    contained.push(
      { resourceType: 'Practitioner', id: 'pcp', identifier: [{ system: NPI_SYSTEM, value: pcpNpi }] },
      {
        resourceType: 'CareTeam',
        id: 'care-team',
        status: 'active',
        subject,
        participant: [{ role: [PCP_ROLE], member: { reference: '#pcp' } }],
      },
    );
  }
  const activities = splitList(get('activities'));
  const plan: CarePlan = {
    resourceType: 'CarePlan',
    ...(contained.length ? { contained } : {}),
    identifier: [{ system: cpPlanIdSystem(options.cpPartnerId), value: get('plan_id') }],
    status,
    intent: 'plan',
    category: [CP_CARE_PLAN_CATEGORY],
    ...(get('title') ? { title: get('title') } : {}),
    ...(get('description') ? { description: get('description') } : {}),
    subject,
    ...(period ? { period } : {}),
    created: created.value,
    author: partnerOrganization(options.cpPartnerId, options.cpName),
    ...(pcpNpi ? { careTeam: [{ reference: '#care-team' }] } : {}),
    ...(goals.length ? { goal: goals.map((g) => ({ reference: `#${g.id}` })) } : {}),
    ...(activities.length
      ? { activity: activities.map((description) => ({ detail: { status: 'not-started' as const, description } })) }
      : {}),
  };
  return { ok: true, value: plan };
}
