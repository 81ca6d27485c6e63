import { describe, expect, it } from 'vitest';
import { covers, dateInZone, dayAfter, dayBefore, isCalendarDate } from '../../../src/roster/dates.js';
import { candidateIdentifiers, matchKey, pickByPrecedence } from '../../../src/roster/matching.js';
import { PartnerMutex } from '../../../src/roster/partner-mutex.js';

describe('roster dates', () => {
  it('accepts real calendar dates only', () => {
    expect(isCalendarDate('2024-02-29')).toBe(true);
    expect(isCalendarDate('2023-02-29')).toBe(false);
    expect(isCalendarDate('2024-13-01')).toBe(false);
    expect(isCalendarDate('20240101')).toBe(false);
  });

  it('steps days across month, year and leap boundaries', () => {
    expect(dayBefore('2024-03-01')).toBe('2024-02-29');
    expect(dayBefore('2024-01-01')).toBe('2023-12-31');
    expect(dayAfter('2023-02-28')).toBe('2023-03-01');
  });

  it('takes "today" in the partner time zone, not UTC', () => {
    const lateEvening = new Date('2024-03-01T03:30:00Z'); // 22:30 on Feb 29 in Boston
    expect(dateInZone(lateEvening, 'America/New_York')).toBe('2024-02-29');
    expect(dateInZone(lateEvening, 'UTC')).toBe('2024-03-01');
  });

  it('treats both ends of a period as inclusive, and no end as open', () => {
    expect(covers('2024-03-01', '2024-03-31', '2024-03-01')).toBe(true);
    expect(covers('2024-03-01', '2024-03-31', '2024-03-31')).toBe(true);
    expect(covers('2024-03-01', '2024-03-31', '2024-04-01')).toBe(false);
    expect(covers('2024-03-01', null, '2099-01-01')).toBe(true);
  });
});

describe('roster matching', () => {
  const owners = [
    { system: 'mrn', value: '1', memberId: 'A' },
    { system: 'medicaid', value: '9', memberId: 'B' },
  ];
  const patient = [
    { system: 'mrn', value: '1' },
    { system: 'medicaid', value: '9' },
  ];

  it('tries systems in precedence order and ignores systems not listed', () => {
    expect(pickByPrecedence(patient, owners, ['medicaid', 'mrn'])).toBe('B');
    expect(pickByPrecedence(patient, owners, ['mrn'])).toBe('A');
    expect(pickByPrecedence(patient, owners, ['ssn'])).toBeUndefined();
    expect(pickByPrecedence(patient, owners, [])).toBe('A');
    expect(candidateIdentifiers([...patient, { system: 'x', value: '' }], ['medicaid'])).toEqual([{ system: 'medicaid', value: '9' }]);
  });

  it('builds an exact demographic key only from all four parts', () => {
    expect(matchKey({ family: " o'Brien ", given: 'mary  ann', birthDate: '1970-05-05', sex: 'female' })).toBe(
      "O'BRIEN|MARY ANN|1970-05-05|FEMALE",
    );
    expect(matchKey({ family: 'X', given: 'Y', birthDate: '1970-05-05' })).toBeUndefined();
  });
});

describe('PartnerMutex', () => {
  it('runs one task per partner at a time, in call order, and survives failures', async () => {
    const mutex = new PartnerMutex();
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const a = mutex.run('p', async () => {
      log.push('a start');
      await gate;
      log.push('a end');
      throw new Error('a failed');
    });
    const b = mutex.run('p', async () => {
      log.push('b');
      return 'b';
    });
    const other = mutex.run('q', async () => {
      log.push('q');
    });
    await other;
    expect(log).toEqual(['a start', 'q']);
    release();
    await expect(a).rejects.toThrow('a failed');
    expect(await b).toBe('b');
    expect(log).toEqual(['a start', 'q', 'a end', 'b']);
  });
});
