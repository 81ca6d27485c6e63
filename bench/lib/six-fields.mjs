// @ts-check
/**
 * The work every peer does per message besides parsing: read six fields (MSH-9.1/.2 as one value,
 * MSH-10, PID-3 first identifier, PID-5 family name, PID-7, PV1-44) and fold them into a checksum,
 * so the reads cannot be optimized away and the peers can be checked against each other.
 */

export const FIELD_NAMES = ['MSH-9', 'MSH-10', 'PID-3[1].1', 'PID-5[1].1', 'PID-7', 'PV1-44'];

export function createChecksum() {
  let hash = 0x811c9dc5;
  let messages = 0;
  return {
    /** Folds one message's six values (FNV-1a 32-bit, a separator between values). @param {string[]} values */
    add(values) {
      messages++;
      for (const value of values) {
        for (let i = 0; i < value.length; i++) {
          hash ^= value.charCodeAt(i);
          hash = Math.imul(hash, 0x01000193);
        }
        hash ^= 0x7c;
        hash = Math.imul(hash, 0x01000193);
      }
    },
    /** One JSON line for the runner. @param {string} contender */
    report(contender) {
      return JSON.stringify({ contender, messages, checksum: (hash >>> 0).toString(16).padStart(8, '0') });
    },
  };
}
