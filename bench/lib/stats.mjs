// @ts-check
/** Small statistics helpers for the benchmark report. */

/** Median of a non-empty list (mean of the middle two for an even length). @param {number[]} values */
export function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** @param {number[]} values */
export const min = (values) => Math.min(...values);
/** @param {number[]} values */
export const max = (values) => Math.max(...values);
