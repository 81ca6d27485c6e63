import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deliverWebhook } from '../../../src/delivery/deliverers/webhook.js';
import { postBody } from '../../../src/delivery/http-post.js';
import { closeServer, listenOnLoopback, readBody } from '../../helpers/fhir-stub.js';
import { generateTestPki, type TestPki } from '../../helpers/tls-certs.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let handler: Handler;
let server: Server;
let url: string;
/** Remote port of every request's socket: equal ports mean a reused connection. */
const clientPorts: number[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    clientPorts.push(req.socket.remotePort ?? -1);
    handler(req, res);
  });
  const port = await listenOnLoopback(server);
  url = `http://127.0.0.1:${port}/in`;
});
afterEach(() => {
  clientPorts.length = 0;
});
afterAll(async () => {
  await closeServer(server);
});

const ok: Handler = (req, res) => {
  void readBody(req).then(() => res.end('ok'));
};

describe('postBody (keep-alive POST)', () => {
  it('sends the body with a content-length and returns status and headers', async () => {
    let seen: { body: string; length?: string; type?: string } | undefined;
    handler = (req, res) => {
      void readBody(req).then((body) => {
        seen = { body, length: req.headers['content-length'], type: req.headers['content-type'] };
        res.writeHead(201, { 'x-answer': '42' }).end();
      });
    };
    const body = Buffer.from('{"é":1}');
    const result = await postBody(url, { 'content-type': 'application/json' }, body, { timeoutMs: 2000 });
    expect(result.status).toBe(201);
    expect(result.headers['x-answer']).toBe('42');
    expect(seen).toEqual({ body: '{"é":1}', length: String(body.length), type: 'application/json' });
  });

  it('reuses one connection for sequential requests', async () => {
    handler = ok;
    for (let i = 0; i < 3; i++) await postBody(url, {}, Buffer.from('x'), { timeoutMs: 2000 });
    expect(clientPorts).toHaveLength(3);
    expect(new Set(clientPorts).size).toBe(1);
  });

  it('answers at the status line and drops a connection whose body exceeds the limit', async () => {
    handler = (req, res) => {
      void readBody(req).then(() => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.write(Buffer.alloc(64 * 1024, 'a'));
        res.end(Buffer.alloc(64 * 1024, 'b'));
      });
    };
    const big = await postBody(url, {}, Buffer.from('x'), { timeoutMs: 2000, maxResponseBytes: 1024 });
    expect(big.status).toBe(500);
    handler = ok;
    await expect(postBody(url, {}, Buffer.from('x'), { timeoutMs: 2000 })).resolves.toMatchObject({ status: 200 });
    // The oversized answer's connection was not handed back to the pool.
    expect(new Set(clientPorts).size).toBe(2);
  });

  it('does not wait for a body that never ends', async () => {
    handler = (req, res) => {
      void readBody(req).then(() => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('partial');
      });
    };
    await expect(postBody(url, {}, Buffer.from('x'), { timeoutMs: 5000 })).resolves.toMatchObject({ status: 200 });
  });

  it('aborts with AbortError when no answer comes in time', async () => {
    handler = () => {};
    await expect(postBody(url, {}, Buffer.from('x'), { timeoutMs: 100 })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('rejects non-HTTP URLs', async () => {
    await expect(postBody('ftp://127.0.0.1/x', {}, Buffer.from('x'), { timeoutMs: 100 })).rejects.toThrow(/unsupported protocol/);
  });
});

describe('webhook over HTTPS', () => {
  let pki: TestPki;
  let tlsServer: Server;
  let tlsUrl: string;

  beforeAll(async () => {
    pki = generateTestPki();
    tlsServer = createTlsServer({ cert: pki.server.cert, key: pki.server.key }, (req, res) => void readBody(req).then(() => res.end()));
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
    tlsUrl = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    await closeServer(tlsServer);
    pki.cleanup();
  });

  it('verifies the server certificate: an untrusted one is a retryable network error, nothing delivered', async () => {
    const outcome = await deliverWebhook(
      { a: 1 },
      { id: 'tls', type: 'webhook', url: tlsUrl, secret: 's', timeoutMs: 2000 },
      { deliveryId: 'd', attempt: 1 },
    );
    expect(outcome.kind).toBe('retry');
    expect(outcome.error).toMatch(/^network error \(/);
  });
});
