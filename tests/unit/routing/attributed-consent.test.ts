import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeliveryJob } from '../../../src/delivery/types.js';
import { Hl7Message } from '../../../src/hl7v2/index.js';
import { Pipeline } from '../../../src/ingest/pipeline.js';
import { loadProfile } from '../../../src/mapping/profile-loader.js';
import { silentLog } from '../../../src/observability/log.js';
import type { RosterLookup } from '../../../src/roster/types.js';
import { Router } from '../../../src/routing/router.js';
import { sensitivityPolicy } from '../../../src/routing/sensitivity.js';
import { openStore } from '../../../src/store/index.js';
import type { MessageStore } from '../../../src/store/types.js';
import { errorsOf, validateWithBoth } from '../../helpers/validate-fhir.js';

const FIX = join(import.meta.dirname, '../../../fixtures/hl7v2/adt');
const profile = loadProfile();

/** A roster with one member (Medicaid id MA123456789) attributed to cp-a; consents set per test. */
function fakeRoster(consents: Set<string>, unmatched: unknown[]): RosterLookup {
  return {
    async resolve(p) {
      const hit = p.identifiers.some((i) => i.value === 'MA123456789');
      return hit
        ? {
            kind: 'matched',
            by: 'identifier',
            member: { memberId: 'M1', identifiers: [], attributions: [], consents: [], status: 'active' },
          }
        : { kind: 'unmatched' };
    },
    async attributedOn(memberId, date, role) {
      return memberId === 'M1' && role === 'cp' && date >= '2024-01-01' ? ['cp-a'] : [];
    },
    async hasConsent(memberId, partnerId, category) {
      return consents.has(`${memberId}|${partnerId}|${category}`);
    },
    async recordUnmatched(e) {
      unmatched.push(e);
    },
  };
}

describe('routing to the attributed CP with consent policy', () => {
  let store: MessageStore;
  let enqueued: DeliveryJob[];
  let consents: Set<string>;
  let unmatched: unknown[];
  let pipeline: Pipeline;

  beforeEach(async () => {
    store = await openStore('sqlite::memory:');
    enqueued = [];
    consents = new Set();
    unmatched = [];
    pipeline = new Pipeline({
      store,
      router: new Router([{ id: 'to-cp', match: { events: ['A01', 'A03'] }, toAttributed: 'cp' }]),
      destinationTypes: new Map([['cp-a-hook', 'webhook']]),
      partnerAdtDestination: (p) => (p === 'cp-a' ? 'cp-a-hook' : undefined),
      roster: fakeRoster(consents, unmatched),
      sensitivity: sensitivityPolicy({
        sensitiveFacilities: [{ code: 'BHH', category: 'behavioral-health' }],
        sensitiveServices: [{ code: 'SUD', category: 'substance-use' }],
      }),
      profileFor: () => profile,
      enqueue: async (job) => {
        enqueued.push(job);
        return true;
      },
      log: silentLog,
    });
  });
  afterEach(async () => store.close());

  async function run(text: string) {
    const raw = Buffer.from(text, 'latin1');
    const msg = Hl7Message.parse(raw);
    const [stored] = await store.acceptInbound([
      { sourceKind: 'mllp', sourceName: 'in', dedupeKey: `${msg.controlId}|${Math.random()}`, raw },
    ]);
    await pipeline.reprocess(stored.id);
    return (await store.getMessage(stored.id))!;
  }
  const fixture = (name: string) => readFileSync(join(FIX, name), 'latin1');

  it('delivers to the CP the member is attributed to on the event date', async () => {
    const m = await run(fixture('A01.hl7'));
    expect(m.deliveries.map((d) => [d.destination, d.status])).toEqual([['cp-a-hook', 'pending']]);
    expect(m.deliveries[0]).toMatchObject({ routeId: 'to-cp', partnerId: 'cp-a' });
    expect(m.statusReason).toBe('routed by to-cp to cp-a-hook (cp-a)');
    expect(enqueued).toHaveLength(1);
  });

  it('records an unmatched event and sends nothing when the patient is not on the roster', async () => {
    const m = await run(fixture('A01.hl7').replace('MA123456789', 'MA000000000'));
    expect(m.deliveries).toEqual([]);
    expect(m.statusReason).toBe('member not on the roster (unmatched)');
    expect(unmatched).toHaveLength(1);
  });

  it('withholds a behavioral-health facility discharge without consent, recording who and why', async () => {
    const bh = fixture('A03.hl7').replace('4NORTH^412^B^MGH', '4NORTH^412^B^BHH');
    const m = await run(bh);
    expect(m.deliveries[0].status).toBe('withheld');
    expect(m.deliveries[0].withheldReason).toBe('behavioral-health event: no behavioral-health consent on file for cp-a (route to-cp)');
    // The message's own reason says it too: withheld, from whom, and why.
    expect(m.statusReason).toBe(
      'withheld from cp-a-hook (cp-a): behavioral-health event: no behavioral-health consent on file for cp-a (route to-cp)',
    );
    expect(enqueued).toEqual([]);
  });

  it('delivers it with consent, labelled with meta.security (and the labels validate)', async () => {
    consents.add('M1|cp-a|behavioral-health');
    const m = await run(fixture('A03.hl7').replace('4NORTH^412^B^MGH', '4NORTH^412^B^BHH'));
    expect(m.deliveries[0].status).toBe('pending');
    const bundle = JSON.parse(m.deliveries[0].payload!);
    const enc = bundle.entry.find((e: { resource: { resourceType: string } }) => e.resource.resourceType === 'Encounter').resource;
    expect(enc.meta.security.map((c: { code: string }) => c.code)).toEqual(['R', 'PSY']);
    expect(errorsOf(validateWithBoth(bundle))).toEqual([]);
  });

  it('substance-use services need the substance-use consent, not the behavioral-health one (42 CFR Part 2)', async () => {
    consents.add('M1|cp-a|behavioral-health');
    const sud = fixture('A03.hl7').replace('|MED||||7|', '|SUD||||7|');
    const m = await run(sud);
    expect(m.deliveries[0].status).toBe('withheld');
    expect(m.deliveries[0].withheldReason).toMatch(/no substance-use consent on file for cp-a/);
    consents.add('M1|cp-a|substance-use');
    const again = await run(sud.replace('MSG-A03-0001', 'MSG-A03-0002'));
    expect(again.deliveries[0].status).toBe('pending');
    expect(JSON.parse(again.deliveries[0].payload!).meta.security.map((c: { code: string }) => c.code)).toEqual([
      'R',
      'ETH',
      '42CFRPart2',
      'NORDSCLCD',
    ]);
  });
});

