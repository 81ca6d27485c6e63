import type { FastifyInstance } from 'fastify';
import { openCarePlans } from '../careplan/open-careplans.js';
import { demoKeyExposure } from '../config/demo-key.js';
import type { GatewayConfig } from '../config/types.js';
import { Outbox } from '../delivery/outbox.js';
import type { PrivateRedis } from '../delivery/redis-server.js';
import { createFileIntake } from '../ingest/file-intake.js';
import { InboundWriter } from '../ingest/inbound.js';
import { Inbox } from '../ingest/inbox.js';
import { GatewayIngestPort } from '../ingest/ingest-port.js';
import { FhirValidation } from '../fhir/validate.js';
import { gatewayMemberUploads } from '../ingest/member-upload.js';
import { Pipeline } from '../ingest/pipeline.js';
import { RecoverySweep } from '../ingest/recovery.js';
import type { Logger } from '../observability/log.js';
import { logDeliveryStep, logReceiveStep } from '../observability/message-log.js';
import { createMetrics, type CarebridgeMetrics } from '../observability/metrics.js';
import { openRosterStore } from '../roster/roster-store.js';
import { Router } from '../routing/router.js';
import { SenderDirectory } from '../routing/sender-pattern.js';
import { sensitivityPolicy } from '../routing/sensitivity.js';
import { openStore } from '../store/index.js';
import type { MessageStore } from '../store/types.js';
import { createFolderPollers, lastFileArrivals } from './folder-pollers.js';
import { buildHttpServer } from './http.js';
import { Lifecycle } from './lifecycle.js';
import { explainListenError, startMllpListeners } from './listeners.js';
import { loadMappingProfiles } from './mapping-profiles.js';
import { startSupervisedRedis } from './supervised-redis.js';

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
 * The composition root. Modules start in the order of the flow's dependencies: the store,
 * Redis, the roster, the outbox, the pipeline (and the care plans that extend it), the recovery
 * sweep, the inbox, then intake (HTTP, MLLP, folder pollers) and the timers. Shutdown is the
 * reverse of that order (see Lifecycle): intake stops first, the store and Redis close last.
 */
