/**
 * When to poll next, and the daily "expected file" deadline. Cron expressions (and the
 * time-zone arithmetic for `expectedDaily`, DST included) use cron-parser, which BullMQ already
 * depends on; 6-field expressions put seconds first.
 */
import { CronExpressionParser } from 'cron-parser';
import type { SftpSourceConfig } from '../../config/types.js';

export type PollSchedule = SftpSourceConfig['poll'];

/** The first poll time strictly after `now`. */
export function nextPollAt(poll: PollSchedule, now: Date): Date {
  if (poll.cron !== undefined) {
    return CronExpressionParser.parse(poll.cron, { currentDate: now, tz: poll.timeZone ?? 'UTC' })
      .next()
      .toDate();
  }
  return new Date(now.getTime() + (poll.intervalSeconds ?? 300) * 1000);
}

/** Throws with cron-parser's reason when the expression cannot be scheduled. */
export function assertValidSchedule(poll: PollSchedule): void {
  if (poll.cron !== undefined) CronExpressionParser.parse(poll.cron, { tz: poll.timeZone ?? 'UTC' });
}

export interface DailyWindow {
  /** Local midnight of the deadline's day. */
  dayStart: Date;
  /** The most recent `by` time at or before now. */
  deadline: Date;
  /** The next `by` time after now. */
  nextDeadline: Date;
}

function dailyCron(by: string): string {
  const [hh, mm] = by.split(':');
  return `${Number(mm)} ${Number(hh)} * * *`;
}

/** The daily window `now` falls in, for a file expected by `by` (HH:MM) local time in `timeZone`. */
export function dailyWindow(by: string, timeZone: string, now: Date): DailyWindow {
  // prev() is strictly before currentDate; step one second past now so a deadline equal to now counts.
  const probe = new Date(now.getTime() + 1000);
  const deadline = CronExpressionParser.parse(dailyCron(by), { currentDate: probe, tz: timeZone }).prev().toDate();
  const nextDeadline = CronExpressionParser.parse(dailyCron(by), { currentDate: now, tz: timeZone }).next().toDate();
  const dayStart = CronExpressionParser.parse('0 0 * * *', { currentDate: new Date(deadline.getTime() + 1000), tz: timeZone })
    .prev()
    .toDate();
  return { dayStart, deadline, nextDeadline };
}
