// The web console (issue 14): sign-in sessions, the built pages at `/`, and the API endpoints only
// its pages needed (operator overview and configuration, the care team's worklist and new members).
import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from '../api/types.js';
import { resolveCarePlanSettings } from '../careplan/settings.js';
import { careTeamRoutes } from './care-team-routes.js';
import { consoleHttp } from './http.js';
import { memberLookupRoutes } from './member-lookup.js';
import { operatorRoutes } from './operator-routes.js';
import { SessionStore } from './sessions.js';
import { TrafficSampler } from './traffic-sampler.js';

export interface Console {
  sessions: SessionStore;
  /** Public: sign in/out and the static pages. */
  http: FastifyPluginAsync;
  /** Behind the API key (or session) hook. */
  api: FastifyPluginAsync;
}

export function createConsole(deps: ApiDeps & { consoleRoot?: string; trafficIntervalMs?: number }): Console {
  const sessions = new SessionStore();
  // CAREBRIDGE_CONSOLE_TRAFFIC_MS: a shorter sampling interval (tests, demos).
  const intervalMs = deps.trafficIntervalMs ?? (Number(process.env.CAREBRIDGE_CONSOLE_TRAFFIC_MS) || 10_000);
  const sampler = new TrafficSampler(deps.metrics, { intervalMs, keep: Math.ceil(3_600_000 / intervalMs) });
  const settings = resolveCarePlanSettings(deps.config.careplans, deps.config.partners);
  return {
    sessions,
    http: consoleHttp({ config: deps.config, sessions, root: deps.consoleRoot }),
    api: async (scope) => {
      sampler.start();
      scope.addHook('onClose', async () => sampler.stop());
      await scope.register(operatorRoutes({ ...deps, sampler, samplerIntervalMs: intervalMs }));
      await scope.register(careTeamRoutes({ ...deps, settings }));
      if (deps.roster) await scope.register(memberLookupRoutes(deps.roster));
    },
  };
}
