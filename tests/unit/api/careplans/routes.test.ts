import type { Bundle, CarePlan } from 'fhir/r4.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SIGNOFF_STATUS_SYSTEM } from '../../../../src/careplan/signoff.js';
import { assertValidFhir } from '../../../helpers/validate-fhir.js';
import { cpPlan } from '../../careplan/service/harness.js';
import { apiHarness, auth, KEYS, type ApiHarness } from './fixtures.js';

describe('/api/careplans', () => {
  let h: ApiHarness;
  beforeEach(async () => {
    h = await apiHarness();
  });
  afterEach(() => h.close());

  const submit = (key: string, body: unknown, query = '') =>
    h.app.inject({
      method: 'POST',
      url: `/api/careplans${query}`,
      headers: { ...auth(key), 'content-type': 'application/fhir+json' },
      payload: JSON.stringify(body),
    });

  it('a CP submits (201, then 200 unchanged), both sides read it, others do not see it', async () => {
    const created = await submit(KEYS.cp, cpPlan());
    expect(created.statusCode).toBe(201);
    const body = created.json();
    expect(body).toMatchObject({
      outcome: 'created',
      carePlan: { kind: 'cp-plan', cpPartner: 'bay-cp', acoPartner: 'acme-aco', signoff: 'pending', version: 1 },
    });
    expect(created.headers.location).toBe(`/api/careplans/${body.carePlan.id}`);
    assertValidFhir(body.carePlan.carePlan);
    expect((await submit(KEYS.cp, cpPlan())).json().outcome).toBe('unchanged');
    const id = body.carePlan.id as string;
    for (const key of [KEYS.cp, KEYS.aco, KEYS.admin]) {
      const got = await h.app.inject({ method: 'GET', url: `/api/careplans/${id}`, headers: auth(key) });
      expect(got.statusCode).toBe(200);
      expect(got.json()).toMatchObject({ id, signoffs: [], followUp: null });
    }
    expect((await h.app.inject({ method: 'GET', url: '/api/careplans', headers: auth(KEYS.aco) })).json().items).toHaveLength(1);
    const audit = await h.messages.listAudit({ subjectType: 'careplan' });
    expect(audit.items.map((a) => a.action)).toEqual(['api.careplan.submit']);
  });

  it('only a CP key (or an admin naming the CP) submits', async () => {
    expect((await submit(KEYS.aco, cpPlan())).statusCode).toBe(403);
    expect((await submit(KEYS.admin, cpPlan())).statusCode).toBe(400); // must name the partner
    expect((await submit(KEYS.admin, cpPlan(), '?partner=bay-cp')).statusCode).toBe(201);
    expect((await submit(KEYS.both, cpPlan(), '?partner=acme-aco')).statusCode).toBe(403);
    expect((await submit(KEYS.cp, cpPlan(), '?partner=acme-aco')).statusCode).toBe(403);
    const bad = await submit(KEYS.cp, { resourceType: 'CarePlan', status: 'active', intent: 'plan' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().issue[0].diagnostics).toBe('the care plan is not acceptable: subject is required');
    const unknown = await submit(KEYS.cp, cpPlan('NOPE'));
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().issue[0]).toMatchObject({
      code: 'processing',
      diagnostics: 'the care plan subject is not a member on the roster',
    });
    expect(unknown.body).not.toContain('NOPE');
  });

  it('the ACO signs off: Provenance returned and stored, the CP notified; only the ACO may', async () => {
    const id = (await submit(KEYS.cp, cpPlan())).json().carePlan.id as string;
    const sign = (key: string, payload: object) =>
      h.app.inject({ method: 'POST', url: `/api/careplans/${id}/signoff`, headers: auth(key), payload });
    expect((await sign(KEYS.cp, { decision: 'approved' })).statusCode).toBe(403);
    expect(
      (
        await h.app.inject({
          method: 'POST',
          url: '/api/careplans/not-there/signoff',
          headers: auth(KEYS.aco),
          payload: { decision: 'approved' },
        })
      ).statusCode,
    ).toBe(404);
    expect((await sign(KEYS.aco, { decision: 'maybe' })).statusCode).toBe(400);
    expect((await sign(KEYS.aco, { decision: 'approved', version: 9 })).statusCode).toBe(409);
    const ok = await sign(KEYS.aco, {
      decision: 'approved',
      signedBy: { npi: '1234567893' },
      signedAt: '2024-05-01T09:00:00-04:00',
      version: 1,
    });
    expect(ok.statusCode).toBe(200);
    const r = ok.json();
    expect(r).toMatchObject({ outcome: 'recorded', carePlan: { signoff: 'approved', version: 2 } });
    assertValidFhir(r.provenance);
    expect(r.provenance.agent[0].who.identifier).toEqual({ system: 'http://hl7.org/fhir/sid/us-npi', value: '1234567893' });
    const again = await sign(KEYS.aco, {
      decision: 'approved',
      signedBy: { npi: '1234567893' },
      signedAt: '2024-05-01T09:00:00-04:00',
      version: 1,
    });
    expect(again.json().outcome).toBe('duplicate');
    const detail = (await h.app.inject({ method: 'GET', url: `/api/careplans/${id}`, headers: auth(KEYS.cp) })).json();
    expect(detail.signoffs).toHaveLength(1);
    expect(detail.signoffs[0]).toMatchObject({
      decision: 'approved',
      method: 'api',
      planVersion: 1,
      provenance: { resourceType: 'Provenance' },
    });
    expect(h.deliveries.map((d) => d.destination)).toEqual(['aco-hook', 'cp-hook']);
    const toCp = JSON.parse(h.deliveries[1]!.payload!) as Bundle;
    assertValidFhir(toCp);
    const approved = await h.app.inject({ method: 'GET', url: '/api/careplans?status=approved', headers: auth(KEYS.cp) });
    expect(approved.json().items.map((p: { id: string }) => p.id)).toEqual([id]);
  });

  it('FHIR update: PUT /fhir/CarePlan/:id with the sign-off tag records a decision once', async () => {
    const submitted = (await submit(KEYS.cp, cpPlan())).json().carePlan.carePlan as CarePlan;
    const put = (key: string, plan: CarePlan) =>
      h.app.inject({
        method: 'PUT',
        url: `/fhir/CarePlan/${submitted.id}`,
        headers: { ...auth(key), 'content-type': 'application/fhir+json' },
        payload: JSON.stringify(plan),
      });
    expect((await put(KEYS.aco, submitted)).statusCode).toBe(422); // still pending: no decision
    const rejected: CarePlan = {
      ...submitted,
      meta: { ...submitted.meta, tag: [{ system: SIGNOFF_STATUS_SYSTEM, code: 'rejected' }] },
      note: [{ text: 'Needs a housing goal' }],
    };
    const r = await put(KEYS.aco, rejected);
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/application\/fhir\+json/);
    const plan = r.json() as CarePlan;
    expect(plan.note?.at(-1)?.text).toBe('Sign-off rejected: Needs a housing goal');
    assertValidFhir(plan);
    expect((await put(KEYS.aco, rejected)).statusCode).toBe(200);
    const detail = (await h.app.inject({ method: 'GET', url: `/api/careplans/${submitted.id}`, headers: auth(KEYS.cp) })).json();
    expect(detail.signoffs.map((s: { decision: string; method: string }) => [s.decision, s.method])).toEqual([['rejected', 'fhir']]);
    expect((await put(KEYS.cp, { ...rejected, meta: { tag: [{ system: SIGNOFF_STATUS_SYSTEM, code: 'approved' }] } })).statusCode).toBe(
      403,
    );
    expect((await put(KEYS.aco, { ...rejected, id: 'other' })).statusCode).toBe(400);
  });

  it('follow-up, due list and status file', async () => {
    const toc = await h.service.onDischarge({
      messageId: 'm',
      memberId: 'M1',
      cpPartnerId: 'bay-cp',
      patient: 'Patient/p1',
      encounter: 'Encounter/e1',
      dischargeAt: '2024-05-03T10:00:00-04:00',
    });
    await submit(KEYS.cp, cpPlan());
    const due = await h.app.inject({ method: 'GET', url: '/api/careplans/due', headers: auth(KEYS.cp) });
    expect(due.statusCode).toBe(200);
    expect(due.json().items.map((d: { obligation: string; state: string }) => [d.obligation, d.state])).toEqual([
      ['follow-up', 'overdue'],
      ['signoff', 'due'],
    ]);
    expect(
      (await h.app.inject({ method: 'GET', url: '/api/careplans/due?overdue=true', headers: auth(KEYS.cp) })).json().items,
    ).toHaveLength(1);
    expect((await h.app.inject({ method: 'GET', url: '/api/careplans/due?partner=bay-cp', headers: auth(KEYS.aco) })).statusCode).toBe(403);
    expect((await h.app.inject({ method: 'GET', url: '/api/careplans/due', headers: auth(KEYS.aco) })).json().items).toHaveLength(1);

    expect(
      (await h.app.inject({ method: 'POST', url: `/api/careplans/${toc.id}/follow-up`, headers: auth(KEYS.aco), payload: {} })).statusCode,
    ).toBe(404);
    const done = await h.app.inject({
      method: 'POST',
      url: `/api/careplans/${toc.id}/follow-up`,
      headers: auth(KEYS.cp),
      payload: { completedAt: '2024-05-06T11:00:00-04:00' },
    });
    expect(done.statusCode).toBe(200);
    expect(done.json()).toMatchObject({ status: 'completed', completedAt: '2024-05-06T15:00:00.000Z' });
    expect((await h.app.inject({ method: 'GET', url: '/api/careplans/due', headers: auth(KEYS.cp) })).json().items).toHaveLength(1);
    // No body: done now (idempotent on a completed plan); a bad body is refused.
    expect(
      (await h.app.inject({ method: 'POST', url: `/api/careplans/${toc.id}/follow-up`, headers: auth(KEYS.cp) })).json().completedAt,
    ).toBe('2024-05-06T15:00:00.000Z');
    expect(
      (
        await h.app.inject({
          method: 'POST',
          url: `/api/careplans/${toc.id}/follow-up`,
          headers: auth(KEYS.cp),
          payload: { completedAt: 5 },
        })
      ).statusCode,
    ).toBe(400);

    const file = await h.app.inject({ method: 'GET', url: '/api/careplans/status-file', headers: auth(KEYS.cp) });
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-type']).toMatch(/^text\/csv/);
    expect(file.headers['content-disposition']).toMatch(/^attachment; filename="careplan-status-bay-cp-\d{4}-\d{2}-\d{2}\.csv"$/);
    expect(file.body.split('\r\n')[0]).toBe(
      'section,member_id,care_plan_id,created_date,signoff_status,signed_date,due_date,state,days_overdue',
    );
    expect(file.body).toMatch(/\r\ncareplan-unsigned,M1,/);
    expect(
      (await h.app.inject({ method: 'GET', url: '/api/careplans/status-file?partner=acme-aco', headers: auth(KEYS.admin) })).statusCode,
    ).toBe(400);
    expect((await h.app.inject({ method: 'GET', url: '/api/careplans/status-file', headers: auth(KEYS.admin) })).statusCode).toBe(400);
  });

  it('needs a key, and lists only what the key may see', async () => {
    expect((await h.app.inject({ method: 'GET', url: '/api/careplans' })).statusCode).toBe(401);
    await submit(KEYS.cp, cpPlan());
    const other = await h.app.inject({ method: 'GET', url: '/api/careplans?partner=bay-cp', headers: auth(KEYS.aco) });
    expect(other.json().items).toEqual([]);
    const openapi = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(['/api/careplans', '/api/careplans/{id}/signoff', '/api/careplans/status-file', '/fhir/CarePlan/{id}']),
    );
  });
});
