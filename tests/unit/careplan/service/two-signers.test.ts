// A CP care plan routed to both the member's ACO and the PCP's organization (pcpNpis) has two
// possible signers. Whoever signs first decides: the CP and the other signer are both told (signed
// CarePlan + Provenance on their careplan destinations), and a later decision on that version is a
// conflict, so nobody keeps a stale pending plan and nobody signs twice.
import type { Bundle, CarePlan, Provenance } from 'fhir/r4.js';
import { afterEach, describe, expect, it } from 'vitest';
import { SIGNOFF_SOURCE } from '../../../../src/careplan/outbound.js';
import { signoffStatusOf } from '../../../../src/careplan/signoff.js';
import { assertValidFhir } from '../../../helpers/validate-fhir.js';
import { cpPlan, harness, MEDICAID, PARTNERS, payloadOf, type Harness, type TestPartner } from './harness.js';

const NPI = 'http://hl7.org/fhir/sid/us-npi';
const RIVER_PCP = '1245319599';
const ACO_PCP = '1234567893';
const practitioner = (npi: string) => ({ type: 'Practitioner', identifier: { system: NPI, value: npi } });
const RIVER: Record<string, TestPartner> = {
  'river-health': { name: 'Riverside Health', kind: 'hospital', destinations: { careplan: 'pcp-hook' }, pcpNpis: [RIVER_PCP] },
  'acme-aco': { ...PARTNERS['acme-aco']!, pcpNpis: [ACO_PCP] },
};

const byRiver = (decision: 'approved' | 'rejected', when = '2024-05-01T09:30:00-04:00') => ({
  decision,
  who: practitioner(RIVER_PCP),
  when,
  method: 'api' as const,
  actingPartner: 'river-health',
  ...(decision === 'rejected' ? { reason: 'Add the housing goal' } : {}),
});
const byAco = (decision: 'approved' | 'rejected', when = '2024-05-01T10:00:00-04:00') => ({
  decision,
  who: practitioner(ACO_PCP),
  when,
  method: 'file' as const,
  actingPartner: 'acme-aco',
  ...(decision === 'rejected' ? { reason: 'Missing goals' } : {}),
});
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { code?: string }) => e.code ?? String(e),
  );

