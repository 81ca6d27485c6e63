import { describe, expect, it } from 'vitest';
import { consentDecisions } from '../../../src/roster/fhir-consent.js';

const base = {
  resourceType: 'Consent',
  status: 'active',
  patient: { identifier: { system: 'https://www.mass.gov/masshealth/member-id', value: 'MA1' } },
  provision: { type: 'permit', actor: [{ reference: { identifier: { value: 'cp-a' } } }], securityLabel: [{ code: 'PSY' }] },
};

describe('FHIR Consent → roster consent decisions', () => {
  it('permit + PSY for a partner: behavioral-health granted', () => {
    expect(consentDecisions(base).decisions).toEqual([
      {
        identifiers: [{ system: 'https://www.mass.gov/masshealth/member-id', value: 'MA1' }],
        partnerId: 'cp-a',
        category: 'behavioral-health',
        granted: true,
        recordedAt: undefined,
      },
    ]);
  });
  it('deny, or an inactive Consent, records a refusal; ETH/42CFRPart2 is substance use', () => {
    const deny = consentDecisions({
      ...base,
      provision: { ...base.provision, type: 'deny', securityLabel: [{ code: '42CFRPart2' }] },
    }).decisions;
    expect(deny.map((d) => [d.category, d.granted])).toEqual([['substance-use', false]]);
    expect(consentDecisions({ ...base, status: 'inactive' }).decisions[0].granted).toBe(false);
  });
  it('a contained Patient supplies the identifiers', () => {
    const r = consentDecisions({
      ...base,
      patient: { reference: '#p' },
      contained: [{ resourceType: 'Patient', id: 'p', identifier: [{ system: 's', value: 'v' }] }],
    });
    expect(r.decisions[0].identifiers).toEqual([{ system: 's', value: 'v' }]);
  });
  it('says what is missing, without values', () => {
    const r = consentDecisions({ resourceType: 'Consent', status: 'active', patient: {}, provision: {} });
    expect(r.decisions).toEqual([]);
    expect(r.issues).toEqual([
      'Consent.patient must carry an identifier (or reference a contained Patient with one)',
      'Consent.provision.actor must name the recipient partner (reference.identifier.value)',
      'Consent.provision.securityLabel must say PSY (behavioral health) or ETH/42CFRPart2 (substance use)',
    ]);
  });
});
