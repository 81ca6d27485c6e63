// The API over real sockets: what app.inject cannot show (TLS and mutual TLS handshakes, a chunked
// upload cut off at the body limit, a client sending the HL7 content types over the wire).
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../../src/api/app.js';
import { silentLog } from '../../../src/observability/log.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { openStore } from '../../../src/store/open-store.js';
import { generateTestPki, type TestPki } from '../../helpers/tls-certs.js';
import { adt, auth, FakeIngest, KEYS, makeConfig } from '../../unit/api/fixtures.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(url: URL, options: RequestOptions, body?: Buffer | Buffer[]): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    // An array is sent as separate chunks without Content-Length (chunked transfer encoding).
    for (const part of Array.isArray(body) ? body : body ? [body] : []) req.write(part);
    req.end();
  });
}

async function listen(config: ReturnType<typeof makeConfig>) {
  const store = await openStore('sqlite::memory:');
  const ingest = new FakeIngest(store);
  const app = buildApi({ config, store, ingest, log: silentLog, metrics: createMetrics({ defaultMetrics: false }) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { app, store, ingest, port };
}

describe('over plain HTTP', () => {
  let server: Awaited<ReturnType<typeof listen>>;
  let base: string;
  beforeAll(async () => {
    server = await listen(makeConfig({ server: { http: { bodyLimitBytes: 4096 } } }));
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server.app.close();
    await server.store.close();
  });

  it('answers an HL7 post with the ACK from the port', async () => {
    const res = await send(
      new URL('/hl7/v2', base),
      { method: 'POST', headers: { ...auth(KEYS.aco), 'content-type': 'x-application/hl7-v2+er7' } },
      Buffer.from(adt('W1')),
    );
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/hl7-v2');
    expect(res.body).toBe(server.ingest.hl7Result.ack);
  });

  it('cuts a chunked upload off at the body limit with 413', async () => {
    const chunk = Buffer.alloc(1024, 0x41);
    const res = await send(
      new URL('/hl7/v2', base),
      { method: 'POST', headers: { ...auth(KEYS.aco), 'content-type': 'application/hl7-v2' } },
      Array.from({ length: 8 }, () => chunk),
    );
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'too-long' }] });
    expect(server.ingest.calls.filter((c) => c.method === 'receiveHl7')).toHaveLength(1);
  });

  it('serves /metrics and /openapi.json to a plain client', async () => {
    const metrics = await send(new URL('/metrics', base), { method: 'GET' });
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('carebridge_queue_depth');
    const doc = await send(new URL('/openapi.json', base), { method: 'GET' });
    expect(JSON.parse(doc.body).paths['/hl7/v2']).toBeDefined();
  });
});

describe('over TLS', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = generateTestPki('aco-feed');
  });
  afterAll(() => pki.cleanup());

  const tlsConfig = (withCa: boolean) =>
    makeConfig({
      server: {
        http: {
          tls: {
            key: join(pki.dir, 'server.key'),
            cert: join(pki.dir, 'server.crt'),
            ...(withCa ? { ca: join(pki.dir, 'ca.crt') } : {}),
          },
        },
      },
    });

  it('serves HTTPS with the configured certificate', async () => {
    const server = await listen(tlsConfig(false));
    try {
      const res = await send(new URL(`https://127.0.0.1:${server.port}/api/messages`), {
        method: 'GET',
        ca: pki.ca,
        headers: auth(KEYS.admin),
      });
      expect(res.status).toBe(200);
      await expect(send(new URL(`https://127.0.0.1:${server.port}/health`), { method: 'GET' })).rejects.toThrow(
        /self.signed|unable to verify|certificate/i,
      );
    } finally {
      await server.app.close();
      await server.store.close();
    }
  });

  it('requires a client certificate signed by the configured CA (mutual TLS)', async () => {
    const server = await listen(tlsConfig(true));
    const url = new URL(`https://127.0.0.1:${server.port}/health`);
    try {
      const ok = await send(url, { method: 'GET', ca: pki.ca, cert: pki.client.cert, key: pki.client.key });
      expect(ok.status).toBe(200);
      await expect(send(url, { method: 'GET', ca: pki.ca })).rejects.toThrow();
      await expect(
        send(url, { method: 'GET', ca: pki.ca, cert: pki.untrustedClient.cert, key: pki.untrustedClient.key }),
      ).rejects.toThrow();
    } finally {
      await server.app.close();
      await server.store.close();
    }
  });
});
