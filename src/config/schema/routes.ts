import { z } from 'zod';
import { bool, id, nonEmpty, sender } from './primitives.js';

const match = z
  .strictObject({
    /** Source ids; absent: any source. */
    sources: z.array(id()).optional(),
    /** MSH-3^MSH-4 values ("*" wildcard); absent: any sender. */
    senders: z.array(sender()).optional(),
    /** Message types (MSH-9.1), e.g. ADT, ORU, SIU, MDM, or `*` for any; absent: ADT only. */
    messageTypes: z.array(z.string().regex(/^(\*|[A-Z][A-Z0-9]{2})$/, 'must be a message type like ADT or ORU, or *')).optional(),
    /** Trigger events (MSH-9.2) of any message type, e.g. A01, R01; absent: any. */
    events: z.array(z.string().regex(/^[A-Z][A-Z0-9]{2}$/, 'must be a trigger event code like A01')).optional(),
    /** PV1-2 codes, e.g. I, E, O; absent: any. */
    patientClasses: z.array(nonEmpty().regex(/^[A-Za-z0-9]{1,5}$/, 'must be a patient class code like I or E')).optional(),
  })
  .prefault({});

export const ATTRIBUTION_TARGETS = ['cp', 'aco'] as const;
export const ROUTE_PAYLOADS = ['fhir', 'raw'] as const;

export const routeSchema = z
  .strictObject({
    id: id(),
    match,
    /** Fixed destination ids. */
    to: z.array(id()).min(1, 'must name at least one destination').optional(),
    /** The member's attributed CP or ACO on the event date (issue 4), via its partner destinations. */
    toAttributed: z.enum(ATTRIBUTION_TARGETS, { error: 'must be cp or aco' }).optional(),
    /** Send events from sensitive facilities/services even without consent (e.g. to a covered entity). */
    includeSensitive: bool().default(false),
    /** fhir (default): the conversion; raw: the HL7 v2 message as received (mllp, webhook, sftp destinations). */
    payload: z.enum(ROUTE_PAYLOADS, { error: 'must be fhir or raw' }).default('fhir'),
  })
  .superRefine((r, ctx) => {
    if ((r.to === undefined) === (r.toAttributed === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'give exactly one of to (destination ids) or toAttributed (cp or aco)' });
    }
  });
