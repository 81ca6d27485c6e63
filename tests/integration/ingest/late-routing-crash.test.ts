/**
 * ADT events that matched no roster member, resolved by a later member file, are routed late to
 * the member's attributed CP exactly once, across a crash at any step between the import and that
 * routing: the process "dies" (every store and roster call throws) right after one chosen call,
 * then a new process over the same database heals it through the same file taken again or the
 * recovery sweep. Fixed routes had the original: the late routing never reaches them again.
 * Real SQLite (and Postgres when installed).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import type { GatewayConfig } from '../../../src/config/types.js';
import { lateMessage } from '../../../src/ingest/late-routing.js';
import type { UnmatchedInput } from '../../../src/roster/types.js';
import type { InboundInput } from '../../../src/store/types.js';
import { writeTestConfig } from '../../helpers/gateway.js';
import { rosterFile } from './roster-file.js';
import { Crash, crashSuite, SimulatedCrash, startProcess, type Process } from './crash-harness.js';

const MEMBER_ID_SYSTEM = 'https://www.mass.gov/masshealth/member-id';
const A01 = readFileSync(join(import.meta.dirname, '../../../fixtures/hl7v2/adt/A01.hl7'), 'latin1');
/** The fixture admission for another patient (Medicaid id in PID-3, own control id). */
const admission = (memberId: string) =>
  A01.replace('MRN1001^^^MGH^MR~MA123456789^^^MAMH^MA', `MRN${memberId.slice(-4)}^^^MGH^MR~${memberId}^^^MAMH^MA`).replace(
    'MSG-A01-0001',
    `MSG-${memberId}`,
  );

/** Member → the ADT destination of its attributed CP. MA199999999 never gets onto the roster. */
const LATE: Record<string, string> = { MA100000001: 'cp-adt', MA100000002: 'other-adt', MA100000003: 'cp-adt' };
const NEVER = 'MA199999999';
const PATIENTS = [...Object.keys(LATE), NEVER];

const { backends, open, dirs } = crashSuite();

function testConfig(storeUrl: string | undefined): { config: GatewayConfig; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cb-late-'));
  dirs.push(dir);
  const unused = 'http://127.0.0.1:9/never-called';
  const hook = (id: string, partner?: string) => ({
    id,
    type: 'webhook',
    url: unused,
    secret: 'late-secret-0123456789',
    ...(partner ? { partner } : {}),
  });
  const { file } = writeTestConfig({
    webhookUrl: unused,
    webhookSecret: 'late-secret-0123456789',
    dataDir: dir,
    extra: {
      ...(storeUrl ? { store: { url: storeUrl } } : {}),
      partners: {
        'example-aco': { name: 'Example ACO', kind: 'aco', profile: 'example-aco' },
        'example-cp': { name: 'Example CP', kind: 'cp', destinations: { adt: 'cp-adt' } },
        'other-cp': { name: 'Other CP', kind: 'cp', destinations: { adt: 'other-adt' } },
      },
      destinations: [hook('hie'), hook('cp-adt', 'example-cp'), hook('other-adt', 'other-cp')],
      routes: [
        // Any source: a late routing taken for a fresh event would reach it a second time.
        { id: 'to-hie', match: { events: ['A01'] }, to: ['hie'] },
        // Only the MLLP source: the late routing must be matched as the original's source.
        { id: 'to-cp', match: { sources: ['mllp-in'], events: ['A01'] }, toAttributed: 'cp' },
      ],
      roster: { identifierPrecedence: [MEMBER_ID_SYSTEM] },
    },
  });
  return { config: loadConfig(file), dir };
}

/** The events as the inbox and pipeline handle them: stored, then routed (the hie only: nobody matches yet). */
async function receiveAdmissions(p: Process): Promise<void> {
  for (const id of PATIENTS) {
    const input: InboundInput = {
      sourceKind: 'mllp',
      sourceName: 'mllp-in',
      partnerId: 'example-aco',
      controlId: `MSG-${id}`,
      dedupeKey: `adt|${id}`,
      raw: Buffer.from(admission(id), 'latin1'),
    };
    const [stored] = await p.store.acceptInbound([input]);
    await p.pipeline.reprocess(stored.id);
  }
  expect((await p.roster.listUnmatched({ resolved: false })).items).toHaveLength(PATIENTS.length);
}

