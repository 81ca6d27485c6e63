import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/app.js';
import type { ApiDeps } from '../api/types.js';
import { registerDemoReceiver } from './demo-receiver.js';

/** The API plus, when the config delivers to it, the demo receiver. */
export async function buildHttpServer(deps: ApiDeps): Promise<FastifyInstance> {
  const app = await buildApi(deps);
  const demo = deps.config.destinations.find((d) => d.type === 'webhook' && /\/demo\/receiver$/.test(d.url));
  if (demo && demo.type === 'webhook') registerDemoReceiver(app, demo.secret);
  return app;
}
