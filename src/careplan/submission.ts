// A care plan a CP submits (API body or a CSV row turned into a CarePlan): checked, its member
// identifiers found, and normalized into the plan carebridge stores and routes to the ACO. Pure.
//
// The subject must let carebridge find the roster member without trusting a server-local id:
//   - subject.identifier (system + value), e.g. the Medicaid member id, or
//   - subject.reference "#x" to a contained Patient with identifiers (system + value).
// The stored id is carebridge's, deterministic from the CP and the CP's own key for the plan (its
// first identifier, else its id, else its content), so a resubmission revises the same plan and two
// CPs never collide. The CP's id is kept as an identifier.
import { createHash } from 'node:crypto';
import type { CarePlan, Identifier, Patient } from 'fhir/r4.js';
import { idFromParts } from '../fhir/ids.js';
import { partnerOrganization } from './partners.js';
import { CAREBRIDGE_CANONICAL_BASE, withPendingSignoff } from './signoff.js';

const STATUSES = new Set(['draft', 'active', 'on-hold', 'revoked', 'completed', 'entered-in-error', 'unknown']);
const SUBMITTABLE = new Set(['draft', 'active']);
const INTENTS = new Set(['proposal', 'plan', 'order', 'option']);
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * Identifier system whose value is the roster member id itself (the Medicaid member id): what CSV
 * care plans use, and what API callers may use when they know the member id.
 */
export const MEMBER_ID_SYSTEM = `${CAREBRIDGE_CANONICAL_BASE}/member-id`;

/** System of the identifier that keeps a CP's own CarePlan id. */
export const cpPlanIdSystem = (cpPartnerId: string): string => `${CAREBRIDGE_CANONICAL_BASE}/partner/${cpPartnerId}/careplan-id`;

export type SubmissionCheck =
  { ok: true; plan: CarePlan; memberIdentifiers: { system: string; value: string }[] } | { ok: false; issues: string[] };

function usable(ids: Identifier[] | undefined): { system: string; value: string }[] {
  return (ids ?? []).filter((i) => i.system && i.value).map((i) => ({ system: i.system!, value: i.value! }));
}

/** Identifiers of the plan's subject (see the module comment); empty when there are none. */
export function subjectIdentifiers(plan: CarePlan): { system: string; value: string }[] {
  const subject = plan.subject;
  const direct = subject?.identifier ? usable([subject.identifier]) : [];
  const ref = subject?.reference;
  if (ref?.startsWith('#')) {
    const contained = plan.contained?.find((r) => r.resourceType === 'Patient' && r.id === ref.slice(1)) as Patient | undefined;
    return [...direct, ...usable(contained?.identifier)];
  }
  return direct;
}

/** Structural checks a submitted plan must pass; messages name elements, never values. */
export function checkSubmission(value: unknown): SubmissionCheck {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, issues: ['body must be a FHIR CarePlan (a JSON object)'] };
  const plan = value as CarePlan;
  const issues: string[] = [];
  if (plan.resourceType !== 'CarePlan') return { ok: false, issues: ['resourceType must be CarePlan'] };
  if (plan.id !== undefined && (typeof plan.id !== 'string' || !FHIR_ID.test(plan.id))) issues.push('id must match [A-Za-z0-9-.]{1,64}');
  if (!STATUSES.has(plan.status)) issues.push('status is missing or not a CarePlan status');
  else if (!SUBMITTABLE.has(plan.status)) issues.push(`status must be draft or active to be submitted for sign-off (got ${plan.status})`);
  if (!INTENTS.has(plan.intent)) issues.push('intent is missing or not proposal | plan | order | option');
  if (!plan.subject) issues.push('subject is required');
  const memberIdentifiers = plan.subject ? subjectIdentifiers(plan) : [];
  if (plan.subject && memberIdentifiers.length === 0) {
    issues.push('subject must identify the member: subject.identifier (system and value) or a contained Patient with identifiers');
  }
  if (plan.contained !== undefined && !Array.isArray(plan.contained)) issues.push('contained must be an array');
  return issues.length ? { ok: false, issues } : { ok: true, plan, memberIdentifiers };
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** carebridge's id of a CP's plan (see the module comment). */
export function cpPlanId(cpPartnerId: string, plan: CarePlan): string {
  const own = usable(plan.identifier)[0];
  const key = own ? `identifier|${own.system}|${own.value}` : plan.id ? `id|${plan.id}` : `content|${contentHash(plan)}`;
  return idFromParts(['cp-plan', cpPartnerId, key]);
}

export interface NormalizeOptions {
  cpPartnerId: string;
  cpName?: string;
  /** CarePlan.created when the CP gave none (FHIR instant). */
  now: string;
}

/**
 * The plan as carebridge stores it: its id, the CP's id kept as an identifier, an author (the CP)
 * and a created time when missing, server metadata dropped, and the sign-off tag set to pending.
 * meta.versionId / lastUpdated are the store's to set.
 */
export function normalizeSubmission(plan: CarePlan, options: NormalizeOptions): CarePlan {
  const id = cpPlanId(options.cpPartnerId, plan);
  const identifier = [...(plan.identifier ?? [])];
  if (plan.id && plan.id !== id && !identifier.some((i) => i.system === cpPlanIdSystem(options.cpPartnerId))) {
    identifier.push({ system: cpPlanIdSystem(options.cpPartnerId), value: plan.id });
  }
  const { meta, ...rest } = plan;
  const keptMeta = meta
    ? {
        ...(meta.profile ? { profile: meta.profile } : {}),
        ...(meta.security ? { security: meta.security } : {}),
        ...(meta.tag ? { tag: meta.tag } : {}),
      }
    : {};
  const normalized: CarePlan = {
    ...rest,
    id,
    ...(Object.keys(keptMeta).length ? { meta: keptMeta } : {}),
    ...(identifier.length ? { identifier } : {}),
    created: plan.created ?? options.now,
    author: plan.author ?? partnerOrganization(options.cpPartnerId, options.cpName),
  };
  return withPendingSignoff(normalized);
}

/**
 * Hex SHA-256 of a plan apart from meta (versionId, lastUpdated, tags): equal hashes mean a
 * resubmission that changes nothing (and must not reset a sign-off).
 */
export function contentHash(plan: CarePlan): string {
  return createHash('sha256')
    .update(canonicalJson({ ...plan, meta: undefined }))
    .digest('hex');
}