/** Destinations of each stored message for a patient's event: the original first, then any late routing. */
async function routingOf(p: Process, memberId: string): Promise<Array<{ source: string; status: string; destinations: string[] }>> {
  const messages = (await p.store.searchMessages({ controlId: `MSG-${memberId}` })).items.reverse(); // oldest first
  const out = [];
  for (const m of messages) {
    const detail = (await p.store.getMessage(m.id))!;
    out.push({ source: `${m.sourceKind}|${m.sourceName}`, status: m.status, destinations: detail.deliveries.map((d) => d.destination) });
  }
  return out;
}

/** The end state every scenario must reach: each resolved event routed once, to its CP only; the queue got every delivery. */
async function expectRoutedOnce(p: Process, queued: readonly string[]): Promise<void> {
  for (const [memberId, destination] of Object.entries(LATE)) {
    expect(await routingOf(p, memberId)).toEqual([
      { source: 'mllp|mllp-in', status: 'processed', destinations: ['hie'] },
      { source: 'replay|roster', status: 'processed', destinations: [destination] },
    ]);
  }
  expect(await routingOf(p, NEVER)).toEqual([{ source: 'mllp|mllp-in', status: 'processed', destinations: ['hie'] }]);
  const unmatched = await expectNothingLeft(p, queued);
  // The one never matched stays open.
  expect(unmatched.filter((u) => !u.resolvedAt).map((u) => u.messageId)).toHaveLength(1);
}

/**
 * What both end states share: one delivery per admission plus one per late routing, each handed
 * to the queue (which dedupes a repeat by job id) and nothing else; the roster has nothing left to
 * route. Returns the unmatched rows for further checks.
 */
async function expectNothingLeft(p: Process, queued: readonly string[]) {
  const all = await p.store.listDeliveries({ limit: 1000 });
  expect(all.items).toHaveLength(PATIENTS.length + Object.keys(LATE).length);
  expect(new Set(queued)).toEqual(new Set(all.items.map((d) => d.id)));
  expect(await p.roster.unroutedResolved()).toEqual([]);
  const unmatched = (await p.roster.listUnmatched({})).items;
  expect(
    unmatched
      .filter((u) => u.routedAt)
      .map((u) => u.memberId)
      .sort(),
  ).toEqual(Object.keys(LATE));
  return unmatched;
}

/**
 * The weaker end state of scenarios where an original was still `received` when the import resolved
 * it: whichever of its own processing and its late routing reached the CP, together the event's
 * stored messages reached each destination exactly once, and nothing is left to do.
 */
async function expectSentOnce(p: Process, queued: readonly string[]): Promise<void> {
  for (const memberId of PATIENTS) {
    const routing = await routingOf(p, memberId);
    // A stored message that sent nothing (its late routing found every destination served) is filtered.
    expect(routing.map((r) => r.status)).toEqual(routing.map((r) => (r.destinations.length ? 'processed' : 'filtered')));
    const want = LATE[memberId] ? ['hie', LATE[memberId]] : ['hie'];
    expect({ memberId, sent: routing.flatMap((r) => r.destinations).sort() }).toEqual({ memberId, sent: want.sort() });
  }
  await expectNothingLeft(p, queued);
}

/** The admissions stored (as the inbox does before its ACK), not processed yet; their ids in PATIENTS order. */
async function storeAdmissions(p: Process): Promise<string[]> {
  const inputs: InboundInput[] = PATIENTS.map((id) => ({
    sourceKind: 'mllp',
    sourceName: 'mllp-in',
    partnerId: 'example-aco',
    controlId: `MSG-${id}`,
    dedupeKey: `adt|${id}`,
    raw: Buffer.from(admission(id), 'latin1'),
  }));
  return (await p.store.acceptInbound(inputs)).map((r) => r.id);
}

async function processAll(p: Process, ids: readonly string[]): Promise<void> {
  for (const id of ids) await p.pipeline.reprocess(id);
}

