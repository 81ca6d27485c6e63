// @ts-check
/**
 * HL7 v2 DTM formatting in US Eastern time. Feeds in the field mostly send an explicit offset but
 * some send local time without one, so the generator emits both (the converter must apply the
 * partner time zone to the latter).
 */

const HOUR_MS = 3_600_000;

/**
 * Day of month of the n-th Sunday (1-based) of a month, in UTC calendar terms.
 * @param {number} year @param {number} month0 @param {number} n
 */
function nthSunday(year, month0, n) {
  const firstWeekday = new Date(Date.UTC(year, month0, 1)).getUTCDay();
  return 1 + ((7 - firstWeekday) % 7) + 7 * (n - 1);
}

/**
 * Eastern offset in hours (-4 in daylight time, -5 otherwise) for an instant. US rule since 2007:
 * from the second Sunday of March 07:00 UTC to the first Sunday of November 06:00 UTC.
 * @param {number} utcMs
 */
export function easternOffsetHours(utcMs) {
  const year = new Date(utcMs).getUTCFullYear();
  const dstStart = Date.UTC(year, 2, nthSunday(year, 2, 2), 7);
  const dstEnd = Date.UTC(year, 10, nthSunday(year, 10, 1), 6);
  return utcMs >= dstStart && utcMs < dstEnd ? -4 : -5;
}

/** @param {number} n @param {number} width */
const pad = (n, width) => String(n).padStart(width, '0');

/**
 * @param {number} utcMs
 * @param {{ precision: 'date' | 'minute' | 'second', offset: boolean }} options
 * @returns {string} e.g. 20240315083012-0400, 202403150830, 19800101
 */
export function formatDtm(utcMs, { precision, offset }) {
  const hours = easternOffsetHours(utcMs);
  const local = new Date(utcMs + hours * HOUR_MS);
  let out = pad(local.getUTCFullYear(), 4) + pad(local.getUTCMonth() + 1, 2) + pad(local.getUTCDate(), 2);
  if (precision === 'date') return out;
  out += pad(local.getUTCHours(), 2) + pad(local.getUTCMinutes(), 2);
  if (precision === 'second') out += pad(local.getUTCSeconds(), 2);
  if (offset) out += (hours < 0 ? '-' : '+') + pad(Math.abs(hours), 2) + '00';
  return out;
}