describe('a care plan with two possible signers (the ACO and the PCP’s organization)', () => {
  const open: Harness[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((o) => o.close()));
  });

  async function twoSigners(partners: Record<string, TestPartner> = RIVER): Promise<{ h: Harness; planId: string }> {
    const h = await harness({ partners, pcpHistory: true });
    open.push(h);
    h.roster.add({
      memberId: 'M1',
      identifiers: [{ system: MEDICAID, value: 'M1' }],
      cp: ['bay-cp'],
      aco: ['acme-aco'],
      pcp: [{ npi: RIVER_PCP }],
    });
    const { record } = await h.service.submitCarePlan('bay-cp', cpPlan('M1', { status: 'draft' }));
    expect(record).toMatchObject({ acoPartner: 'acme-aco', pcpPartner: 'river-health' });
    h.deliveries.splice(0); // the submission's deliveries; these tests look at the sign-off's
    return { h, planId: record.id };
  }

  it('the PCP’s organization approves: the CP and the ACO both receive the signed plan and the Provenance', async () => {
    const { h, planId } = await twoSigners();
    const r = await h.service.recordSignoff(planId, byRiver('approved'));
    expect(r.outcome).toBe('recorded');
    // The signer is not sent its own decision; the CP and the other signer are.
    expect(h.deliveries.map((d) => d.destination).sort()).toEqual(['aco-hook', 'cp-hook']);
    for (const d of h.deliveries) {
      expect(d).toMatchObject({ messageId: r.messageId, patientKey: `careplan:${planId}` });
      const bundle = payloadOf(d);
      assertValidFhir(bundle);
      const [plan, prov] = bundle.entry!.map((e) => e.resource!) as [CarePlan, Provenance];
      assertValidFhir(plan);
      assertValidFhir(prov);
      expect(plan).toEqual(r.record.resource);
      expect(signoffStatusOf(plan)).toBe('approved');
      expect(prov).toEqual(r.provenance);
      expect(prov.agent[0]?.onBehalfOf?.identifier?.value).toBe('river-health');
    }
    // Off both signers' due lists.
    expect(await h.service.dueAndOverdue('acme-aco')).toEqual([]);
    expect(await h.service.dueAndOverdue('river-health')).toEqual([]);
  });

  it('the ACO rejects by file: the CP and the PCP’s organization both receive the rejection', async () => {
    const { h, planId } = await twoSigners();
    const r = await h.service.recordSignoff(planId, byAco('rejected'));
    expect(h.deliveries.map((d) => d.destination).sort()).toEqual(['cp-hook', 'pcp-hook']);
    const toPcp = payloadOf(h.deliveries.find((d) => d.destination === 'pcp-hook')!);
    assertValidFhir(toPcp);
    const [plan, prov] = toPcp.entry!.map((e) => e.resource!) as [CarePlan, Provenance];
    expect(signoffStatusOf(plan)).toBe('rejected');
    expect(plan.note?.at(-1)?.text).toBe('Sign-off rejected: Missing goals');
    expect(prov.id).toBe(r.provenance.id);
    expect(prov.agent[0]?.onBehalfOf?.identifier?.value).toBe('acme-aco');
  });

  it('an sftp destination of the other signer gets the Bundle as a file', async () => {
    const { h, planId } = await twoSigners({
      ...RIVER,
      'river-health': { ...RIVER['river-health']!, destinations: { careplan: 'pcp-sftp' } },
    });
    const r = await h.service.recordSignoff(planId, byAco('approved'));
    const file = JSON.parse(h.deliveries.find((d) => d.destination === 'pcp-sftp')!.payload!) as { fileName: string; content: string };
    expect(file.fileName).toMatch(/^careplan-signoff-[0-9a-f-]+\.json$/);
    const bundle = JSON.parse(file.content) as Bundle;
    assertValidFhir(bundle);
    expect(bundle.entry?.[1]?.resource).toEqual(r.provenance);
  });

  it('one delivery per destination: an ACO sharing the signer’s destination still gets it once', async () => {
    const { h, planId } = await twoSigners({
      ...RIVER,
      'river-health': { ...RIVER['river-health']!, destinations: { careplan: 'aco-hook' } },
    });
    await h.service.recordSignoff(planId, byRiver('approved'));
    expect(h.deliveries.map((d) => d.destination).sort()).toEqual(['aco-hook', 'cp-hook']);
  });

  it('the deliveries come from the stored message alone (a message a crash left unrouted is routed the same way)', async () => {
    const { h, planId } = await twoSigners();
    h.failDispatch = true;
    const r = await h.service.recordSignoff(planId, byRiver('approved'));
    expect(h.deliveries).toEqual([]);
    const stored = (await h.messages.getMessageRaw(r.messageId))!;
    expect(stored.status).toBe('received');
    const later = await h.service.deliveriesFor(stored.sourceName, JSON.parse(stored.raw.toString('utf8')));
    expect(stored.sourceName).toBe(SIGNOFF_SOURCE);
    expect(later!.map((d) => d.destination).sort()).toEqual(['aco-hook', 'cp-hook']);
  });

  it('after an approval, a second sign-off by either signer is a conflict that says who already signed', async () => {
    const { h, planId } = await twoSigners();
    await h.service.recordSignoff(planId, byRiver('approved'));
    const delivered = h.deliveries.length;
    for (const second of [
      byAco('approved'),
      byAco('rejected'),
      byRiver('rejected', '2024-05-01T09:45:00-04:00'),
      { ...byAco('approved'), actingPartner: undefined },
    ]) {
      const err = await h.service.recordSignoff(planId, second).then(
        () => undefined,
        (e: { code: string; message: string }) => e,
      );
      expect(err).toMatchObject({ code: 'conflict' });
      expect(err!.message).toBe(
        'the care plan is already approved (by river-health at 2024-05-01T09:30:00-04:00); a new version must be submitted before it is signed off again',
      );
    }
    // The same decision resent (a retried call) is still the one decision, not a conflict.
    expect((await h.service.recordSignoff(planId, byRiver('approved'))).outcome).toBe('duplicate');
    const detail = (await h.service.get(planId))!;
    expect(detail.signoffs).toHaveLength(1);
    expect(detail.record).toMatchObject({ signoff: 'approved', version: 2 });
    expect(h.deliveries).toHaveLength(delivered);
  });

  it('after a rejection the other signer cannot approve the same version; once the CP revises it, it can', async () => {
    const { h, planId } = await twoSigners();
    await h.service.recordSignoff(planId, byRiver('rejected'));
    await expect(h.service.recordSignoff(planId, byAco('approved'))).rejects.toMatchObject({
      code: 'conflict',
      message:
        'the care plan is already rejected (by river-health at 2024-05-01T09:30:00-04:00); a new version must be submitted before it is signed off again',
    });
    h.clock.now = new Date('2024-05-02T14:00:00Z');
    const revised = await h.service.submitCarePlan('bay-cp', cpPlan('M1', { status: 'draft', title: 'With the housing goal' }));
    expect(revised.record).toMatchObject({ signoff: 'pending', version: 3 });
    const approved = await h.service.recordSignoff(planId, { ...byAco('approved', '2024-05-02T09:00:00-04:00'), version: 3 });
    expect(approved.record).toMatchObject({ signoff: 'approved', status: 'active' });
    expect((await h.service.get(planId))!.signoffs.map((s) => [s.decision, s.planVersion])).toEqual([
      ['rejected', 1],
      ['approved', 3],
    ]);
  });

  it('a plan with one signer is also signed once', async () => {
    const h = await harness();
    open.push(h);
    const { record } = await h.service.submitCarePlan('bay-cp', cpPlan('M1', { status: 'draft' }));
    await h.service.recordSignoff(record.id, byAco('rejected'));
    expect(await code(h.service.recordSignoff(record.id, byAco('approved', '2024-05-01T10:05:00-04:00')))).toBe('conflict');
  });

  it('both sign at the same moment: one decision is recorded, the other is a conflict', async () => {
    const { h, planId } = await twoSigners();
    const results = await Promise.allSettled([
      h.service.recordSignoff(planId, byRiver('approved')),
      h.service.recordSignoff(planId, byAco('rejected')),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
    expect(failed.reason).toMatchObject({ code: 'conflict' });
    const detail = (await h.service.get(planId))!;
    expect(detail.signoffs).toHaveLength(1);
    // Exactly one notification went out: to the CP and to whichever signer did not win.
    const winner = detail.signoffs[0]!.decision === 'approved' ? 'river-health' : 'acme-aco';
    expect(h.deliveries.map((d) => d.destination).sort()).toEqual(
      winner === 'river-health' ? ['aco-hook', 'cp-hook'] : ['cp-hook', 'pcp-hook'],
    );
  });
});
