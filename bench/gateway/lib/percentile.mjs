// @ts-check

/**
 * Nearest-rank percentile of an ascending array (q in 0..1); 0 for an empty array.
 * @param {ArrayLike<number>} sorted @param {number} q
 */
export function percentile(sorted, q) {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1];
}
