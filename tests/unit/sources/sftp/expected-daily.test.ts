import { describe, expect, test } from 'vitest';
import { ExpectedDailyTracker } from '../../../../src/sources/sftp/expected-daily.js';

const at = (s: string): Date => new Date(s);
const expected = { by: '07:00', timeZone: 'America/New_York' }; // 07:00 EDT = 11:00Z

describe('expected daily file', () => {
  test('a file between local midnight and the deadline serves the day', () => {
    const t = new ExpectedDailyTracker(expected, at('2025-06-01T00:00:00Z'));
    const ev = t.evaluate(at('2025-06-02T12:00:00Z'), at('2025-06-02T09:00:00Z'));
    expect(ev).toMatchObject({ missingSince: null, newlyMissedDeadline: null });
    expect(ev.nextCheckAt.toISOString()).toBe('2025-06-03T11:00:00.000Z');
  });

  test('a missed deadline is reported once, then cleared by a late file', () => {
    const t = new ExpectedDailyTracker(expected, at('2025-06-01T00:00:00Z'));
    const yesterday = at('2025-06-01T10:00:00Z');
    const first = t.evaluate(at('2025-06-02T11:00:30Z'), yesterday);
    expect(first.missingSince?.toISOString()).toBe('2025-06-02T11:00:00.000Z');
    expect(first.newlyMissedDeadline?.toISOString()).toBe('2025-06-02T11:00:00.000Z');
    const again = t.evaluate(at('2025-06-02T12:00:00Z'), yesterday);
    expect(again.missingSince?.toISOString()).toBe('2025-06-02T11:00:00.000Z');
    expect(again.newlyMissedDeadline).toBeNull();
    expect(t.evaluate(at('2025-06-02T13:00:00Z'), at('2025-06-02T12:59:00Z')).missingSince).toBeNull();
  });

  test('several missed days keep the first missed deadline and alert for each', () => {
    const t = new ExpectedDailyTracker(expected, at('2025-05-01T00:00:00Z'));
    const last = at('2025-06-01T10:00:00Z');
    expect(t.evaluate(at('2025-06-02T11:00:01Z'), last).newlyMissedDeadline).not.toBeNull();
    const day2 = t.evaluate(at('2025-06-03T11:00:01Z'), last);
    expect(day2.missingSince?.toISOString()).toBe('2025-06-02T11:00:00.000Z');
    expect(day2.newlyMissedDeadline?.toISOString()).toBe('2025-06-03T11:00:00.000Z');
  });

  test('a file the evening before does not count for the next day', () => {
    const t = new ExpectedDailyTracker(expected, at('2025-06-01T00:00:00Z'));
    // 23:30 New York on June 1st.
    expect(t.evaluate(at('2025-06-02T11:30:00Z'), at('2025-06-02T03:30:00Z')).missingSince).not.toBeNull();
  });

  test('with history, missingSince is the first deadline after the last served day', () => {
    const t = new ExpectedDailyTracker(expected, at('2025-06-05T00:00:00Z'));
    // Last file May 30th 06:00 local (before its deadline): May 31st's deadline was the first miss.
    const ev = t.evaluate(at('2025-06-05T12:00:00Z'), at('2025-05-30T10:00:00Z'));
    expect(ev.missingSince?.toISOString()).toBe('2025-05-31T11:00:00.000Z');
    // A late file (after its day's deadline) also serves only its own day.
    const t2 = new ExpectedDailyTracker(expected, at('2025-06-05T00:00:00Z'));
    expect(t2.evaluate(at('2025-06-05T12:00:00Z'), at('2025-05-30T20:00:00Z')).missingSince?.toISOString()).toBe(
      '2025-05-31T11:00:00.000Z',
    );
  });

  test('without history, deadlines before watching started are not judged (no alarm after a restart)', () => {
    const t = new ExpectedDailyTracker(expected, at('2025-06-02T14:00:00Z'));
    expect(t.evaluate(at('2025-06-02T14:00:05Z'), null)).toMatchObject({ missingSince: null, newlyMissedDeadline: null });
    // The next deadline passes with still no file: now it is missing.
    expect(t.evaluate(at('2025-06-03T11:00:01Z'), null).missingSince?.toISOString()).toBe('2025-06-03T11:00:00.000Z');
  });
});
