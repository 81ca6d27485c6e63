import { z } from 'zod';
import { bool, clockTime, id, int, timeZone } from './primitives.js';

/** A calendar date YYYY-MM-DD (also used for a partner's own holidays, partners.ts). */
export const localDate = () =>
  z.string({ error: 'must be a date YYYY-MM-DD' }).regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'must be a date YYYY-MM-DD');

export const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;

/** Where one partner's weekly status file goes (a `type: sftp` destination drops it as a file). */
const statusFileTarget = z.strictObject({
  partner: id(),
  destination: id(),
});

/**
 * Care plans (issue 5): transition-of-care follow-ups and PCP sign-off tracking. Every key has a
 * default, so the section may be left out.
 */
export const carePlansSchema = z.strictObject({
  /** Follow-up contact due within this many business days of a discharge (the default: 3). */
  followUpBusinessDays: int(0, 60).default(3),
  /** Calendar days a CP care plan may stay unsigned before it is overdue. */
  unsignedDays: int(1, 3650).default(30),
  /** Zone whose calendar dates count (business days, due dates, the weekly file's schedule). */
  timeZone: timeZone().default('America/New_York'),
  /** Observed US federal holidays are not business days. */
  usFederalHolidays: bool().default(true),
  /** Further non-business days (state holidays, the day after Thanksgiving...). */
  holidays: z.array(localDate()).default([]),
  /** The weekly status file: when it is made, and which partners get one where. */
  weeklyStatus: z
    .strictObject({
      weekday: z.enum(WEEKDAYS, { error: `must be one of ${WEEKDAYS.join(', ')}` }).default('monday'),
      /** Local time (timeZone above). */
      time: clockTime().default('06:00'),
      files: z.array(statusFileTarget).default([]),
    })
    .prefault({}),
});
