import { describe, expect, it } from 'vitest';
import { jsonDiff } from '../../../src/cli/json-diff.js';

const entry = (resourceType: string, id: string, extra: Record<string, unknown> = {}) => ({
  fullUrl: `urn:uuid:${id}`,
  resource: { resourceType, id, ...extra },
});

describe('jsonDiff', () => {
  it('is empty for equal values', () => {
    expect(jsonDiff({ a: [1, { b: 'x' }] }, { a: [1, { b: 'x' }] })).toEqual([]);
  });

  it('names each differing path with what was expected and what came out', () => {
    expect(jsonDiff({ gender: 'female', name: [{ family: 'RIVERA' }] }, { gender: 'male', name: [{ family: 'RIVERA' }] })).toEqual([
      '  gender:',
      '    - "female"',
      '    + "male"',
    ]);
  });

  it('pairs Bundle entries by resource, so one new resource is one difference, not a shifted list', () => {
    const expected = { entry: [entry('Patient', 'p1'), entry('Encounter', 'e1', { status: 'in-progress' })] };
    const actual = { entry: [entry('Patient', 'p1'), entry('CareTeam', 't1'), entry('Encounter', 'e1', { status: 'finished' })] };
    expect(jsonDiff(expected, actual)).toEqual([
      '  entry[Encounter/e1].resource.status:',
      '    - "in-progress"',
      '    + "finished"',
      '  entry[CareTeam/t1]:',
      '    - (absent)',
      `    + ${JSON.stringify(entry('CareTeam', 't1'))}`,
    ]);
  });

  it('falls back to positions for arrays that are not entry lists', () => {
    expect(jsonDiff({ given: ['ANA', 'LUISA'] }, { given: ['ANA'] })).toEqual(['  given[1]:', '    - "LUISA"', '    + (absent)']);
  });
});
