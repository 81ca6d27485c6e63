import { afterEach, describe, expect, it, vi } from 'vitest';
import { latestWeeklySlot, nextWeeklySlot, slotDate, WeeklyTimer } from '../../../src/careplan/weekly-schedule.js';

const monday6 = { weekday: 1, time: '06:00', timeZone: 'America/New_York' };

describe('weekly slots in the care-plan zone', () => {
  it('finds the next and the latest Monday 06:00 local', () => {
    expect(nextWeeklySlot(new Date('2024-06-05T12:00:00Z'), monday6).toISOString()).toBe('2024-06-10T10:00:00.000Z');
    expect(latestWeeklySlot(new Date('2024-06-05T12:00:00Z'), monday6).toISOString()).toBe('2024-06-03T10:00:00.000Z');
    // Exactly at the slot: it is the latest, and the next is a week on.
    const at = new Date('2024-06-03T10:00:00Z');
    expect(latestWeeklySlot(at, monday6)).toEqual(at);
    expect(nextWeeklySlot(at, monday6).toISOString()).toBe('2024-06-10T10:00:00.000Z');
  });

  it('keeps the local time through DST changes (the UTC instant moves)', () => {
    // US DST starts Sunday 2024-03-10 and ends Sunday 2024-11-03.
    expect(nextWeeklySlot(new Date('2024-03-05T00:00:00Z'), monday6).toISOString()).toBe('2024-03-11T10:00:00.000Z'); // EDT
    expect(nextWeeklySlot(new Date('2024-03-01T00:00:00Z'), monday6).toISOString()).toBe('2024-03-04T11:00:00.000Z'); // EST
    expect(nextWeeklySlot(new Date('2024-11-01T00:00:00Z'), monday6).toISOString()).toBe('2024-11-04T11:00:00.000Z'); // EST again
    // A slot in the skipped hour lands just after the gap; a repeated hour takes the first.
    const sunday0230 = { weekday: 0, time: '02:30', timeZone: 'America/New_York' };
    expect(nextWeeklySlot(new Date('2024-03-09T00:00:00Z'), sunday0230).toISOString()).toBe('2024-03-10T07:30:00.000Z');
    const sunday0130 = { weekday: 0, time: '01:30', timeZone: 'America/New_York' };
    expect(nextWeeklySlot(new Date('2024-11-02T00:00:00Z'), sunday0130).toISOString()).toBe('2024-11-03T05:30:00.000Z');
    expect(slotDate(new Date('2024-06-03T10:00:00Z'), 'America/New_York')).toBe('2024-06-03');
    expect(slotDate(new Date('2024-06-03T02:00:00Z'), 'America/New_York')).toBe('2024-06-02');
  });

  it('works in zones ahead of UTC', () => {
    const tokyo = { weekday: 1, time: '06:00', timeZone: 'Asia/Tokyo' };
    expect(nextWeeklySlot(new Date('2024-06-02T20:00:00Z'), tokyo).toISOString()).toBe('2024-06-02T21:00:00.000Z');
  });
});

describe('WeeklyTimer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('catches up on the latest slot at start, then fires at each slot, and retries a failed run', async () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2024-06-05T12:00:00Z'));
    const runs: string[] = [];
    let fail = true;
    const timer = new WeeklyTimer(
      monday6,
      async (slot) => {
        runs.push(slot.toISOString());
        if (fail && runs.length === 2) throw new Error('store down');
      },
      () => new Date(),
      60_000,
    );
    timer.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toEqual(['2024-06-03T10:00:00.000Z']);
    expect(timer.nextRun()!.toISOString()).toBe('2024-06-10T10:00:00.000Z');
    await vi.advanceTimersByTimeAsync(new Date('2024-06-10T10:00:00Z').getTime() - Date.now());
    expect(runs).toEqual(['2024-06-03T10:00:00.000Z', '2024-06-10T10:00:00.000Z']);
    fail = false;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(runs.at(-1)).toBe('2024-06-10T10:00:00.000Z');
    expect(runs).toHaveLength(3);
    timer.stop();
    expect(timer.nextRun()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(14 * 86_400_000);
    expect(runs).toHaveLength(3);
  });
});