describe('route matching', () => {
  const router = new Router([
    { id: 'epic-adt', match: { senders: ['EPIC*^*'], events: ['A01'] }, to: ['a'] },
    { id: 'ed', match: { patientClasses: ['E'] }, to: ['b', 'a'] },
  ]);
  it('matches senders with wildcards, events and patient classes; dedupes destinations', () => {
    expect(router.route({ sourceName: 's', sender: 'EPICADT^MGH', event: 'A01', patientClass: 'E' }).map((d) => d.destination)).toEqual([
      'a',
      'b',
    ]);
    expect(router.route({ sourceName: 's', sender: 'MEDITECH^X', event: 'A01', patientClass: 'I' })).toEqual([]);
  });
});

describe('routing facts', () => {
  it('matches on MSH-3^MSH-4 even when MSH-10 holds an escaped field separator', async () => {
    const store = await openStore('sqlite::memory:');
    const enqueued: DeliveryJob[] = [];
    const pipeline = new Pipeline({
      store,
      router: new Router([{ id: 'mgh', match: { senders: ['EPICADT^MGH'] }, to: ['hook'] }]),
      destinationTypes: new Map([['hook', 'webhook']]),
      profileFor: () => profile,
      enqueue: async (job) => {
        enqueued.push(job);
        return true;
      },
      log: silentLog,
    });
    const text = readFileSync(join(FIX, 'A01.hl7'), 'latin1').replace('|MSG-A01-0001|', '|MSG\\F\\01|');
    const raw = Buffer.from(text, 'latin1');
    expect(Hl7Message.parse(raw).controlId).toBe('MSG|01');
    const [stored] = await store.acceptInbound([{ sourceKind: 'mllp', sourceName: 'in', dedupeKey: 'k', raw }]);
    await pipeline.reprocess(stored.id);
    expect(enqueued.map((j) => j.destinationId)).toEqual(['hook']);
    await store.close();
  });
});
