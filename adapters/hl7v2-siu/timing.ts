import { parseHl7DateTime } from '../../src/fhir/datetime.js';

// Scheduling times: a v2 start plus a duration in the segment's units. Arithmetic is done on the
// v2 wall time (then converted with the profile's zone like any other value), so an appointment
// that crosses a DST change still ends at the wall-clock time the scheduler meant.

const MINUTES_PER: Record<string, number> = {
  S: 1 / 60,
  SEC: 1 / 60,
  M: 1,
  MIN: 1,
  MINUTES: 1,
  H: 60,
  HR: 60,
  HOURS: 60,
  D: 1440,
  DAY: 1440,
  DAYS: 1440,
};

/** A duration and its units (CNE/CE: the code, e.g. MIN, min, m, H) in minutes; undefined when unknown. */
export function durationMinutes(amount: string, units: string): number | undefined {
  if (!/^\d+(\.\d+)?$/.test(amount)) return undefined;
  const unit = units.trim().toUpperCase();
  const factor = unit === '' ? 1 : MINUTES_PER[unit];
  return factor === undefined ? undefined : Number(amount) * factor;
}

/** A v2 DTM plus some minutes, as a v2 DTM to seconds with the original offset (if any). */
export function addMinutes(dtm: string, minutes: number): string | undefined {
  const r = parseHl7DateTime(dtm);
  if (!r.ok || r.value.hour === undefined) return undefined;
  const p = r.value;
  const d = new Date(Date.UTC(p.year, p.month! - 1, p.day!, p.hour!, p.minute ?? 0, p.second ?? 0) + Math.round(minutes * 60_000));
  const pad = (n: number) => String(n).padStart(2, '0');
  const wall = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
  if (p.offsetMinutes === undefined) return wall;
  const abs = Math.abs(p.offsetMinutes);
  return `${wall}${p.offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
}
