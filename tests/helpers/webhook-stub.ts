/**
 * A local webhook receiver for tests (127.0.0.1, free port) that behaves like a careful partner:
 * verifies the HMAC signature and timestamp, requires JSON (or HL7 v2 text) and an Idempotency-Key, counts
 * deliveries per key (a count above 1 is a duplicate the receiver had to absorb), and can be told
 * to fail the next N requests like the FHIR stub.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { verifyWebhookSignature, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../src/delivery/webhook-signature.js';
import {
  FailureQueue,
  applyFailure,
  closeServer,
  listenOnLoopback,
  readBody,
  type InjectedFailure,
  type RecordedRequest,
} from './fhir-stub.js';

export interface WebhookDelivery {
  idempotencyKey: string;
  body: unknown;
  headers: IncomingMessage['headers'];
}

export interface WebhookStub {
  /** `http://127.0.0.1:<port>/hook` */
  readonly url: string;
  readonly failures: FailureQueue;
  /** Every request, including failed and rejected ones. */
  readonly requests: RecordedRequest[];
  /** Accepted (verified, 2xx-answered) deliveries in arrival order. */
  readonly accepted: WebhookDelivery[];
  /** Accepted deliveries per Idempotency-Key. */
  readonly countsByKey: Map<string, number>;
  /** Requests refused for a bad signature, with the reason. */
  readonly rejectedSignatures: string[];
  failNext(count: number, failure: InjectedFailure): void;
  close(): Promise<void>;
}

export async function startWebhookStub(options: { secret: string; toleranceSec?: number }): Promise<WebhookStub> {
  const failures = new FailureQueue();
  const requests: RecordedRequest[] = [];
  const accepted: WebhookDelivery[] = [];
  const countsByKey = new Map<string, number>();
  const rejectedSignatures: string[] = [];

  const reply = (res: ServerResponse, status: number, body: object) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const raw = await readBody(req);
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: raw });
    const failure = failures.take();
    if (failure) return applyFailure(failure, req, res);
    if (req.method !== 'POST' || req.url !== '/hook') return reply(res, 404, { error: 'not found' });

    const check = verifyWebhookSignature(
      options.secret,
      { signature: header(req, SIGNATURE_HEADER), timestamp: header(req, TIMESTAMP_HEADER) },
      raw,
      { toleranceSec: options.toleranceSec },
    );
    if (!check.ok) {
      rejectedSignatures.push(check.reason);
      return reply(res, 401, { error: `signature ${check.reason}` });
    }
    const type = String(req.headers['content-type'] ?? '');
    let body: unknown;
    if (type.startsWith('application/hl7-v2')) {
      // A passthrough route's raw HL7 v2 message: kept as text.
      body = raw;
    } else {
      if (!type.startsWith('application/json')) return reply(res, 415, { error: 'expected JSON or HL7 v2' });
      try {
        body = JSON.parse(raw);
      } catch {
        return reply(res, 400, { error: 'body is not JSON' });
      }
    }
    const key = header(req, 'idempotency-key');
    if (!key) return reply(res, 400, { error: 'missing Idempotency-Key' });
    accepted.push({ idempotencyKey: key, body, headers: req.headers });
    countsByKey.set(key, (countsByKey.get(key) ?? 0) + 1);
    reply(res, 200, { received: key });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) reply(res, 500, { error: 'stub error' });
    });
  });
  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}/hook`,
    failures,
    requests,
    accepted,
    countsByKey,
    rejectedSignatures,
    failNext: (count, f) => failures.failNext(count, f),
    close: () => closeServer(server),
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
