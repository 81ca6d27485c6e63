// The partner keys care plans read: pcpNpis (the PCP's organization), timeZone and holidays (the
// partner's business-day calendar).
import { describe, expect, it } from 'vitest';
import { partnersSchema } from '../../../src/config/schema/partners.js';

const aco = { name: 'Acme ACO', kind: 'aco' };
const issues = (value: unknown) => {
  const r = partnersSchema.safeParse(value);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('partner config for care plans', () => {
  it('all three keys are optional and kept as given', () => {
    const parsed = partnersSchema.parse({
      'acme-aco': aco,
      'river-health': { name: 'Riverside', kind: 'hospital', pcpNpis: ['1245319599'], destinations: { careplan: 'pcp-hook' } },
      'chi-cp': { name: 'Chicago CP', kind: 'cp', timeZone: 'America/Chicago', holidays: ['2024-03-04'] },
    });
    expect(parsed['acme-aco']).not.toHaveProperty('pcpNpis');
    expect(parsed['acme-aco']).not.toHaveProperty('timeZone');
    expect(parsed['river-health']!.pcpNpis).toEqual(['1245319599']);
    expect(parsed['chi-cp']).toMatchObject({ timeZone: 'America/Chicago', holidays: ['2024-03-04'] });
  });

  it('refuses a zone that is not IANA, a bad holiday date and an NPI that is not 10 digits', () => {
    expect(issues({ a: { ...aco, timeZone: 'Central' } })).toEqual(['a.timeZone: must be an IANA time zone such as America/New_York']);
    expect(issues({ a: { ...aco, holidays: ['2024-13-01'] } })).toEqual(['a.holidays.0: must be a date YYYY-MM-DD']);
    expect(issues({ a: { ...aco, pcpNpis: ['12345'] } })).toEqual(['a.pcpNpis.0: must be an NPI (10 digits)']);
  });

  it('refuses a PCP listed by two partners, and PCPs on a community partner', () => {
    expect(
      issues({ a: { ...aco, pcpNpis: ['1245319599'] }, b: { name: 'B', kind: 'hospital', pcpNpis: ['1234567893', '1245319599'] } }),
    ).toEqual(["b.pcpNpis.1: this NPI is already listed by partner 'a'"]);
    expect(issues({ c: { name: 'C', kind: 'cp', pcpNpis: ['1245319599'] } })).toEqual([
      'c.pcpNpis: a community partner (kind cp) has no PCPs to sign care plans',
    ]);
  });
});
