import type { FastifyInstance } from 'fastify';
import { ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature } from '../delivery/webhook-signature.js';

/**
 * The demo feed's receiving end, hosted by the gateway itself so `carebridge start` shows a full
 * round trip with nothing else installed: POST /demo/receiver checks the webhook signature and
 * keeps a count; GET /demo/receiver reports what arrived (counts and event codes, no PHI).
 */
export function registerDemoReceiver(app: FastifyInstance, secret: string): void {
  const seen = { received: 0, rejected: 0, byEvent: {} as Record<string, number>, idempotencyKeys: new Set<string>() };
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    scope.post('/demo/receiver', { config: { public: true } }, async (req, reply) => {
      const body = req.body as Buffer;
      const check = verifyWebhookSignature(secret, { id: req.headers[ID_HEADER] as string, signature: req.headers[SIGNATURE_HEADER] as string, timestamp: req.headers[TIMESTAMP_HEADER] as string }, body);
      if (!check.ok) {
        seen.rejected++;
        return reply.code(401).send({ error: `signature ${check.reason}` });
      }
      const key = String(req.headers['idempotency-key'] ?? '');
      if (key && seen.idempotencyKeys.has(key)) return reply.code(200).send({ duplicate: true });
      if (key) seen.idempotencyKeys.add(key);
      seen.received++;
      try {
        const bundle = JSON.parse(body.toString('utf8')) as { entry?: { resource?: { resourceType?: string; eventCoding?: { code?: string } } }[] };
        const event = bundle.entry?.[0]?.resource?.eventCoding?.code ?? 'unknown';
        seen.byEvent[event] = (seen.byEvent[event] ?? 0) + 1;
      } catch {
        // Not JSON: counted, nothing else to show.
      }
      return reply.code(200).send({ ok: true });
    });
    scope.get('/demo/receiver', { config: { public: true } }, async () => ({ received: seen.received, rejected: seen.rejected, byEvent: seen.byEvent }));
  });
}
