import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { GatewayConfig } from '../../../src/config/types.js';
import type { Outbox } from '../../../src/delivery/outbox.js';
import type { DeliveryJob } from '../../../src/delivery/types.js';
import { createFileIntake } from '../../../src/ingest/file-intake.js';
import { Pipeline } from '../../../src/ingest/pipeline.js';
import { RecoverySweep } from '../../../src/ingest/recovery.js';
import { loadProfile } from '../../../src/mapping/profile-loader.js';
import { silentLog } from '../../../src/observability/log.js';
import { openRosterStore, type Roster } from '../../../src/roster/roster-store.js';
import { Router } from '../../../src/routing/router.js';
import type { SftpFileHandoff } from '../../../src/sources/sftp/types.js';
import { InboundWriter } from '../../../src/ingest/inbound.js';
import { openStore } from '../../../src/store/open-store.js';
import type { MessageStore } from '../../../src/store/types.js';
import { findPostgresBin, startPostgres, type PostgresServer } from '../../helpers/postgres.js';

// Fault injection for the file intake's crash tests: a "process" is a store, a roster, a pipeline,
// a recovery sweep and the intake over one database, wired as the gateway wires them; `Crash`
// kills it right after a chosen call, and a new process over the same database plays the restart.

export class SimulatedCrash extends Error {
  constructor() {
    super('simulated crash');
  }
}

/**
 * One "process": once `after` says a call's result came back, the process is dead and every later
 * call of the wrapped store or roster throws, like a kill right after that call committed. `after`
 * is only asked while armed (from the start unless `armed: false`), so setup work can go first.
 */
export class Crash {
  dead = false;
  /**
   * Awaited after each call returns (before the caller sees the result), dead or armed or not: lets
   * a test run other work at that instant, e.g. an import between an event's unmatched row and its commit.
   */
  onReturn?: (method: string, args: unknown[]) => Promise<void> | void;
  constructor(
    private readonly after?: (method: string, args: unknown[]) => boolean,
    public armed = true,
  ) {}

  wrap<T extends object>(target: T): T {
    return new Proxy(target, {
      get: (t, prop, receiver) => {
        const value = Reflect.get(t, prop, receiver) as unknown;
        if (typeof value !== 'function' || prop === 'close') return value;
        return async (...args: unknown[]) => {
          if (this.dead) throw new SimulatedCrash();
          const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(t, args);
          if (this.armed && this.after?.(String(prop), args)) this.dead = true;
          await this.onReturn?.(String(prop), args);
          return result;
        };
      },
    });
  }
}

export interface Process {
  store: MessageStore;
  roster: Roster;
  pipeline: Pipeline;
  recovery: RecoverySweep;
  intake: (file: SftpFileHandoff) => Promise<string>;
  /** Delivery ids handed to the queue (enqueue after a commit, or resubmit by the sweep). */
  queued: string[];
  close(): Promise<void>;
}

/**
 * `queued`: pass one array to several processes to play a queue (Redis) that outlives them.
 * The roster matches with the config's `roster` settings; attributed routes use partners' `adt` destinations.
 */
export async function startProcess(config: GatewayConfig, crash = new Crash(), queued: string[] = []): Promise<Process> {
  const rawStore = await openStore(config.store.url);
  const rawRoster = await openRosterStore(config.store.url, {
    matching: { identifierPrecedence: config.roster.identifierPrecedence, demographicMatch: config.roster.demographicMatch },
  });
  const store = crash.wrap(rawStore);
  const roster = crash.wrap(rawRoster);
  const pipeline = new Pipeline({
    store,
    router: new Router(config.routes),
    destinationTypes: new Map(config.destinations.map((d) => [d.id, d.type])),
    partnerAdtDestination: (partnerId) => config.partners[partnerId]?.destinations.adt,
    roster,
    profileFor: () => loadProfile({ mappingsDir: config.mappings.dir }),
    enqueue: async (job: DeliveryJob) => (queued.push(job.deliveryId), true),
    log: silentLog,
  });
  // The sweep only needs the outbox to take pending deliveries back (Redis is not under test here).
  const outbox = {
    isDeliverable: () => true,
    queues: { resubmit: async (job: DeliveryJob) => (queued.push(job.deliveryId), 'enqueued' as const) },
  } as unknown as Outbox;
  const recovery = new RecoverySweep(store, pipeline, outbox, silentLog);
  const intake = createFileIntake({ config, store, inbound: new InboundWriter(store), roster, pipeline, log: silentLog });
  return {
    store: rawStore,
    roster: rawRoster,
    pipeline,
    recovery,
    intake,
    queued,
    close: async () => {
      await rawRoster.close();
      await rawStore.close();
    },
  };
}

export interface CrashBackend {
  name: 'sqlite' | 'postgres';
  /** A fresh database URL (undefined: SQLite in the test's data dir). */
  url: () => Promise<string | undefined>;
  skip: boolean;
}

/**
 * What every crash suite sets up: SQLite always, a private Postgres when one is installed; the
 * processes a test opened (push them to `open`) closed after it; temp dirs (push to `dirs`)
 * removed at the end. Call once at the top of a test file.
 */
export function crashSuite(): { backends: CrashBackend[]; open: Process[]; dirs: string[] } {
  const pgBin = findPostgresBin();
  let pgServer: PostgresServer | undefined;
  const open: Process[] = [];
  const dirs: string[] = [];
  beforeAll(async () => {
    if (pgBin) pgServer = await startPostgres();
  });
  afterEach(async () => {
    for (const p of open.splice(0)) await p.close().catch(() => {});
  });
  afterAll(async () => {
    await pgServer?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const backends: CrashBackend[] = [
    { name: 'sqlite', url: async () => undefined, skip: false },
    { name: 'postgres', url: async () => pgServer!.createDatabase(), skip: !pgBin },
  ];
  return { backends, open, dirs };
}
