import { z } from 'zod';
import { localDate } from './careplans.js';
import { id, nonEmpty, sender, timeZone } from './primitives.js';

export const PARTNER_KINDS = ['aco', 'cp', 'hospital', 'vendor'] as const;

/** A National Provider Identifier: 10 digits (the care-plan CSV reader also checks its check digit). */
const npi = () => z.string({ error: 'must be an NPI (10 digits)' }).regex(/^\d{10}$/, 'must be an NPI (10 digits)');

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
  /**
   * This organization's primary care providers (NPIs). A CP care plan of a member whose PCP on the
   * roster is one of them also goes here (destinations.careplan), and this partner may sign it off.
   */
  pcpNpis: z.array(npi()).optional(),
  /** Zone of this partner's calendar dates (a CP's follow-up due dates, an ACO's sign-off due dates); default careplans.timeZone. */
  timeZone: timeZone().optional(),
  /** This partner's own non-business days, added to careplans.holidays. */
  holidays: z.array(localDate()).optional(),
});

export const partnersSchema = z
  .record(id(), partnerSchema)
  .default({})
  .superRefine((partners, ctx) => {
    // A PCP belongs to one organization, else a member's care plan would have two PCP sign-offs.
    const owner = new Map<string, string>();
    for (const [partnerId, partner] of Object.entries(partners)) {
      if (partner.pcpNpis !== undefined && partner.kind === 'cp') {
        ctx.addIssue({
          code: 'custom',
          path: [partnerId, 'pcpNpis'],
          message: 'a community partner (kind cp) has no PCPs to sign care plans',
        });
      }
      (partner.pcpNpis ?? []).forEach((npi, i) => {
        const first = owner.get(npi);
        if (first !== undefined) {
          ctx.addIssue({ code: 'custom', path: [partnerId, 'pcpNpis', i], message: `this NPI is already listed by partner '${first}'` });
        } else owner.set(npi, partnerId);
      });
    }
  });
