import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MllpClient, type MllpClientTlsOptions } from '../../../src/mllp/client.js';
import type { ConnectionInfo } from '../../../src/mllp/connection-info.js';
import { isMllpError } from '../../../src/mllp/errors.js';
import { createMllpServer, type MllpServer, type MllpTlsOptions, type ConnectionRejection } from '../../../src/mllp/server.js';
import { generateTestPki, type TestPki } from '../../helpers/tls-certs.js';
import { ackInfo, buildTestAck, sampleMessage, sleep, waitFor } from './helpers.js';

let pki: TestPki;
const servers: MllpServer[] = [];
const clients: MllpClient[] = [];

beforeAll(() => {
  pki = generateTestPki('partner-acme');
});
afterAll(() => pki?.cleanup());
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close({ drainTimeoutMs: 1_000 })));
});

interface Started {
  server: MllpServer;
  connections: ConnectionInfo[];
  rejections: ConnectionRejection[];
}

async function startTlsServer(tls: Partial<MllpTlsOptions>): Promise<Started> {
  const connections: ConnectionInfo[] = [];
  const rejections: ConnectionRejection[] = [];
  const server = createMllpServer({
    tls: { key: pki.server.key, cert: pki.server.cert, ...tls },
    handler: async (m, conn) => {
      connections.push(conn);
      return buildTestAck(m);
    },
    events: { connectionRejected: (r) => rejections.push(r) },
  });
  servers.push(server);
  await server.listen();
  return { server, connections, rejections };
}

function tlsClient(server: MllpServer, tls: MllpClientTlsOptions): MllpClient {
  const client = new MllpClient({ host: '127.0.0.1', port: server.port, tls, ackTimeoutMs: 5_000, connectTimeoutMs: 5_000 });
  clients.push(client);
  return client;
}

describe('MLLP over TLS', () => {
  it('exchanges a message over TLS and reports a TLS connection without a peer certificate', async () => {
    const { server, connections } = await startTlsServer({});
    const client = tlsClient(server, { ca: pki.ca });
    const ack = await client.send(Buffer.from(sampleMessage('TLS1')));
    expect(ackInfo(ack)).toEqual({ code: 'AA', controlId: 'TLS1' });
    expect(connections[0]).toMatchObject({ tls: true });
    expect(connections[0].peerCertificate).toBeUndefined();
  });

  it('fails to connect when the client does not trust the server certificate', async () => {
    const { server } = await startTlsServer({});
    const client = tlsClient(server, {}); // Node's public roots only
    const err = await client.send(Buffer.from(sampleMessage('X'))).catch((e: unknown) => e);
    expect(isMllpError(err, 'CONNECT_FAILED')).toBe(true);
  });

  describe('mutual TLS', () => {
    const mtls = () => ({ ca: pki.ca, requestCert: true, rejectUnauthorized: true });

    it('accepts a client certificate from the trusted CA and exposes its CN and fingerprint', async () => {
      const { server, connections } = await startTlsServer(mtls());
      const client = tlsClient(server, { ca: pki.ca, cert: pki.client.cert, key: pki.client.key });
      const ack = await client.send(Buffer.from(sampleMessage('MTLS')));
      expect(ackInfo(ack).controlId).toBe('MTLS');
      const expectedFingerprint = new X509Certificate(pki.client.cert).fingerprint256;
      expect(connections[0]).toMatchObject({
        tls: true,
        authorized: true,
        peerCertificate: { subjectCN: 'partner-acme', issuerCN: 'carebridge test CA', fingerprint256: expectedFingerprint },
      });
    });

    it('refuses a client without a certificate; the handler never runs', async () => {
      const { server, connections, rejections } = await startTlsServer(mtls());
      const client = tlsClient(server, { ca: pki.ca });
      const err = await client.send(Buffer.from(sampleMessage('NOCERT'))).catch((e: unknown) => e);
      // TLS 1.3 finishes the client side of the handshake before the server's verdict arrives,
      // so the refusal surfaces either at connect or on the first exchange.
      expect(isMllpError(err)).toBe(true);
      expect(['CONNECT_FAILED', 'SOCKET_ERROR', 'CONNECTION_CLOSED']).toContain((err as { code: string }).code);
      await waitFor(() => rejections.length === 1);
      expect(rejections[0].reason).toBe('tls-handshake');
      expect(connections).toEqual([]);
    });

    it('refuses a client certificate signed by another CA', async () => {
      const { server, connections, rejections } = await startTlsServer(mtls());
      const client = tlsClient(server, { ca: pki.ca, cert: pki.untrustedClient.cert, key: pki.untrustedClient.key });
      const err = await client.send(Buffer.from(sampleMessage('ROGUE'))).catch((e: unknown) => e);
      expect(isMllpError(err)).toBe(true);
      await waitFor(() => rejections.length === 1);
      expect(connections).toEqual([]);
    });

    it('with rejectUnauthorized off, lets the gateway decide: unverified certificates are flagged', async () => {
      const { server, connections } = await startTlsServer({ ...mtls(), rejectUnauthorized: false });
      const client = tlsClient(server, { ca: pki.ca, cert: pki.untrustedClient.cert, key: pki.untrustedClient.key });
      await client.send(Buffer.from(sampleMessage('FLAGGED')));
      expect(connections[0].authorized).toBe(false);
      expect(connections[0].authorizationError).toBeTruthy();
      expect(connections[0].peerCertificate?.subjectCN).toBe('partner-acme');
    });
  });
});

describe('TLS shutdown', () => {
  it('close() does not wait for a client stuck before its TLS handshake', async () => {
    const { server } = await startTlsServer({ handshakeTimeoutMs: 60_000 });
    const socket = net.connect({ host: '127.0.0.1', port: server.port });
    socket.on('error', () => {});
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    await sleep(100); // let the server accept it (there is no server-side event before the handshake)
    await server.close({ drainTimeoutMs: 60_000 }); // would hang until the handshake timeout without the fix
    await closed;
  });
});
