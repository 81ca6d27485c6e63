import type { FastifyInstance } from 'fastify';
import { ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature } from '../delivery/webhook-signature.js';

/** What a demo receiver keeps of each delivery (synthetic demo data only). */
interface Received {
  receivedAt: string;
  webhookId: string;
  event: string;
  /** Resource types in the Bundle, e.g. a CarePlan on a discharge (the transition-of-care follow-up). */
  resources: string[];
  bundle: unknown;
}

const KEEP = 200;

/**
 * The demo's receiving ends, hosted by the gateway itself so `carebridge start` shows a full round
 * trip with nothing else installed: one per Community Partner (`/demo/receivers/<partner>`, or the
 * older single `/demo/receiver`). POST checks the Standard Webhooks signature and keeps the last
 * deliveries; GET shows what arrived. Registered only for webhook destinations that point there.
 */
export function registerDemoReceiver(app: FastifyInstance, path: string, secret: string): void {
  const seen = { received: 0, rejected: 0, byEvent: {} as Record<string, number>, ids: new Set<string>(), items: [] as Received[] };
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    scope.post(path, { config: { public: true } }, async (req, reply) => {
      const body = req.body as Buffer;
      const id = req.headers[ID_HEADER] as string | undefined;
      const check = verifyWebhookSignature(
        secret,
        { id, signature: req.headers[SIGNATURE_HEADER] as string, timestamp: req.headers[TIMESTAMP_HEADER] as string },
        body,
      );
      if (!check.ok) {
        seen.rejected++;
        return reply.code(401).send({ error: `signature ${check.reason}` });
      }
      // webhook-id is the same on every retry: a redelivery is acknowledged, not kept twice.
      if (id && seen.ids.has(id)) return reply.code(200).send({ duplicate: true });
      if (id) seen.ids.add(id);
      seen.received++;
      let bundle: unknown;
      try {
        bundle = JSON.parse(body.toString('utf8'));
      } catch {
        bundle = null;
      }
      const entries = (
        (bundle as { entry?: { resource?: { resourceType?: string; eventCoding?: { code?: string } } }[] } | null)?.entry ?? []
      ).map((e) => e.resource);
      const event = entries[0]?.eventCoding?.code ?? 'unknown';
      seen.byEvent[event] = (seen.byEvent[event] ?? 0) + 1;
      seen.items.push({
        receivedAt: new Date().toISOString(),
        webhookId: id ?? '',
        event,
        resources: entries.map((r) => r?.resourceType ?? '?'),
        bundle,
      });
      if (seen.items.length > KEEP) seen.items.shift();
      return reply.code(200).send({ ok: true });
    });
    scope.get(path, { config: { public: true } }, async () => ({
      received: seen.received,
      rejected: seen.rejected,
      byEvent: seen.byEvent,
      latest: [...seen.items].reverse(),
    }));
  });
}
