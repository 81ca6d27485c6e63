import { z } from 'zod';
import { id, nonEmpty, sender } from './primitives.js';

export const PARTNER_KINDS = ['aco', 'cp', 'hospital', 'vendor'] as const;

export const partnerSchema = z.strictObject({
  name: nonEmpty(),
  kind: z.enum(PARTNER_KINDS, { error: `must be one of ${PARTNER_KINDS.join(', ')}` }),
  /** Mapping overlay id (mappings/partners/<profile>/); absent: base profiles only. */
  profile: id().optional(),
  /** MSH-3^MSH-4 values that identify this partner on shared sources (MLLP, HTTP). */
  senders: z.array(sender()).default([]),
  /**
   * Where this partner receives what, for routes that target "the member's attributed CP/ACO"
   * (issue 4): ADT notifications, care plans, roster changes (newly assigned members).
   */
  destinations: z
    .strictObject({
      adt: id().optional(),
      careplan: id().optional(),
      members: id().optional(),
    })
    .prefault({}),
});

export const partnersSchema = z.record(id(), partnerSchema).default({});
