import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { demoKeyExposure } from '../config/demo-key.js';
import type { GatewayConfig } from '../config/types.js';
import { Outbox } from '../delivery/outbox.js';
import { startPrivateRedis, type PrivateRedis } from '../delivery/redis-server.js';
import { createFileIntake } from '../ingest/file-intake.js';
import { InboundWriter } from '../ingest/inbound.js';
import { Inbox } from '../ingest/inbox.js';
import { gatewayMemberUploads } from '../ingest/member-upload.js';
import { GatewayIngestPort } from '../ingest/ingest-port.js';
import { Pipeline } from '../ingest/pipeline.js';
import { RecoverySweep } from '../ingest/recovery.js';
import { loadProfile } from '../mapping/profile-loader.js';
import type { MappingProfile } from '../mapping/profile-schema.js';
import type { MllpServer } from '../mllp/server.js';
import type { Logger } from '../observability/log.js';
import { logDeliveryStep, logReceiveStep } from '../observability/message-log.js';
import { createMetrics, type CarebridgeMetrics } from '../observability/metrics.js';
import { Router } from '../routing/router.js';
import { SenderDirectory } from '../routing/sender-pattern.js';
import { sensitivityPolicy } from '../routing/sensitivity.js';
import { createMllpSource } from '../sources/mllp-source.js';
import { openCarePlans } from '../careplan/open-careplans.js';
import { openRosterStore } from '../roster/roster-store.js';
import { createSftpPoller } from '../sources/sftp/index.js';
import type { SftpPoller } from '../sources/sftp/poller.js';
import { openStore } from '../store/index.js';
import type { MessageStore } from '../store/types.js';
import { buildHttpServer } from './http.js';

export interface Gateway {
  readonly config: GatewayConfig;
  readonly store: MessageStore;
  readonly metrics: CarebridgeMetrics;
  readonly http: FastifyInstance;
  /** Bound ports, e.g. { http: 8080, 'demo-mllp': 2575 } (useful when configured as 0). */
  readonly ports: Record<string, number>;
  readonly redisUrl: string;
  readonly recovery: RecoverySweep;
  /** The supervised private redis-server, when no redis.url is configured. */
  privateRedis(): PrivateRedis | undefined;
  close(): Promise<void>;
}

const RECEIVED_AT_CAP = 200_000;

/**
 * The composition root: opens the store, Redis (private unless configured), the outbox, the
 * pipeline and inbox, the sources and the HTTP API, then recovers unfinished work. Order of
 * shutdown is the reverse: stop taking messages, drain, then close queues, store and Redis.
 */
