import { afterAll, describe, expect, it } from 'vitest';
import { FhirValidation } from '../../../src/fhir/validate.js';

describe('FhirValidation (validators on their own thread)', () => {
  const validation = new FhirValidation();
  afterAll(() => validation.close());

  it('keeps the event loop turning while the StructureDefinitions load on first use', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    try {
      expect(await validation.validate({ resourceType: 'Patient', gender: 'female', birthDate: '1970-01-02' })).toEqual([]);
    } finally {
      clearInterval(timer);
    }
    // Loading takes seconds; on the main thread it would have stopped every timer until done.
    expect(ticks).toBeGreaterThan(3);
  });

  it('names each problem by its path, from both validators', async () => {
    const problems = await validation.validate({ resourceType: 'Patient', gender: 'nonsense', birthDate: '1970-13-45' });
    expect(problems.some((p) => p.startsWith('Patient.gender'))).toBe(true);
    expect(problems.some((p) => p.startsWith('Patient.birthDate'))).toBe(true);
    expect(problems.join('\n')).not.toContain('1970-13-45');
  });

  it('answers concurrent requests each with its own result', async () => {
    const [ok, bad] = await Promise.all([
      validation.validate({ resourceType: 'Organization', name: 'Acme' }),
      validation.validate({ resourceType: 'Organization', active: 'yes' }),
    ]);
    expect(ok).toEqual([]);
    expect(bad.length).toBeGreaterThan(0);
  });

  it('fails what it holds when stopped, and starts a new thread for the next resource', async () => {
    const other = new FhirValidation();
    try {
      const failed = expect(other.validate({ resourceType: 'Patient' })).rejects.toThrow(/stopped/);
      await other.close();
      await failed;
      expect(await other.validate({ resourceType: 'Patient' })).toEqual([]);
    } finally {
      await other.close();
    }
  });
});
