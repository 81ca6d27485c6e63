// When the weekly status file is due: a weekday and a local time in the care-plan time zone. The
// instant is found from the wall time with the zone's offset at that moment, so a DST switch in
// the week moves the UTC instant, never the local time. Plus a small timer that fires at each one.
import { formatLocalDate, localDayAt, wallTimeToUtc, weekdayOf, type DayNumber } from './local-date.js';

const DAY_MS = 86_400_000;

export interface WeeklySlot {
  /** 0 = Sunday ... 6 = Saturday. */
  weekday: number;
  /** HH:MM, 24-hour, local. */
  time: string;
  timeZone: string;
}

function wallToUtc(day: DayNumber, minutes: number, timeZone: string): number {
  return wallTimeToUtc(day * DAY_MS + minutes * 60_000, timeZone);
}

function minutesOf(time: string): number {
  const m = /^(\d{2}):(\d{2})$/.exec(time);
  if (!m) throw new RangeError('time must be HH:MM');
  return Number(m[1]) * 60 + Number(m[2]);
}

function slotOn(day: DayNumber, slot: WeeklySlot): number | undefined {
  return weekdayOf(day) === slot.weekday ? wallToUtc(day, minutesOf(slot.time), slot.timeZone) : undefined;
}

/** The first slot strictly after `after`. */
export function nextWeeklySlot(after: Date, slot: WeeklySlot): Date {
  const today = localDayAt(after.getTime(), slot.timeZone);
  for (let day = today - 1; day <= today + 8; day++) {
    const at = slotOn(day, slot);
    if (at !== undefined && at > after.getTime()) return new Date(at);
  }
  throw new Error('no weekly slot found'); // unreachable: every 7 days hold one
}

/** The last slot at or before `atOrBefore` (the one whose file should exist by now). */
export function latestWeeklySlot(atOrBefore: Date, slot: WeeklySlot): Date {
  const today = localDayAt(atOrBefore.getTime(), slot.timeZone);
  for (let day = today + 1; day >= today - 8; day--) {
    const at = slotOn(day, slot);
    if (at !== undefined && at <= atOrBefore.getTime()) return new Date(at);
  }
  throw new Error('no weekly slot found');
}

/** Local date of a slot: names the week's file and keys its idempotency. */
export function slotDate(at: Date, timeZone: string): string {
  return formatLocalDate(localDayAt(at.getTime(), timeZone));
}

// setTimeout holds at most 2^31-1 ms (~24.8 days); a week fits, but re-arm in shorter steps anyway
// so a suspended laptop or a clock jump is noticed within the hour.
const MAX_WAIT_MS = 60 * 60_000;
const RETRIES = 6;

/**
 * Calls `run(slot)` at every slot from now on, and once at start for the latest past slot (a
 * gateway down at the scheduled time catches up; the caller makes a repeat harmless).
 */
export class WeeklyTimer {
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private next: Date | undefined;
  private readonly retries = new Set<NodeJS.Timeout>();

  constructor(
    private readonly slot: WeeklySlot,
    private readonly run: (slot: Date) => Promise<void>,
    private readonly now: () => Date = () => new Date(),
    private readonly retryMs = 5 * 60_000,
  ) {}

  start(options: { catchUp?: boolean } = {}): void {
    if (!this.stopped) return;
    this.stopped = false;
    if (options.catchUp ?? true) void this.fire(latestWeeklySlot(this.now(), this.slot));
    this.next = nextWeeklySlot(this.now(), this.slot);
    this.arm();
  }

  /** When the next run is planned (undefined when stopped). */
  nextRun(): Date | undefined {
    return this.stopped ? undefined : this.next;
  }

  private arm(): void {
    if (this.stopped || !this.next) return;
    const wait = Math.max(0, Math.min(MAX_WAIT_MS, this.next.getTime() - this.now().getTime()));
    this.timer = setTimeout(() => {
      if (this.stopped || !this.next) return;
      if (this.now().getTime() >= this.next.getTime()) {
        const due = this.next;
        this.next = nextWeeklySlot(due, this.slot);
        void this.fire(due);
      }
      this.arm();
    }, wait);
    this.timer.unref();
  }

  private async fire(at: Date, attempt = 1): Promise<void> {
    try {
      await this.run(at);
    } catch {
      // The callback logs its own failures. Retry a few times (store or Redis briefly down); after
      // that the next start's catch-up is the last chance for this week.
      if (this.stopped || attempt >= RETRIES) return;
      const retry = setTimeout(() => {
        this.retries.delete(retry);
        void this.fire(at, attempt + 1);
      }, this.retryMs);
      retry.unref();
      this.retries.add(retry);
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const r of this.retries) clearTimeout(r);
    this.retries.clear();
  }
}