export async function startGateway(config: GatewayConfig, log: Logger): Promise<Gateway> {
  const cleanup: (() => Promise<void>)[] = [];
  let stopping = false;
  const fail = async (e: unknown) => {
    stopping = true;
    for (const c of cleanup.reverse()) await c().catch(() => {});
    throw e;
  };
  try {
    const demoKey = await demoKeyExposure(config);
    if (demoKey.kind === 'refuse') throw new Error(demoKey.message);
    if (demoKey.kind === 'warn') log.warn({}, demoKey.message);
    const store = await openStore(config.store.url);
    cleanup.push(() => store.close());

    let redis: PrivateRedis | undefined;
    let redisUrl = config.redis.url;
    if (!redisUrl) {
      const dataDir = join(config.dataDir, 'redis');
      redis = await startPrivateRedis({ dataDir });
      cleanup.push(() => redis!.stop());
      redisUrl = redis.url;
      log.info({ port: redis.port }, 'private redis-server started');
      // Supervise it: if it dies, restart it on the same port and data (AOF), so queued work
      // survives and the queue connections reconnect by themselves.
      const supervise = (r: PrivateRedis): void => {
        void r.exited.then(async (exit) => {
          if (stopping) return;
          log.warn({ code: exit.code, signal: exit.signal }, 'private redis-server exited; restarting it');
          for (let attempt = 1; !stopping; attempt++) {
            try {
              redis = await startPrivateRedis({ dataDir, port: r.port });
              log.info({ port: redis.port }, 'private redis-server restarted');
              supervise(redis);
              return;
            } catch (e) {
              log.error({ err: (e as Error).message, attempt }, 'private redis-server restart failed');
              await new Promise((res) => setTimeout(res, Math.min(1000 * attempt, 10_000)));
            }
          }
        });
      };
      supervise(redis);
    }

    const roster = await openRosterStore(config.store.url, {
      matching: { identifierPrecedence: config.roster.identifierPrecedence, demographicMatch: config.roster.demographicMatch },
      chunkTargetMs: config.roster.importChunkMs,
    });
    cleanup.push(() => roster.close());

    // Care plans: their outbound messages go through the pipeline's FHIR path (declared below, only
    // called once the gateway runs), which asks the service for their deliveries.
    // The one writer of inbound messages: the HL7 v2 inbox, FHIR ingest, roster notices, late routing, care plans.
    const inbound = new InboundWriter(store);
    const carePlans = await openCarePlans({
      config,
      messages: store,
      inbound,
      roster,
      members: roster,
      log,
      dispatch: (messageId, sourceName, resource, at) => pipeline.processFhir(messageId, sourceName, resource, at),
    });
    cleanup.push(() => carePlans.close());

    const metrics = createMetrics();
    const profiles = new Map<string, MappingProfile>();
    const profileFor = (partnerId: string | undefined): MappingProfile => {
      const overlay = partnerId ? config.partners[partnerId]?.profile : undefined;
      const key = overlay ?? '';
      let p = profiles.get(key);
      if (!p) {
        p = loadProfile({ partner: overlay, mappingsDir: config.mappings.dir });
        profiles.set(key, p);
      }
      return p;
    };
    // Fail at start, not on the first message, when a partner's mapping profile is broken.
    for (const id of Object.keys(config.partners)) profileFor(id);
    profileFor(undefined);

    const acceptPolicies = new Map(config.sources.flatMap((s) => (s.type !== 'sftp' && s.type !== 'directory' && s.accept ? [[s.id, s.accept] as const] : [])));
    const senders = new SenderDirectory(config.partners);

    const receivedAt = new Map<string, number>();
    const outbox = new Outbox({
      store,
      destinations: config.destinations,
      redisUrl,
      redisPrefix: config.redis.prefix,
      log,
      onAttempt: (job, report) => {
        const outcome = report.outcome.kind === 'delivered' ? 'success' : report.outcome.kind === 'retry' ? 'retryable-error' : 'fatal-error';
        metrics.deliveryAttempts.inc({ destination: job.destinationId, outcome });
        logDeliveryStep(log, job, report);
      },
      onDelivered: (job) => {
        const at = receivedAt.get(job.messageId);
        if (at !== undefined) metrics.deliveryLatency.observe({ destination: job.destinationId }, (Date.now() - at) / 1000);
      },
      // The dead step is logged by onAttempt (logDeliveryStep), with its reason.
      onDead: (job) => metrics.deadLetters.inc({ destination: job.destinationId }),
      onRedisRecovered: () => void recovery.run().catch(() => {}),
    });
    cleanup.push(() => outbox.close());

    const pipeline = new Pipeline({
      store,
      router: new Router(config.routes),
      destinationTypes: new Map(config.destinations.map((d) => [d.id, d.type])),
      destinationPartners: new Map(config.destinations.filter((d) => d.partner).map((d) => [d.id, d.partner!])),
      partnerAdtDestination: (partnerId) => config.partners[partnerId]?.destinations.adt,
      sensitivity: sensitivityPolicy(config.consent),
      roster,
      transitionOfCare: (input) => carePlans.service.transitionOfCare(input),
      fhirDeliveries: (sourceName, resource) => carePlans.service.deliveriesFor(sourceName, resource),
      profileFor,
      enqueue: (job) => outbox.enqueue(job),
      log,
      onFiltered: (w) => metrics.messagesFiltered.inc({ source: w.sourceName, reason: w.kind }),
      onProcessed: (w) => {
        if (receivedAt.size >= RECEIVED_AT_CAP) receivedAt.clear();
        receivedAt.set(w.messageId, w.receivedAt);
      },
    });
    const inbox = new Inbox({
      inbound,
      profileFor,
      partnerForSender: (s) => senders.partnerFor(s),
      isSenderOf: (partnerId, s) => senders.isSenderOf(partnerId, s),
      acceptPolicyFor: (name) => acceptPolicies.get(name),
      onAccepted: (work) => pipeline.submit(work),
      onReceived: (meta, outcome, reasonKind, step) => {
        if (step) logReceiveStep(log, meta.sourceName, outcome, step);
        metrics.messagesReceived.inc({ source: meta.sourceName, outcome });
        if (outcome === 'duplicate') metrics.duplicates.inc({ source: meta.sourceName });
        if (outcome === 'rejected') metrics.messagesRejected.inc({ source: meta.sourceName, reason_kind: reasonKind ?? 'unknown' });
      },
    });
    const recovery = new RecoverySweep(store, pipeline, outbox, log);
    const ingest = new GatewayIngestPort(store, inbox, pipeline, outbox, roster, log);

    // SFTP and drop-folder sources: files go through their partner's layout into the roster.
    const intake = createFileIntake({ config, store, inbound, roster, pipeline, log, carePlanFile: carePlans.fileConsumer });
    const pollers: SftpPoller[] = [];
    for (const source of config.sources) {
      if (source.type !== 'sftp' && source.type !== 'directory') continue;
      const poller = createSftpPoller({
        source,
        dataDir: config.dataDir,
        onFile: intake,
        log,
        hooks: {
          onFileResult: (e) => metrics.sftpFiles.inc({ source: e.sourceId, partner: e.partner, result: e.result }),
          onPollFailure: (e) => metrics.sftpPollFailures.inc({ source: e.sourceId, partner: e.partner }),
          onMissingDaily: (st) => {
            metrics.sftpMissingDaily.inc({ source: st.sourceId, partner: st.partner });
            log.warn({ source: st.sourceId, partner: st.partner, expectedBy: st.expectedBy, missingSince: st.missingSince }, 'expected daily file has not arrived');
          },
        },
      });
      pollers.push(poller);
    }

    const ports: Record<string, number> = {};
    const memberUploads = gatewayMemberUploads(config, roster, intake);
    const http = await buildHttpServer({ config, store, ingest, log, metrics, roster, careplans: carePlans.service, memberUploads, sftpStatus: () => pollers.map((p) => p.status()) });
    cleanup.push(() => http.close());
    await explainListenError('server.http.port', config.server.http.host, config.server.http.port, () => http.listen({ host: config.server.http.host, port: config.server.http.port }));
    const address = http.server.address();
    ports.http = typeof address === 'object' && address ? address.port : config.server.http.port;

    const mllpServers: MllpServer[] = [];
    for (const [index, source] of config.sources.entries()) {
      if (source.type !== 'mllp') continue;
      const server = createMllpSource(source, inbox, log, (s) => metrics.ackLatency.observe({ source: source.id }, s), metrics);
      const bound = await explainListenError(`sources[${index}].port (${source.id})`, source.host, source.port, () => server.listen());
      mllpServers.push(server);
      cleanup.push(() => server.close({ drainTimeoutMs: config.server.shutdownTimeoutMs }));
      ports[source.id] = bound.port;
      log.info({ source: source.id, host: bound.host, port: bound.port }, 'MLLP listener ready');
    }

    for (const p of pollers) {
      await p.start();
      cleanup.push(() => p.stop());
    }

    // Bring back whatever a previous run left unfinished, then keep sweeping.
    await outbox.queues.ready(5_000);
    const reclaimed = await outbox.queues.reclaimFromStoppedGateways().catch((e) => (log.warn({ err: (e as Error).message }, 'could not reclaim deliveries of a stopped gateway'), 0));
    if (reclaimed) log.warn({ deliveries: reclaimed }, 'reclaimed in-flight deliveries of a stopped gateway');
    void recovery.run().catch((e) => log.warn({ err: (e as Error).message }, 'startup recovery failed'));
    recovery.start(30_000);
    carePlans.service.start();

    let pruneTimer: NodeJS.Timeout | undefined;
    if (config.store.retentionDays > 0) {
      pruneTimer = setInterval(() => {
        const olderThan = new Date(Date.now() - config.store.retentionDays * 86_400_000);
        store.prune({ olderThan }).catch((e) => log.warn({ err: (e as Error).message }, 'prune failed'));
      }, config.store.pruneIntervalMinutes * 60_000);
      pruneTimer.unref();
    }

    log.info({ ports, store: store.kind }, 'carebridge gateway started');
    let closing: Promise<void> | undefined;
    return {
      config,
      store,
      metrics,
      http,
      ports,
      redisUrl,
      recovery,
      privateRedis: () => redis,
      close: () =>
        (closing ??= (async () => {
          stopping = true;
          recovery.stop();
          if (pruneTimer) clearInterval(pruneTimer);
          // Stop intake first (MLLP drains in-flight ACKs), then HTTP, then the back end.
          await Promise.all(mllpServers.map((s) => s.close({ drainTimeoutMs: config.server.shutdownTimeoutMs }).catch(() => {})));
          await http.close().catch(() => {});
          for (const p of pollers) await Promise.resolve(p.stop()).catch(() => {});
          await outbox.close().catch(() => {});
          await carePlans.close().catch(() => {});
          await roster.close().catch(() => {});
          await store.close().catch(() => {});
          if (redis) await redis.stop().catch(() => {});
          log.info({}, 'carebridge gateway stopped');
        })()),
    };
  } catch (e) {
    return fail(e);
  }
}

/** A listen that fails names the config key and the port instead of Node's bare `listen EADDRINUSE`. */
async function explainListenError<T>(key: string, host: string, port: number, listen: () => Promise<T>): Promise<T> {
  try {
    return await listen();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException)?.code;
    const why = code === 'EADDRINUSE' ? 'is already in use' : code === 'EACCES' ? 'may not be opened by this user' : code === 'EADDRNOTAVAIL' ? 'is not an address of this machine' : undefined;
    if (!why) throw e;
    throw Object.assign(new Error(`${key}: port ${port} on ${host} ${why}`), { code });
  }
}
