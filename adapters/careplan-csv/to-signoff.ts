/**
 * One sign-off row returned by an ACO → the decision CarePlanService.recordSignoff records.
 *
 * Columns (header names are case-insensitive; spaces and dashes count as underscores):
 *   plan_id         required  carebridge's CarePlan id (CarePlan.id of the plan the ACO received)
 *   decision        required  approved | rejected (also approve, reject, a, r; any case)
 *   signed_by_npi   required  NPI of the signing PCP
 *   signed_at       required  YYYY-MM-DDThh:mm:ss+hh:mm, or a local YYYY-MM-DD hh:mm / YYYY-MM-DD
 *                             read in the care-plan time zone
 *   reason          optional  free text (why a plan was rejected)
 *   version         optional  the plan version signed (CarePlan.meta.versionId); a plan revised
 *                             since is refused rather than signed blind
 */
import { parseInstant, parseNpi, type Parsed } from './values.js';

export const SIGNOFF_REQUIRED_COLUMNS = ['plan_id', 'decision', 'signed_by_npi', 'signed_at'] as const;

export interface SignoffRow {
  carePlanId: string;
  decision: 'approved' | 'rejected';
  signedByNpi: string;
  signedAt: string;
  reason?: string;
  version?: number;
}

const DECISIONS: Record<string, SignoffRow['decision']> = {
  approved: 'approved',
  approve: 'approved',
  a: 'approved',
  rejected: 'rejected',
  reject: 'rejected',
  r: 'rejected',
};

export function signoffFromRow(values: ReadonlyMap<string, string>, timeZone: string): Parsed<SignoffRow> {
  const get = (name: string) => values.get(name) ?? '';
  for (const column of SIGNOFF_REQUIRED_COLUMNS) if (!get(column)) return { ok: false, reason: `${column}: required` };
  if (!/^[A-Za-z0-9\-.]{1,64}$/.test(get('plan_id'))) return { ok: false, reason: 'plan_id: not a CarePlan id' };
  const decision = DECISIONS[get('decision').toLowerCase()];
  if (!decision) return { ok: false, reason: 'decision: must be approved or rejected' };
  const npi = parseNpi('signed_by_npi', get('signed_by_npi'));
  if (!npi.ok) return npi;
  const at = parseInstant('signed_at', get('signed_at'), timeZone);
  if (!at.ok) return at;
  let version: number | undefined;
  if (get('version')) {
    if (!/^\d{1,9}$/.test(get('version')) || Number(get('version')) < 1)
      return { ok: false, reason: 'version: must be a whole number from 1' };
    version = Number(get('version'));
  }
  return {
    ok: true,
    value: {
      carePlanId: get('plan_id'),
      decision,
      signedByNpi: npi.value,
      signedAt: at.value,
      ...(get('reason') ? { reason: get('reason') } : {}),
      ...(version !== undefined ? { version } : {}),
    },
  };
}
