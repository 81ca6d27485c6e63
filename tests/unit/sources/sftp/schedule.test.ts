import { describe, expect, test } from 'vitest';
import { dailyWindow, nextPollAt } from '../../../../src/sources/sftp/schedule.js';

describe('poll schedule', () => {
  const now = new Date('2025-06-02T13:30:10Z');

  test('an interval counts from now', () => {
    expect(nextPollAt({ intervalSeconds: 300 }, now).toISOString()).toBe('2025-06-02T13:35:10.000Z');
  });

  test('cron in UTC by default, and in the given time zone', () => {
    expect(nextPollAt({ cron: '*/15 * * * *' }, now).toISOString()).toBe('2025-06-02T13:45:00.000Z');
    // 06:30 New York (EDT, UTC-4) is 10:30 UTC: the next one is tomorrow's.
    expect(nextPollAt({ cron: '30 6 * * *', timeZone: 'America/New_York' }, now).toISOString()).toBe('2025-06-03T10:30:00.000Z');
  });

  test('6-field cron has seconds first', () => {
    expect(nextPollAt({ cron: '30 * * * * *' }, now).toISOString()).toBe('2025-06-02T13:30:30.000Z');
  });
});

describe('daily window', () => {
  test('the most recent deadline, its local midnight, and the next deadline', () => {
    const w = dailyWindow('07:00', 'America/New_York', new Date('2025-06-02T13:30:00Z'));
    expect(w.deadline.toISOString()).toBe('2025-06-02T11:00:00.000Z');
    expect(w.dayStart.toISOString()).toBe('2025-06-02T04:00:00.000Z');
    expect(w.nextDeadline.toISOString()).toBe('2025-06-03T11:00:00.000Z');
  });

  test('before the deadline, the window is still yesterday', () => {
    const w = dailyWindow('07:00', 'America/New_York', new Date('2025-06-02T10:00:00Z'));
    expect(w.deadline.toISOString()).toBe('2025-06-01T11:00:00.000Z');
    expect(w.nextDeadline.toISOString()).toBe('2025-06-02T11:00:00.000Z');
  });

  test('a deadline equal to now counts as passed', () => {
    const w = dailyWindow('07:00', 'UTC', new Date('2025-06-02T07:00:00Z'));
    expect(w.deadline.toISOString()).toBe('2025-06-02T07:00:00.000Z');
  });

  test('across the spring-forward DST change the local times hold', () => {
    // 2025-03-09: New York moves from EST (UTC-5) to EDT (UTC-4) at 02:00.
    const w = dailyWindow('07:00', 'America/New_York', new Date('2025-03-09T12:00:00Z'));
    expect(w.deadline.toISOString()).toBe('2025-03-09T11:00:00.000Z');
    expect(w.dayStart.toISOString()).toBe('2025-03-09T05:00:00.000Z');
  });
});
