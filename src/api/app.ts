import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { GatewayConfig } from '../config/types.js';
import { createConsole } from '../console/index.js';
import { packageRoot } from '../util/package-root.js';
import { CodedError } from '../errors/catalogue.js';
import { apiKeyHook } from './auth.js';
import { frameworkErrorHandler, installErrorHandling } from './error-handler.js';
import { operationOutcomeSchema } from './operation-outcome.js';
import { carePlanRoutes } from './routes/careplans.js';
import { deliveryRoutes } from './routes/deliveries.js';
import { docsRoutes } from './routes/docs.js';
import { healthRoutes } from './routes/health.js';
import { fhirIngestRoutes } from './routes/ingest-fhir.js';
import { hl7IngestRoutes } from './routes/ingest-hl7.js';
import { messageRoutes } from './routes/messages.js';
import { metricsRoutes } from './routes/metrics.js';
import { rosterRoutes } from './routes/roster.js';
import { rosterImportRoutes } from './routes/roster-imports.js';
import { sourceRoutes } from './routes/sources.js';
import { securitySchemes } from './schemas.js';
import type { ApiDeps } from './types.js';

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/** HTTPS when configured; a CA means mutual TLS: clients must present a certificate it signed. */
function httpsOptions(config: GatewayConfig) {
  const tls = config.server.http.tls;
  if (!tls) return undefined;
  return {
    key: readFileSync(tls.key),
    cert: readFileSync(tls.cert),
    ...(tls.ca ? { ca: readFileSync(tls.ca), requestCert: true, rejectUnauthorized: true } : {}),
  };
}

/**
 * The gateway's HTTP API, built but not listening (the gateway calls listen). Public: /health,
 * /ready, /metrics, /openapi.json. Behind the rate limit and an API key: ingest (/hl7/v2, /fhir)
 * and /api/*.
 */
export function buildApi(deps: ApiDeps): FastifyInstance {
  const { config, store, ingest, log, metrics } = deps;
  const http = config.server.http;
  const https = httpsOptions(config);
  const options = {
    loggerInstance: log,
    bodyLimit: http.bodyLimitBytes,
    // Fastify's request log line carries the URL, whose query string may hold identifiers.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    frameworkErrors: frameworkErrorHandler,
  };
  // The https overload has its own instance type; routes and inject() do not care which it is.
  const app = (https ? Fastify({ ...options, https }) : Fastify(options)) as unknown as FastifyInstance;

  metrics.observe({ queueDepths: () => ingest.queueDepths(), storeStats: () => store.stats() });

  app.addSchema(operationOutcomeSchema);
  void app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'carebridge',
        description: 'HL7 v2 / FHIR R4 integration gateway: ingest, message search and lineage, replay, dead letters',
        version: deps.version ?? packageVersion(),
      },
      components: { securitySchemes },
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  installErrorHandling(app, http.bodyLimitBytes);
  app.addHook('onResponse', async (request, reply) => {
    // Route pattern, never the URL: ids of patients can sit in the query string.
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url ?? '(none)',
        statusCode: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
  });

  void app.register(healthRoutes(deps));
  void app.register(metricsRoutes(deps));
  void app.register(docsRoutes);
  const webConsole = createConsole(deps);
  void app.register(webConsole.http);

  void app.register(async (secured) => {
    // Rate limit first (onRequest), then the key (preParsing): guessing keys is throttled too.
    await secured.register(rateLimit, {
      global: true,
      hook: 'onRequest',
      max: http.rateLimit.max,
      timeWindow: http.rateLimit.timeWindowMs,
      errorResponseBuilder: (_request, context) =>
        new CodedError('CB_RATE_LIMITED', `too many requests: retry in ${context.after}`, { status: context.statusCode }),
    });
    secured.addHook('preParsing', apiKeyHook(config.apiKeys, webConsole.sessions));
    await secured.register(hl7IngestRoutes(deps));
    await secured.register(fhirIngestRoutes(deps));
    await secured.register(messageRoutes(deps));
    await secured.register(deliveryRoutes(deps));
    if (deps.careplans) await secured.register(carePlanRoutes({ ...deps, careplans: deps.careplans }));
    if (deps.roster) await secured.register(rosterRoutes({ store: deps.store, roster: deps.roster }));
    if (deps.sftpStatus) await secured.register(sourceRoutes({ sftpStatus: deps.sftpStatus }));
    if (deps.memberUploads) await secured.register(rosterImportRoutes({ store: deps.store, uploads: deps.memberUploads }));
    await secured.register(webConsole.api);
  });

  return app;
}
