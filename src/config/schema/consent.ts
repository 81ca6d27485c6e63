import { z } from 'zod';
import { int, nonEmpty } from './primitives.js';

const sensitiveEntry = z.strictObject({
  /** Facility (MSH-4 / PV1-3.4) or hospital service (PV1-10) code. */
  code: nonEmpty(),
  /** Drives the meta.security label and which consent is needed (42 CFR Part 2 for substance-use). */
  category: z.enum(['behavioral-health', 'substance-use'], { error: 'must be behavioral-health or substance-use' }),
});

export const consentSchema = z.strictObject({
  sensitiveFacilities: z.array(sensitiveEntry).default([]),
  sensitiveServices: z.array(sensitiveEntry).default([]),
});

/** How an ADT patient is matched to a roster member (issue 4). */
export const rosterSchema = z.strictObject({
  /** Identifier systems tried in this order (e.g. the Medicaid id first, then hospital MRNs). */
  identifierPrecedence: z.array(nonEmpty()).default([]),
  /** Exact match on family + given + birth date + sex when no identifier matches; off by default. */
  demographicMatch: z.boolean().default(false),
  /**
   * SQLite: about how long one member-file import chunk (one transaction, which holds the event
   * loop) may take; ACKs of the same process wait about that long at most during an import.
   */
  importChunkMs: int(1, 10_000).default(50),
});
