/**
 * Roster assignment notices survive a crash at every step between the member file and the
 * notices: the process "dies" (every store and roster call throws) right after one chosen call,
 * then a new process over the same database heals it, through the recovery sweep or the same file
 * taken again. Each newly assigned member ends with exactly one delivery per partner destination,
 * and every diff event ends flagged notified. Real SQLite (and Postgres when installed).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import type { GatewayConfig } from '../../../src/config/types.js';
import type { InboundInput } from '../../../src/store/types.js';
import { writeTestConfig } from '../../helpers/gateway.js';
import { rosterFile } from './roster-file.js';
import { Crash, crashSuite, SimulatedCrash, startProcess, type Process } from './crash-harness.js';

/** One delivery per newly assigned member and receiving CP (the ACO declares no members destination). */
const EXPECTED = ['cp-members:MA100000001', 'cp-members:MA100000003', 'other-members:MA100000002'];

const { backends, open, dirs } = crashSuite();

function testConfig(storeUrl: string | undefined): { config: GatewayConfig; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cb-notice-'));
  dirs.push(dir);
  const unused = 'http://127.0.0.1:9/never-called';
  const { file } = writeTestConfig({
    webhookUrl: unused,
    webhookSecret: 'notice-secret-0123456789',
    dataDir: dir,
    extra: {
      ...(storeUrl ? { store: { url: storeUrl } } : {}),
      partners: {
        'example-aco': { name: 'Example ACO', kind: 'aco', profile: 'example-aco' },
        'example-cp': { name: 'Example CP', kind: 'cp', destinations: { members: 'cp-members' } },
        'other-cp': { name: 'Other CP', kind: 'cp', destinations: { members: 'other-members' } },
      },
      destinations: [
        { id: 'cp-members', type: 'webhook', url: unused, secret: 'notice-secret-0123456789', partner: 'example-cp' },
        { id: 'other-members', type: 'webhook', url: unused, secret: 'notice-secret-0123456789', partner: 'other-cp' },
      ],
      routes: [],
    },
  });
  return { config: loadConfig(file), dir };
}

/** The end state every scenario must reach: one notice message, each notice once, every event flagged. */
async function expectNoticesOnce(p: Process): Promise<void> {
  const messages = (await p.store.searchMessages({ messageType: 'ROSTER' })).items;
  expect(messages).toHaveLength(1);
  expect(messages[0].status).toBe('processed');
  const detail = (await p.store.getMessage(messages[0].id))!;
  expect(detail.deliveries.map((d) => `${d.destination}:${d.patientKey}`).sort()).toEqual(EXPECTED);
  for (const d of detail.deliveries) {
    const patient = JSON.parse(d.payload!) as { resourceType: string; identifier: { value: string }[] };
    expect(patient.resourceType).toBe('Patient');
    expect(patient.identifier.map((i) => i.value)).toContain(d.patientKey);
  }
  // Each delivery reached the queue (the queue dedupes a repeat by job id); nothing else did.
  expect(new Set(p.queued)).toEqual(new Set(detail.deliveries.map((d) => d.id)));
  expect((await p.roster.listDiffEvents({ notified: false })).items).toEqual([]);
  expect((await p.roster.listDiffEvents({})).items.map((e) => e.memberId).sort()).toEqual(['MA100000001', 'MA100000002', 'MA100000003']);
}

const isNoticeAccept = (method: string, args: unknown[]) =>
  method === 'acceptInbound' && (args[0] as InboundInput[])[0]?.sourceName === 'roster';

