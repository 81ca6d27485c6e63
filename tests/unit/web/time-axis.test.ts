import { describe, expect, it } from 'vitest';
import { TICK_STEPS, tickLabels } from '../../../web/src/time-axis.js';

describe('time chart x axis', () => {
  const t0 = Date.UTC(2026, 11, 7, 14, 5, 0) / 1000;

  it('labels ticks with one line of clock time, no date', () => {
    const labels = tickLabels([t0, t0 + 1, t0 + 2], 1);
    for (const l of labels) expect(l).toMatch(/^\d\d:\d\d:\d\d$/);
    expect(new Set(labels).size).toBe(3);
  });

  it('drops seconds once ticks are a minute apart or more', () => {
    for (const l of tickLabels([t0, t0 + 300], 300)) expect(l).toMatch(/^\d\d:\d\d$/);
  });

  it('steps in whole seconds, so two ticks never carry the same label', () => {
    expect(TICK_STEPS.every((s) => Number.isInteger(s) && s >= 1)).toBe(true);
  });
});