export async function startGateway(config: GatewayConfig, log: Logger): Promise<Gateway> {
  const demoKey = await demoKeyExposure(config);
  if (demoKey.kind === 'refuse') throw new Error(demoKey.message);
  if (demoKey.kind === 'warn') log.warn({}, demoKey.message);

  const modules = new Lifecycle(log);
  try {
    const store = await modules.register(
      'message store',
      () => openStore(config.store.url),
      (s) => s.close(),
    );
    const redis = config.redis.url
      ? undefined
      : await modules.register(
          'private redis',
          () => startSupervisedRedis(config.dataDir, log),
          (r) => r.stop(),
        );
    const redisUrl = config.redis.url ?? redis!.url;
    const roster = await modules.register(
      'roster',
      () =>
        openRosterStore(config.store.url, {
          matching: { identifierPrecedence: config.roster.identifierPrecedence, demographicMatch: config.roster.demographicMatch },
          chunkTargetMs: config.roster.importChunkMs,
        }),
      (r) => r.close(),
    );
    const metrics = createMetrics();
    const profileFor = loadMappingProfiles(config);

    const receivedAt = new Map<string, number>();
    const outbox = await modules.register(
      'outbox',
      () =>
        new Outbox({
          store,
          destinations: config.destinations,
          redisUrl,
          redisPrefix: config.redis.prefix,
          log,
          onAttempt: (job, report) => {
            const outcome =
              report.outcome.kind === 'delivered' ? 'success' : report.outcome.kind === 'retry' ? 'retryable-error' : 'fatal-error';
            metrics.deliveryAttempts.inc({ destination: job.destinationId, outcome });
            logDeliveryStep(log, job, report);
          },
          onDelivered: (job) => {
            const at = receivedAt.get(job.messageId);
            if (at !== undefined) metrics.deliveryLatency.observe({ destination: job.destinationId }, (Date.now() - at) / 1000);
          },
          // The dead step is logged by onAttempt (logDeliveryStep), with its reason.
          onDead: (job) => metrics.deadLetters.inc({ destination: job.destinationId }),
        }),
      (o) => o.close(),
    );

    // The one writer of inbound messages: the HL7 v2 inbox, FHIR ingest, roster notices, late routing, care plans.
    const inbound = new InboundWriter(store);
    const pipeline = new Pipeline({
      store,
      router: new Router(config.routes),
      destinationTypes: new Map(config.destinations.map((d) => [d.id, d.type])),
      destinationPartners: new Map(config.destinations.filter((d) => d.partner).map((d) => [d.id, d.partner!])),
      partnerAdtDestination: (partnerId) => config.partners[partnerId]?.destinations.adt,
      sensitivity: sensitivityPolicy(config.consent),
      roster,
      profileFor,
      enqueue: (job) => outbox.enqueue(job),
      log,
      onFiltered: (w) => metrics.messagesFiltered.inc({ source: w.sourceName, reason: w.kind }),
      onProcessed: (w) => {
        if (receivedAt.size >= RECEIVED_AT_CAP) receivedAt.clear();
        receivedAt.set(w.messageId, w.receivedAt);
      },
    });

    // Care plans send their outbound messages through the pipeline's FHIR path and add their own
    // routing to it: transition-of-care plans on discharges, and the deliveries of their messages.
    const carePlans = await modules.register(
      'care plans',
      () =>
        openCarePlans({
          config,
          messages: store,
          inbound,
          roster,
          members: roster,
          log,
          dispatch: (messageId, sourceName, resource, at) => pipeline.processFhir(messageId, sourceName, resource, at),
        }),
      (c) => c.close(),
    );
    pipeline.extend({
      transitionOfCare: (input) => carePlans.service.transitionOfCare(input),
      fhirDeliveries: (sourceName, resource) => carePlans.service.deliveriesFor(sourceName, resource),
    });

    const recovery = new RecoverySweep(store, pipeline, outbox, log);
    outbox.onRedisRecovered(() => void recovery.run().catch(() => {}));

    const acceptPolicies = new Map(
      config.sources.flatMap((s) => (s.type !== 'sftp' && s.type !== 'directory' && s.accept ? [[s.id, s.accept] as const] : [])),
    );
    const senders = new SenderDirectory(config.partners);
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
    const validation = await modules.register(
      'fhir validation',
      () => new FhirValidation(),
      (v) => v.close(),
    );
    const ingest = new GatewayIngestPort(store, inbox, pipeline, outbox, roster, log, validation);

    // SFTP and drop-folder sources: files go through their partner's layout into the roster.
    const intake = createFileIntake({ config, store, inbound, roster, pipeline, log, carePlanFile: carePlans.fileConsumer });
    const pollers = createFolderPollers(config, intake, log, metrics, await lastFileArrivals(config, roster));

    const ports: Record<string, number> = {};
    const memberUploads = gatewayMemberUploads(config, roster, intake);
    const http = await modules.register(
      'http',
      async () => {
        const app = await buildHttpServer({
          config,
          store,
          ingest,
          log,
          metrics,
          roster,
          careplans: carePlans.service,
          memberUploads,
          sftpStatus: () => pollers.map((p) => p.status()),
        });
        try {
          const { host, port } = config.server.http;
          await explainListenError('server.http.port', host, port, () => app.listen({ host, port }));
        } catch (e) {
          await app.close().catch(() => {});
          throw e;
        }
        return app;
      },
      (app) => app.close(),
    );
    const address = http.server.address();
    ports.http = typeof address === 'object' && address ? address.port : config.server.http.port;

    const mllp = await modules.register(
      'mllp listeners',
      () => startMllpListeners(config, inbox, log, metrics),
      (m) => m.close(),
    );
    Object.assign(ports, mllp.ports);

    await modules.register(
      'folder pollers',
      async () => {
        for (const p of pollers) await p.start();
      },
      async () => {
        for (const p of pollers) await p.stop();
      },
    );

    // Bring back whatever a previous run left unfinished, then keep sweeping.
    await outbox.queues.ready(5_000);
    const reclaimed = await outbox.queues
      .reclaimFromStoppedGateways()
      .catch((e) => (log.warn({ err: (e as Error).message }, 'could not reclaim deliveries of a stopped gateway'), 0));
    if (reclaimed) log.warn({ deliveries: reclaimed }, 'reclaimed in-flight deliveries of a stopped gateway');
    void recovery.run().catch((e) => log.warn({ err: (e as Error).message }, 'startup recovery failed'));
    await modules.register(
      'background jobs',
      () => {
        recovery.start(30_000);
        carePlans.service.start();
        return startPruning(config, store, log);
      },
      (pruneTimer) => {
        recovery.stop();
        if (pruneTimer) clearInterval(pruneTimer);
      },
    );

    log.info({ ports, store: store.kind }, 'carebridge gateway started');
    return {
      config,
      store,
      metrics,
      http,
      ports,
      redisUrl,
      recovery,
      privateRedis: () => redis?.current(),
      close: async () => {
        const first = !modules.isClosing;
        await modules.close();
        if (first) log.info({}, 'carebridge gateway stopped');
      },
    };
  } catch (e) {
    await modules.close();
    throw e;
  }
}

/** Deletes messages past the retention period on a timer (none when retentionDays is 0). */
function startPruning(config: GatewayConfig, store: MessageStore, log: Logger): NodeJS.Timeout | undefined {
  if (config.store.retentionDays <= 0) return undefined;
  const timer = setInterval(() => {
    const olderThan = new Date(Date.now() - config.store.retentionDays * 86_400_000);
    store.prune({ olderThan }).catch((e) => log.warn({ err: (e as Error).message }, 'prune failed'));
  }, config.store.pruneIntervalMinutes * 60_000);
  timer.unref();
  return timer;
}
