/**
 * Default code tables for member files; a layout's valueMaps are merged over them. Lookups are
 * case-insensitive because partners mix "F", "f" and "Female" within one file.
 */
import type { MemberSex } from './types.js';

export const DEFAULT_SEX_CODES: Readonly<Record<string, MemberSex>> = {
  M: 'male',
  MALE: 'male',
  F: 'female',
  FEMALE: 'female',
  U: 'unknown',
  UN: 'unknown',
  UNK: 'unknown',
  UNKNOWN: 'unknown',
  O: 'other',
  OTHER: 'other',
  X: 'other',
};

export type MemberStatus = 'active' | 'terminated';

export const DEFAULT_STATUS_CODES: Readonly<Record<string, MemberStatus>> = {
  A: 'active',
  ACTIVE: 'active',
  ENROLLED: 'active',
  T: 'terminated',
  TERM: 'terminated',
  TERMED: 'terminated',
  TERMINATED: 'terminated',
  I: 'terminated',
  INACTIVE: 'terminated',
  D: 'terminated',
  DISENROLLED: 'terminated',
};

/** Upper-cased keys, partner entries over defaults. */
export function codeMap<T>(defaults: Readonly<Record<string, T>>, overrides: Record<string, T> | undefined): Map<string, T> {
  const map = new Map<string, T>();
  for (const [k, v] of Object.entries(defaults)) map.set(k.toUpperCase(), v);
  for (const [k, v] of Object.entries(overrides ?? {})) map.set(k.trim().toUpperCase(), v);
  return map;
}

/** Values that grant / deny a consent, upper-cased. */
export function consentValues(granted: readonly string[], denied: readonly string[]): Map<string, boolean> {
  const map = new Map<string, boolean>();
  for (const v of denied) map.set(v.trim().toUpperCase(), false);
  for (const v of granted) map.set(v.trim().toUpperCase(), true);
  return map;
}
