/**
 * "The partner's daily file has not arrived by HH:MM." A day counts as served when a file arrived
 * between local midnight and the time of the check; a file arriving after the deadline clears the
 * alert for that day. A file that lands late the evening before does not count for the next day
 * (partners that upload before midnight should set `by` accordingly).
 *
 * Without history (no last file known), deadlines that passed before watching started are not
 * judged: a restart at 10:00 must not report a file that may well have arrived at 06:00. The
 * gateway can pass the last arrival from its store to judge those too.
 */
import { dailyWindow } from './schedule.js';

export interface ExpectedDaily {
  by: string;
  timeZone: string;
}

export interface DailyEvaluation {
  /** The first missed deadline, while files are missing; null when the current day is served. */
  missingSince: Date | null;
  /** Set only the first time a given deadline is found missed (log once, count once). */
  newlyMissedDeadline: Date | null;
  /** When to evaluate again even if nothing happens. */
  nextCheckAt: Date;
}

export class ExpectedDailyTracker {
  private missingSince: Date | null = null;
  private lastAlerted: number | null = null;

  constructor(
    private readonly expected: ExpectedDaily,
    private readonly watchingSince: Date,
  ) {}

  evaluate(now: Date, lastFileAt: Date | null): DailyEvaluation {
    const { by, timeZone } = this.expected;
    const w = dailyWindow(by, timeZone, now);
    const served = lastFileAt !== null && lastFileAt.getTime() >= w.dayStart.getTime();
    const judgeable = lastFileAt !== null || w.deadline.getTime() >= this.watchingSince.getTime();
    let newlyMissedDeadline: Date | null = null;
    if (served || !judgeable) {
      this.missingSince = null;
    } else {
      this.missingSince ??= lastFileAt ? firstDeadlineAfterDayOf(lastFileAt, by, timeZone) : w.deadline;
      if (this.lastAlerted !== w.deadline.getTime()) {
        this.lastAlerted = w.deadline.getTime();
        newlyMissedDeadline = w.deadline;
      }
    }
    return { missingSince: this.missingSince, newlyMissedDeadline, nextCheckAt: w.nextDeadline };
  }
}

/** The first deadline whose day began after `at` (the day of `at` itself was served by that file). */
function firstDeadlineAfterDayOf(at: Date, by: string, timeZone: string): Date {
  let d = dailyWindow(by, timeZone, at).nextDeadline;
  if (dailyWindow(by, timeZone, d).dayStart.getTime() <= at.getTime()) d = dailyWindow(by, timeZone, d).nextDeadline;
  return d;
}
