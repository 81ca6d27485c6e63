import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/app.js';
import type { ApiDeps } from '../api/types.js';
import { registerDemoReceiver } from './demo-receiver.js';

/** The API plus, when the config delivers to them, the demo receivers. */
export async function buildHttpServer(deps: ApiDeps): Promise<FastifyInstance> {
  const app = await buildApi(deps);
  const registered = new Set<string>();
  for (const d of deps.config.destinations) {
    if (!('secret' in d)) continue; // a signed webhook (url and secret)
    const path = /^https?:\/\/(?:127\.0\.0\.1|localhost)(?::\d+)?(\/demo\/(?:receiver|receivers\/[a-z0-9_-]+))$/.exec(d.url)?.[1];
    if (path && !registered.has(path)) {
      registered.add(path);
      registerDemoReceiver(app, path, d.secret);
    }
  }
  return app;
}
