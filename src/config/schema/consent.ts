import { z } from 'zod';
import { nonEmpty } from './primitives.js';

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