/** The original (MLLP) message of a patient's event. */
async function originalOf(p: Process, memberId: string) {
  const [summary] = (await p.store.searchMessages({ controlId: `MSG-${memberId}` })).items.filter((m) => m.sourceKind === 'mllp');
  return (await p.store.getMessage(summary.id))!;
}

/** The member whose event is caught between its unmatched row and its processing commit. */
const MID = 'MA100000003';
const isUnmatchedOf = (memberId: string) => (method: string, args: unknown[]) =>
  method === 'recordUnmatched' && (args[0] as UnmatchedInput).identifiers.some((i) => i.value === memberId);

const isLateAccept = (method: string, args: unknown[]) =>
  method === 'acceptInbound' && (args[0] as InboundInput[])[0]?.dedupeKey.startsWith('roster-late|');

for (const backend of backends) {
  describe.skipIf(backend.skip)(`late routing of resolved unmatched events across a crash (${backend.name})`, () => {
    /** The first process receives the admissions, then its crash is armed for the member file. */
    async function setup(after?: (method: string, args: unknown[]) => boolean) {
      const { config, dir } = testConfig(await backend.url());
      // One queue for every process of a scenario: Redis outlives a crashed gateway.
      const queued: string[] = [];
      const crash = new Crash(after, false);
      const first = await startProcess(config, crash, queued);
      open.push(first);
      await receiveAdmissions(first);
      crash.armed = true;
      const restart = async () => {
        const p = await startProcess(config, new Crash(), queued);
        open.push(p);
        return p;
      };
      return { file: rosterFile(dir), first, restart, queued };
    }

    it('without a crash: routed once to the attributed CP; the sweep and the same file again change nothing', async () => {
      const { file, first, queued } = await setup();
      expect(await first.intake(file)).toBe('applied');
      await expectRoutedOnce(first, queued);
      expect((await first.recovery.run()).owned).toBe(0);
      expect(await first.intake(file)).toBe('duplicate');
      await expectRoutedOnce(first, queued);
    });

    it('an operator replay of an original is routed as its source (rules naming the source match it)', async () => {
      const { file, first } = await setup();
      expect(await first.intake(file)).toBe('applied');
      // What POST /api/messages/:id/replay does (IngestPort.replay): now attributed, so the CP rule matches too.
      const replay = await first.store.createReplay((await originalOf(first, 'MA100000001')).id);
      await first.pipeline.reprocess(replay.id);
      const detail = (await first.store.getMessage(replay.id))!;
      expect(detail.status).toBe('processed');
      expect(detail.deliveries.map((d) => d.destination).sort()).toEqual(['cp-adt', 'hie']);
      // A replay of the replay: the same origin.
      const again = await first.store.createReplay(replay.id);
      await first.pipeline.reprocess(again.id);
      expect((await first.store.getMessage(again.id))!.deliveries.map((d) => d.destination).sort()).toEqual(['cp-adt', 'hie']);
    });

    it('an operator replay of a late routing sends it to the attributed CP again, and nowhere else', async () => {
      const { file, first } = await setup();
      expect(await first.intake(file)).toBe('applied');
      const late = (await routingOf(first, 'MA100000002'))[1];
      expect(late.source).toBe('replay|roster');
      const [lateSummary] = (await first.store.searchMessages({ controlId: 'MSG-MA100000002' })).items.filter(
        (m) => m.sourceName === 'roster',
      );
      const replay = await first.store.createReplay(lateSummary.id);
      await first.pipeline.reprocess(replay.id);
      const detail = (await first.store.getMessage(replay.id))!;
      expect(detail.status).toBe('processed');
      expect(detail.deliveries.map((d) => d.destination)).toEqual(['other-adt']);
    });

    it('crash right after the import returned: the same file taken again routes them', async () => {
      const { file, first, restart, queued } = await setup((m) => m === 'importMemberFile');
      await expect(first.intake(file)).rejects.toThrow(SimulatedCrash);
      await first.close();

      const second = await restart();
      expect((await second.roster.unroutedResolved()).map((e) => e.memberId).sort()).toEqual(Object.keys(LATE));
      expect(await second.intake(file)).toBe('duplicate');
      await expectRoutedOnce(second, queued);
      expect((await second.recovery.run()).owned).toBe(0);
    });

    it('crash right after the import returned, and the file is gone: the recovery sweep routes them', async () => {
      const { file, first, restart, queued } = await setup((m) => m === 'importMemberFile');
      await expect(first.intake(file)).rejects.toThrow(SimulatedCrash);
      await first.close();

      const second = await restart();
      // The periodic sweep leaves events resolved just now to the intake routing them.
      expect((await second.recovery.run(60_000)).owned).toBe(0);
      // Three events routed, plus the import whose (here empty) assignment notices the crash cut off.
      expect((await second.recovery.run()).owned).toBe(4);
      await expectRoutedOnce(second, queued);
      expect((await second.recovery.run()).owned).toBe(0);
      expect(await second.intake(file)).toBe('duplicate');
      await expectRoutedOnce(second, queued);
    });

    it('crash after the first of several routings was committed: the others follow, the first is not sent again', async () => {
      const { file, first, restart, queued } = await setup((m) => m === 'completeProcessingBatch');
      await expect(first.intake(file)).rejects.toThrow(SimulatedCrash);
      expect(queued).toHaveLength(PATIENTS.length + 1); // the originals' hie deliveries + the one late routing
      await first.close();

      const second = await restart();
      // Committed but not yet flagged: still pending in the roster.
      expect(await second.roster.unroutedResolved()).toHaveLength(3);
      expect((await second.recovery.run()).owned).toBe(3);
      await expectRoutedOnce(second, queued);
    });

    it('crash after a routing message was stored, before its commit: its owner finishes it, not the route table', async () => {
      let accepts = 0;
      const { file, first, restart, queued } = await setup((m, args) => isLateAccept(m, args) && ++accepts === 2);
      await expect(first.intake(file)).rejects.toThrow(SimulatedCrash);
      await first.close();

      const second = await restart();
      const left = (await second.store.searchMessages({ status: 'received' })).items;
      expect(left).toHaveLength(1);
      // What the recovery sweep does for a `received` message: attributed partner only, never the hie again.
      await second.pipeline.reprocess(left[0].id);
      const [delivery] = (await second.store.getMessage(left[0].id))!.deliveries;
      expect(['cp-adt', 'other-adt']).toContain(delivery.destination);
      expect(await second.intake(file)).toBe('duplicate');
      await expectRoutedOnce(second, queued);
    });

    it('crash before any routing, then the sweep and the same file at once: still routed once', async () => {
      const { file, first, restart, queued } = await setup((m) => m === 'importMemberFile');
      await expect(first.intake(file)).rejects.toThrow(SimulatedCrash);
      await first.close();

      const second = await restart();
      const [, outcome] = await Promise.all([second.recovery.run(), second.intake(file)]);
      expect(outcome).toBe('duplicate');
      await expectRoutedOnce(second, queued);
    });

    it('crash before any routing, then two restarted processes recover at once: still routed once', async () => {
      const { first, restart, queued, file } = await setup((m) => m === 'importMemberFile');
      await expect(first.intake(file)).rejects.toThrow(SimulatedCrash);
      await first.close();

      const [a, b] = [await restart(), await restart()];
      await Promise.all([a.recovery.run(), b.recovery.run(), b.intake(file)]);
      await expectRoutedOnce(a, queued);
    });

    // An original still `received` while the import resolves it: its processing recorded the
    // unmatched row, then the process died before its commit. The sweep's reprocessing of it now
    // finds the member; the late routing must not send it to the CP a second time.

    /** The first process stores every admission and dies right after MID's unmatched row is recorded. */
    async function crashMidOriginal() {
      const { config, dir } = testConfig(await backend.url());
      const queued: string[] = [];
      const first = await startProcess(config, new Crash(isUnmatchedOf(MID)), queued);
      open.push(first);
      const ids = await storeAdmissions(first);
      await expect(processAll(first, ids)).rejects.toThrow(SimulatedCrash);
      await first.close();
      const restart = async (crash = new Crash()) => {
        const p = await startProcess(config, crash, queued);
        open.push(p);
        return p;
      };
      const second = await restart();
      expect((await originalOf(second, MID)).status).toBe('received');
      expect((await second.roster.listUnmatched({})).items.map((u) => u.messageId)).toContain((await originalOf(second, MID)).id);
      return { file: rosterFile(dir), second, restart, queued };
    }

    it('an original cut off after its unmatched row, the member file before the sweep: the CP gets it once', async () => {
      const { file, second, queued } = await crashMidOriginal();
      expect(await second.intake(file)).toBe('applied');
      // Its late routing waits for the original (still pending in the roster, no routing message yet).
      const original = await originalOf(second, MID);
      expect((await second.roster.unroutedResolved()).map((e) => e.messageId)).toEqual([original.id]);
      expect(await routingOf(second, MID)).toEqual([{ source: 'mllp|mllp-in', status: 'received', destinations: [] }]);
      // The sweep reprocesses the original (the member is known now: hie and CP); the next pass finds nothing left for the CP.
      await second.recovery.run();
      expect((await second.recovery.run()).owned).toBe(1);
      expect(await routingOf(second, MID)).toEqual([
        { source: 'mllp|mllp-in', status: 'processed', destinations: ['hie', 'cp-adt'] },
        { source: 'replay|roster', status: 'filtered', destinations: [] },
      ]);
      await expectSentOnce(second, queued);
      expect((await second.recovery.run()).owned).toBe(0);
      expect(await second.intake(file)).toBe('duplicate');
      await expectSentOnce(second, queued);
    });

    it('an original cut off after its unmatched row, then the sweep and the member file at once in two processes: once', async () => {
      const { file, second: a, restart, queued } = await crashMidOriginal();
      const b = await restart();
      const [, , outcome] = await Promise.all([a.recovery.run(), b.recovery.run(), b.intake(file)]);
      expect(outcome).toBe('applied');
      await Promise.all([a.recovery.run(), b.recovery.run()]);
      await Promise.all([a.recovery.run(), b.recovery.run()]);
      await expectSentOnce(a, queued);
    });

    it('mirror: a routing message stored while its original was still received; two sweeps finish both: once', async () => {
      const { file, second, restart, queued } = await crashMidOriginal();
      // The import resolves the events, then this process dies too: nothing routed yet.
      const importer = await restart(new Crash((m) => m === 'importMemberFile'));
      await expect(importer.intake(file)).rejects.toThrow(SimulatedCrash);
      await importer.close();
      await second.close();
      const [a, b] = [await restart(), await restart()];
      // As the previous release stored it (it did not wait for the original): both are `received` now.
      const original = await originalOf(a, MID);
      expect(original.status).toBe('received');
      const [late] = await a.store.acceptInbound([lateMessage(original)]);
      expect(late.status).toBe('received');
      await Promise.all([a.recovery.run(), b.recovery.run()]);
      await Promise.all([a.recovery.run(), b.recovery.run()]);
      await expectSentOnce(a, queued);
    });

    it('no crash: the import and its late routing run while an original is between its unmatched row and its commit: the CP still gets it, once', async () => {
      const { config, dir } = testConfig(await backend.url());
      const queued: string[] = [];
      const hooks = new Crash();
      const p = await startProcess(config, hooks, queued);
      open.push(p);
      const file = rosterFile(dir);
      let imported: Promise<string> | undefined;
      hooks.onReturn = async (method, args) => {
        if (imported || !isUnmatchedOf(MID)(method, args)) return;
        imported = p.intake(file);
        await imported;
      };
      await processAll(p, await storeAdmissions(p));
      expect(await imported).toBe('applied');
      // Its own processing looked the patient up before the import: it went to the hie only.
      expect((await originalOf(p, MID)).deliveries.map((d) => d.destination)).toEqual(['hie']);
      // Its late routing waited for that commit; the sweep sends it (no earlier than its minimum age in production).
      expect(await p.roster.unroutedResolved()).toHaveLength(1);
      expect((await p.recovery.run(60_000)).owned).toBe(0);
      expect((await p.recovery.run()).owned).toBe(1);
      expect((await routingOf(p, MID)).map((r) => r.destinations)).toEqual([['hie'], ['cp-adt']]);
      await expectSentOnce(p, queued);
    });
  });
}
