// @ts-check
/**
 * Seeded PRNG (mulberry32) so the benchmark corpus is byte-identical on every machine:
 * contenders must be compared on the same bytes, and a result must be reproducible later.
 */

/**
 * @typedef {object} Rng
 * @property {() => number} next          uniform in [0, 1)
 * @property {(min: number, max: number) => number} int   integer in [min, max], both inclusive
 * @property {<T>(items: readonly T[]) => T} pick
 * @property {(probability: number) => boolean} chance
 * @property {(length: number) => string} digits    a string of decimal digits, first one non-zero
 * @property {<T>(weighted: readonly (readonly [T, number])[]) => T} weighted
 */

/**
 * @param {number} seed
 * @returns {Rng}
 */
export function createRng(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  /** @type {(min: number, max: number) => number} */
  const int = (min, max) => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    int,
    pick: (items) => items[Math.floor(next() * items.length)],
    chance: (probability) => next() < probability,
    digits: (length) => {
      let out = String(int(1, 9));
      for (let i = 1; i < length; i++) out += String(int(0, 9));
      return out;
    },
    weighted: (weighted) => {
      const total = weighted.reduce((sum, [, w]) => sum + w, 0);
      let roll = next() * total;
      for (const [value, weight] of weighted) {
        roll -= weight;
        if (roll < 0) return value;
      }
      return weighted[weighted.length - 1][0];
    },
  };
}