for (const backend of backends) {
  describe.skipIf(backend.skip)(`roster assignment notices across a crash (${backend.name})`, () => {
    async function setup(crash?: Crash) {
      const { config, dir } = testConfig(await backend.url());
      const first = await startProcess(config, crash);
      open.push(first);
      const restart = async () => {
        const p = await startProcess(config);
        open.push(p);
        return p;
      };
      return { config, file: rosterFile(dir), first, restart };
    }

    it('without a crash: applied, notified once; the sweep and the same file again change nothing', async () => {
      const { file, first } = await setup();
      expect(await first.intake(file)).toBe('applied');
      await expectNoticesOnce(first);
      expect((await first.recovery.run()).owned).toBe(0);
      expect(await first.intake(file)).toBe('duplicate');
      await expectNoticesOnce(first);
    });

    it('crash after the notice message was stored, before its commit: the message is completed by its owner, not the route table', async () => {
      const { file, first, restart } = await setup(new Crash(isNoticeAccept));
      await expect(first.intake(file)).rejects.toThrow(SimulatedCrash);
      await first.close();

      const second = await restart();
      const [left] = (await second.store.searchMessages({ messageType: 'ROSTER' })).items;
      expect(left.status).toBe('received');
      expect((await second.roster.listDiffEvents({ notified: false })).items).toHaveLength(3);
      // What the recovery sweep does for a `received` message.
      await second.pipeline.reprocess(left.id);
      await expectNoticesOnce(second);
      expect(await second.intake(file)).toBe('duplicate');
      expect((await second.recovery.run()).owned).toBe(0);
      await expectNoticesOnce(second);
    });

    it('crash before the commit, then the sweep and the same file at once: still one delivery each', async () => {
      const { file, first, restart } = await setup(new Crash(isNoticeAccept));
      await expect(first.intake(file)).rejects.toThrow(SimulatedCrash);
      await first.close();

      const second = await restart();
      const [, outcome] = await Promise.all([second.recovery.run(), second.intake(file)]);
      expect(outcome).toBe('duplicate');
      await expectNoticesOnce(second);
    });

    it('crash after the import, before any notice: the same file taken again sends them', async () => {
      const { file, first, restart } = await setup(new Crash((m) => m === 'importMemberFile'));
      await expect(first.intake(file)).rejects.toThrow(SimulatedCrash);
      await first.close();

      const second = await restart();
      expect((await second.store.searchMessages({ messageType: 'ROSTER' })).items).toEqual([]);
      expect(await second.intake(file)).toBe('duplicate');
      await expectNoticesOnce(second);
    });

    it('crash after the import, before any notice, and the file is gone: the recovery sweep sends them', async () => {
      const { first, file, restart } = await setup(new Crash((m) => m === 'importMemberFile'));
      await expect(first.intake(file)).rejects.toThrow(SimulatedCrash);
      await first.close();

      const second = await restart();
      // The periodic sweep leaves imports that just finished to the intake still notifying them.
      expect((await second.recovery.run(60_000)).owned).toBe(0);
      expect((await second.recovery.run()).owned).toBe(1);
      await expectNoticesOnce(second);
      expect((await second.recovery.run()).owned).toBe(0);
    });

    it('crash after the commit, before the events were flagged: nothing is sent twice', async () => {
      const { file, first, restart } = await setup(new Crash((m) => m === 'completeProcessingBatch'));
      await expect(first.intake(file)).rejects.toThrow(SimulatedCrash);
      const committed = [...first.queued];
      expect(committed).toHaveLength(3);
      await first.close();

      const second = await restart();
      expect((await second.roster.listDiffEvents({ notified: false })).items).toHaveLength(3);
      expect(await second.intake(file)).toBe('duplicate');
      expect((await second.recovery.run()).owned).toBe(0);
      second.queued.push(...committed);
      await expectNoticesOnce(second);
    });

    it('an operator replay of the notice message sends every notice of its import again and flags nothing new', async () => {
      const { file, first } = await setup();
      expect(await first.intake(file)).toBe('applied');
      const [notice] = (await first.store.searchMessages({ messageType: 'ROSTER' })).items;
      // What POST /api/messages/:id/replay does (IngestPort.replay).
      const replay = await first.store.createReplay(notice.id);
      await first.pipeline.reprocess(replay.id);
      const detail = (await first.store.getMessage(replay.id))!;
      expect(detail.status).toBe('processed');
      expect(detail.replayOf).toBe(notice.id);
      expect(detail.deliveries.map((d) => `${d.destination}:${d.patientKey}`).sort()).toEqual(EXPECTED);
      const original = (await first.store.getMessage(notice.id))!;
      expect(detail.deliveries.map((d) => d.payload).sort()).toEqual(original.deliveries.map((d) => d.payload).sort());
      expect(first.queued).toEqual(expect.arrayContaining(detail.deliveries.map((d) => d.id)));
      expect(first.queued).toHaveLength(EXPECTED.length * 2);
      expect((await first.roster.listDiffEvents({ notified: false })).items).toEqual([]);
    });

    it('a source of another kind that happens to be named "roster" is not taken for the notices', async () => {
      const { first } = await setup();
      const raw = Buffer.from(JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'rosterImport', valueString: 'x' }] }));
      const [stored] = await first.store.acceptInbound([{ sourceKind: 'http', sourceName: 'roster', dedupeKey: 'http-roster-1', raw }]);
      await first.pipeline.reprocess(stored.id);
      const detail = (await first.store.getMessage(stored.id))!;
      expect(detail.status).toBe('processed');
      expect(detail.deliveries).toEqual([]);
    });
  });
}
