import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { carePlanFileConsumer, importCarePlanFile, type CarePlanFileDeps } from '../../../../src/careplan/file-import.js';
import { resolveCarePlanSettings } from '../../../../src/careplan/settings.js';
import { silentLog } from '../../../../src/observability/log.js';
import type { SftpFileHandoff } from '../../../../src/sources/sftp/types.js';
import { harness, PARTNERS, type Harness } from './harness.js';

const text = (s: string) => Readable.from([Buffer.from(s, 'utf8')]);

describe('care-plan CSV files through the service', () => {
  let h: Harness;
  let deps: CarePlanFileDeps;
  let dir: string;
  beforeEach(async () => {
    h = await harness();
    deps = {
      service: h.service,
      store: h.store,
      settings: resolveCarePlanSettings(),
      partnerName: (id) => PARTNERS[id]?.name,
      log: silentLog,
    };
    dir = mkdtempSync(join(tmpdir(), 'cb-cpfile-'));
  });
  afterEach(async () => {
    rmSync(dir, { recursive: true, force: true });
    await h.close();
  });

  it('a CP’s plans are submitted row by row; bad rows are reported with their line; a re-drop is a duplicate', async () => {
    const csv =
      'member_id,plan_id,created,goals\nM1,P-1,2024-04-30,Stable housing\nM2,P-2,2024-04-30,\nNOPE,P-3,2024-04-30,\nM1,,2024-04-30,\n';
    const meta = { partnerId: 'bay-cp', fileName: 'plans-0501.csv', sha256: 'a'.repeat(64) };
    const r = await importCarePlanFile(deps, text(csv), meta);
    expect(r).toEqual({
      status: 'applied',
      fileKind: 'careplans',
      rows: 4,
      applied: 1,
      errors: 3,
      issues: [
        { line: 3, reason: 'the member has no ACO attributed today: nobody to sign the care plan' },
        { line: 4, reason: 'the member is not on the roster or not attributed to bay-cp today' },
        { line: 5, reason: 'plan_id: required' },
      ],
    });
    const plans = await h.service.list({ partner: 'bay-cp', kind: 'cp-plan' });
    expect(plans.items.map((p) => [p.memberId, p.signoff, p.resource.identifier?.[0]?.value])).toEqual([['M1', 'pending', 'P-1']]);
    expect((await h.messages.getMessage(h.deliveries[0]!.messageId))!.sourceKind).toBe('sftp');
    const again = await importCarePlanFile(deps, text(csv), meta);
    expect(again).toMatchObject({ status: 'duplicate', rows: 4, applied: 1, errors: 3 });
  });

  it('an ACO’s returned sign-offs are recorded (only for its own plans), with the PCP by NPI', async () => {
    const planId = (
      await h.service.submitCarePlan('bay-cp', {
        resourceType: 'CarePlan',
        status: 'draft',
        intent: 'plan',
        subject: { identifier: { system: 'urn:oid:2.16.840.1.113883.4.3.25', value: 'M1' } },
      })
    ).record.id;
    const csv = `plan_id,decision,signed_by_npi,signed_at,reason\n${planId},approved,1234567893,2024-05-01 09:15,\nnot-a-plan,approved,1234567893,2024-05-01 09:15,\n`;
    const r = await importCarePlanFile(deps, text(csv), { partnerId: 'acme-aco', fileName: 'signed.csv', sha256: 'b'.repeat(64) });
    expect(r).toMatchObject({ fileKind: 'signoffs', rows: 2, applied: 1, errors: 1, issues: [{ line: 3, reason: 'care plan not found' }] });
    const detail = (await h.service.get(planId))!;
    expect(detail.record).toMatchObject({ signoff: 'approved', status: 'active' });
    expect(detail.signoffs[0]).toMatchObject({ method: 'file', decision: 'approved' });
    expect(detail.signoffs[0]!.provenance.agent[0]!.who).toEqual({
      type: 'Practitioner',
      identifier: { system: 'http://hl7.org/fhir/sid/us-npi', value: '1234567893' },
    });
    expect(detail.signoffs[0]!.provenance.occurredDateTime).toBe('2024-05-01T09:15:00-04:00');
    // The same decisions from another partner's drop are not its to make.
    const other = await importCarePlanFile(deps, text(csv.replace('approved', 'rejected')), {
      partnerId: 'quiet-aco',
      fileName: 'x.csv',
      sha256: 'c'.repeat(64),
    });
    expect(other.issues[0]).toEqual({ line: 2, reason: 'care plan not found' });
  });

  it('as the SFTP consumer: applied, duplicate, and failed for a file it cannot read', async () => {
    const consume = carePlanFileConsumer(deps);
    const handoff = (name: string, content: string, sha: string): SftpFileHandoff => {
      const localPath = join(dir, name);
      writeFileSync(localPath, content);
      return {
        localPath,
        remoteName: name,
        size: content.length,
        sha256: sha,
        partner: 'bay-cp',
        sourceId: 'bay-plans',
        format: 'careplan-csv',
        remoteModifiedAt: new Date(),
      };
    };
    const good = handoff('p.csv', 'member_id,plan_id,created\nM1,P-9,2024-04-30\n', 'd'.repeat(64));
    expect(await consume(good)).toBe('applied');
    expect(await consume(good)).toBe('duplicate');
    expect(await consume(handoff('q.csv', 'who,what\n1,2\n', 'e'.repeat(64)))).toBe('failed');
  });
});
