import { afterEach, describe, expect, it } from 'vitest';
import type { CarePlan } from 'fhir/r4';
import { apiHarness, auth, KEYS, PCP_KEY, type ApiHarness } from './fixtures.js';
import { SIGNOFF_STATUS_SYSTEM } from '../../../../src/careplan/signoff.js';
import { cpPlan } from '../../careplan/service/harness.js';

describe('the PCP’s organization over the API', () => {
  let h: ApiHarness;
  afterEach(async () => h?.close());

  it('sees the member’s care plan and signs it off on its own behalf; another partner cannot', async () => {
    h = await apiHarness({ pcp: true });
    const created = await h.app.inject({ method: 'POST', url: '/api/careplans', headers: auth(KEYS.cp), payload: cpPlan() });
    expect(created.statusCode).toBe(201);
    const id = created.json().carePlan.id as string;
    expect(created.json().carePlan.pcpPartner).toBe('river-health');

    const seen = await h.app.inject({ method: 'GET', url: `/api/careplans/${id}`, headers: auth(PCP_KEY) });
    expect(seen.statusCode).toBe(200);

    const signed = await h.app.inject({
      method: 'POST',
      url: `/api/careplans/${id}/signoff`,
      headers: auth(PCP_KEY),
      payload: { decision: 'approved' },
    });
    expect(signed.statusCode).toBe(200);
    expect(signed.json()).toMatchObject({ outcome: 'recorded', carePlan: { signoff: 'approved' } });
    const provenance = signed.json().provenance as { agent: { onBehalfOf?: { identifier?: { value?: string } } }[] };
    expect(JSON.stringify(provenance.agent)).toContain('river-health');

    const cpTries = await h.app.inject({
      method: 'POST',
      url: `/api/careplans/${id}/signoff`,
      headers: auth(KEYS.cp),
      payload: { decision: 'rejected', reason: 'x' },
    });
    expect(cpTries.statusCode).toBe(403);
  });

  it('the other signer is told and cannot sign the same version again (409 naming who signed)', async () => {
    h = await apiHarness({ pcp: true });
    const id = (await h.app.inject({ method: 'POST', url: '/api/careplans', headers: auth(KEYS.cp), payload: cpPlan() })).json().carePlan
      .id as string;
    const signedAt = '2024-05-01T09:30:00-04:00';
    const signed = await h.app.inject({
      method: 'POST',
      url: `/api/careplans/${id}/signoff`,
      headers: auth(PCP_KEY),
      payload: { decision: 'approved', signedAt },
    });
    expect(signed.statusCode).toBe(200);
    // The sign-off message went to the CP and to the ACO (the PCP's organization signed it).
    const notified = h.deliveries.filter((d) => d.messageId === signed.json().messageId).map((d) => d.destination);
    expect(notified.sort()).toEqual(['aco-hook', 'cp-hook']);

    const late = await h.app.inject({
      method: 'POST',
      url: `/api/careplans/${id}/signoff`,
      headers: auth(KEYS.aco),
      payload: { decision: 'rejected', reason: 'late' },
    });
    expect(late.statusCode).toBe(409);
    expect(late.json().issue[0].diagnostics).toBe(
      `the care plan is already approved (by river-health at ${signedAt}); a new version must be submitted before it is signed off again`,
    );
    const detail = (await h.app.inject({ method: 'GET', url: `/api/careplans/${id}`, headers: auth(KEYS.aco) })).json();
    expect(detail.signoffs).toHaveLength(1);
  });

  it('FHIR update: the same decision PUT by the other signer is a conflict too; the signer itself may PUT it again', async () => {
    h = await apiHarness({ pcp: true });
    const submitted = (await h.app.inject({ method: 'POST', url: '/api/careplans', headers: auth(KEYS.cp), payload: cpPlan() })).json()
      .carePlan.carePlan as CarePlan;
    const approved: CarePlan = { ...submitted, meta: { ...submitted.meta, tag: [{ system: SIGNOFF_STATUS_SYSTEM, code: 'approved' }] } };
    const put = (key: string) =>
      h.app.inject({
        method: 'PUT',
        url: `/fhir/CarePlan/${submitted.id}`,
        headers: { ...auth(key), 'content-type': 'application/fhir+json' },
        payload: JSON.stringify(approved),
      });
    expect((await put(PCP_KEY)).statusCode).toBe(200);
    expect((await put(PCP_KEY)).statusCode).toBe(200); // a retried PUT
    const other = await put(KEYS.aco);
    expect(other.statusCode).toBe(409);
    expect(other.json().issue[0].diagnostics).toMatch(/^the care plan is already approved \(by river-health at /);
    expect((await put(KEYS.admin)).statusCode).toBe(200); // an operator is no signer: nothing to refuse
    const detail = (await h.app.inject({ method: 'GET', url: `/api/careplans/${submitted.id}`, headers: auth(KEYS.aco) })).json();
    expect(detail.signoffs).toHaveLength(1);
  });
});
