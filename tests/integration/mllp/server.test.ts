import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MllpClient } from '../../../src/mllp/client.js';
import { START_BLOCK, END_BLOCK, CARRIAGE_RETURN, encodeFrame } from '../../../src/mllp/codec.js';
import type { ConnectionInfo } from '../../../src/mllp/connection-info.js';
import { isMllpError } from '../../../src/mllp/errors.js';
import { createMllpServer, type MllpServer, type MllpServerOptions } from '../../../src/mllp/server.js';
import type { ConnectionCloseReason } from '../../../src/mllp/session.js';
import { RawMllpPeer, ackInfo, buildTestAck, controlIdOf, deferred, sampleMessage, sleep, waitFor } from './helpers.js';

const servers: MllpServer[] = [];
const clients: MllpClient[] = [];
const peers: RawMllpPeer[] = [];

afterEach(async () => {
  for (const p of peers.splice(0)) p.destroy();
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close({ drainTimeoutMs: 1_000 })));
});

async function startServer(options: Partial<MllpServerOptions> = {}): Promise<MllpServer> {
  const server = createMllpServer({ handler: async (m) => buildTestAck(m), ...options });
  servers.push(server);
  await server.listen();
  return server;
}

function clientFor(server: MllpServer): MllpClient {
  const client = new MllpClient({ host: '127.0.0.1', port: server.port, ackTimeoutMs: 10_000 });
  clients.push(client);
  return client;
}

async function rawPeer(server: MllpServer): Promise<RawMllpPeer> {
  const peer = await RawMllpPeer.connect(server.port);
  peers.push(peer);
  return peer;
}

describe('MllpServer', () => {
  it('binds 127.0.0.1 on a free port by default', async () => {
    const server = createMllpServer({ handler: async (m) => buildTestAck(m) });
    servers.push(server);
    const address = await server.listen();
    expect(address.host).toBe('127.0.0.1');
    expect(address.port).toBeGreaterThan(0);
    expect(server.port).toBe(address.port);
  });

  it('answers several messages on one connection, in order', async () => {
    const seen: string[] = [];
    const server = await startServer({
      handler: async (m) => {
        seen.push(controlIdOf(m));
        return buildTestAck(m);
      },
    });
    const client = clientFor(server);
    for (let i = 1; i <= 5; i++) {
      const ack = await client.send(Buffer.from(sampleMessage(`C${i}`)));
      expect(ackInfo(ack)).toEqual({ code: 'AA', controlId: `C${i}` });
    }
    expect(seen).toEqual(['C1', 'C2', 'C3', 'C4', 'C5']);
    expect(server.stats()).toMatchObject({ framesReceived: 5, acksWritten: 5, handlerFailures: 0 });
  });

  it('never hands message 2 to the handler before ACK 1 is written', async () => {
    const log: string[] = [];
    const release = deferred();
    let framesReceived = 0;
    const server = await startServer({
      handler: async (m) => {
        const id = controlIdOf(m);
        log.push(`handle ${id}`);
        if (id === 'P1') await release.promise;
        return buildTestAck(m);
      },
      events: {
        frameReceived: () => framesReceived++,
        ackWritten: () => log.push('ack written'),
      },
    });
    const peer = await rawPeer(server);
    // Pipelined: all three frames in one write, without waiting for any ACK.
    await peer.write(Buffer.concat(['P1', 'P2', 'P3'].map((id) => encodeFrame(Buffer.from(sampleMessage(id))))));
    await waitFor(() => framesReceived === 3, 10_000, 'all frames decoded');
    expect(log).toEqual(['handle P1']); // P2 and P3 are decoded, yet held back
    release.resolve();
    const acks = await peer.waitForFrames(3);
    expect(acks.map((a) => ackInfo(a).controlId)).toEqual(['P1', 'P2', 'P3']);
    expect(log).toEqual(['handle P1', 'ack written', 'handle P2', 'ack written', 'handle P3', 'ack written']);
  });

  it('processes 50 concurrent connections in parallel', async () => {
    const connections = 50;
    const perConnection = 4;
    const firstMessages = deferred();
    let firstSeen = 0;
    const server = await startServer({
      handler: async (m) => {
        // Barrier: every connection's first message must be in flight at the same time, which can only
        // happen if connections are served in parallel (a serial server would hang here).
        if (controlIdOf(m).endsWith('-0')) {
          firstSeen++;
          if (firstSeen === connections) firstMessages.resolve();
          await firstMessages.promise;
        }
        await new Promise((r) => setImmediate(r));
        return buildTestAck(m);
      },
    });
    const results = await Promise.all(
      Array.from({ length: connections }, async (_, c) => {
        const client = clientFor(server);
        const ids: string[] = [];
        for (let i = 0; i < perConnection; i++) {
          const ack = await client.send(Buffer.from(sampleMessage(`K${c}-${i}`)));
          ids.push(ackInfo(ack).controlId);
        }
        return ids;
      }),
    );
    results.forEach((ids, c) => expect(ids).toEqual(Array.from({ length: perConnection }, (_, i) => `K${c}-${i}`)));
    expect(server.stats()).toMatchObject({ acceptedConnections: connections, acksWritten: connections * perConnection });
  });

  it('reassembles a frame written one byte at a time', async () => {
    const received: string[] = [];
    const server = await startServer({
      handler: async (m) => {
        received.push(m.toString('latin1'));
        return buildTestAck(m);
      },
    });
    const peer = await rawPeer(server);
    const message = sampleMessage('BYTES');
    for (const byte of encodeFrame(Buffer.from(message))) {
      await peer.write(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
    const [ack] = await peer.waitForFrames(1);
    expect(ackInfo(ack).controlId).toBe('BYTES');
    expect(received).toEqual([message]);
  });

  it('skips garbage between frames, reports it, and still answers every message', async () => {
    const issues: string[] = [];
    const server = await startServer({ events: { protocolIssue: (_c, i) => issues.push(`${i.kind}:${i.bytes}`) } });
    const peer = await rawPeer(server);
    await peer.write(
      Buffer.concat([
        Buffer.from('noise'),
        encodeFrame(Buffer.from(sampleMessage('G1'))),
        Buffer.from('\r\n'),
        encodeFrame(Buffer.from(sampleMessage('G2'))),
      ]),
    );
    const acks = await peer.waitForFrames(2);
    expect(acks.map((a) => ackInfo(a).controlId)).toEqual(['G1', 'G2']);
    expect(issues).toEqual(['garbage:5']);
  });

  it('answers a long pipelined burst in order (read backpressure path)', async () => {
    const server = await startServer();
    const peer = await rawPeer(server);
    const ids = Array.from({ length: 300 }, (_, i) => `B${i}`);
    await peer.write(Buffer.concat(ids.map((id) => encodeFrame(Buffer.from(sampleMessage(id))))));
    const acks = await peer.waitForFrames(ids.length);
    expect(acks.map((a) => ackInfo(a).controlId)).toEqual(ids);
  });

  it('still answers a sender that half-closes right after its frame', async () => {
    const server = await startServer();
    const peer = await rawPeer(server);
    await peer.writeMessage(sampleMessage('HALF'));
    peer.socket.end();
    const [ack] = await peer.waitForFrames(1);
    expect(ackInfo(ack).controlId).toBe('HALF');
    await peer.closed;
  });

  describe('idle timeout', () => {
    it('closes a connection that stays silent', async () => {
      const reasons: ConnectionCloseReason[] = [];
      const server = await startServer({ idleTimeoutMs: 150, events: { connectionClosed: (_c, r) => reasons.push(r) } });
      const peer = await rawPeer(server);
      await peer.closed;
      await waitFor(() => reasons.length === 1);
      expect(reasons).toEqual(['idle-timeout']);
    });

    it('closes a connection stuck in the middle of a frame', async () => {
      const server = await startServer({ idleTimeoutMs: 150 });
      const peer = await rawPeer(server);
      await peer.write(Buffer.from([START_BLOCK, 0x4d, 0x53, 0x48]));
      await peer.closed;
      expect(peer.frames).toEqual([]);
    });

    it('does not count a slow handler as idleness', async () => {
      const server = await startServer({
        idleTimeoutMs: 100,
        handler: async (m) => {
          await sleep(400);
          return buildTestAck(m);
        },
      });
      const peer = await rawPeer(server);
      await peer.writeMessage(sampleMessage('SLOW'));
      const [ack] = await peer.waitForFrames(1);
      expect(ackInfo(ack).controlId).toBe('SLOW');
      await peer.closed; // and the idle timer applies again afterwards
    });
  });

  describe('max message size', () => {
    const nackFromHead = (head: Buffer) => buildTestAck(head, 'AR');
    const bigMessage = (id: string) => `${sampleMessage(id)}\rNTE|1||${'x'.repeat(5_000)}`;

    it('calls onOversize, sends its NACK, and keeps serving the connection', async () => {
      const seen: string[] = [];
      let oversize: { limit: number; receivedBytes: number } | undefined;
      const server = await startServer({
        maxMessageBytes: 1_000,
        handler: async (m) => {
          seen.push(controlIdOf(m));
          return buildTestAck(m);
        },
        onOversize: (frame) => {
          oversize = { limit: frame.limit, receivedBytes: frame.receivedBytes };
          return nackFromHead(frame.head);
        },
      });
      const client = clientFor(server);
      const nack = await client.send(Buffer.from(bigMessage('HUGE')));
      expect(ackInfo(nack)).toEqual({ code: 'AR', controlId: 'HUGE' });
      expect(oversize?.limit).toBe(1_000);
      expect(oversize!.receivedBytes).toBeGreaterThan(1_000);
      const ack = await client.send(Buffer.from(sampleMessage('SMALL')));
      expect(ackInfo(ack)).toEqual({ code: 'AA', controlId: 'SMALL' });
      expect(seen).toEqual(['SMALL']); // the oversize message never reached the handler
      expect(server.stats().oversizeFrames).toBe(1);
    });

    it("closes after the NACK with oversizeAction 'close'", async () => {
      const server = await startServer({
        maxMessageBytes: 1_000,
        oversizeAction: 'close',
        onOversize: (frame) => nackFromHead(frame.head),
      });
      const peer = await rawPeer(server);
      await peer.writeMessage(bigMessage('HUGE'));
      await peer.closed;
      expect(peer.frames.map((f) => ackInfo(f))).toEqual([{ code: 'AR', controlId: 'HUGE' }]);
    });

    it('closes without an answer when no onOversize hook is set', async () => {
      const server = await startServer({ maxMessageBytes: 1_000 });
      const peer = await rawPeer(server);
      await peer.writeMessage(bigMessage('HUGE'));
      await peer.closed;
      expect(peer.frames).toEqual([]);
    });
  });

  describe('handler failures', () => {
    it('closes the connection without an ACK by default, and keeps running', async () => {
      const failures: unknown[] = [];
      const server = await startServer({
        handler: async (m) => {
          if (controlIdOf(m) === 'BOOM') throw new Error('store unavailable');
          return buildTestAck(m);
        },
        events: { handlerFailed: (_c, err) => failures.push(err) },
      });
      const client = clientFor(server);
      const failed = await client.send(Buffer.from(sampleMessage('BOOM'))).catch((e: unknown) => e);
      expect(isMllpError(failed, 'CONNECTION_CLOSED')).toBe(true);
      expect(failures).toHaveLength(1);
      // The server is still up; the client reconnects on the next send.
      const ack = await client.send(Buffer.from(sampleMessage('OK')));
      expect(ackInfo(ack).controlId).toBe('OK');
    });

    it('sends what onHandlerError returns and continues on the same connection', async () => {
      const server = await startServer({
        handler: async (m) => {
          if (controlIdOf(m) === 'BOOM') throw new Error('mapping failed');
          return buildTestAck(m);
        },
        onHandlerError: (_err, _conn, message) => buildTestAck(message, 'AE'),
      });
      const peer = await rawPeer(server);
      await peer.writeMessage(sampleMessage('BOOM'));
      await peer.writeMessage(sampleMessage('NEXT'));
      const acks = await peer.waitForFrames(2);
      expect(acks.map(ackInfo)).toEqual([
        { code: 'AE', controlId: 'BOOM' },
        { code: 'AA', controlId: 'NEXT' },
      ]);
      expect(peer.isClosed).toBe(false);
    });

    it('treats a non-Buffer handler result as a failure', async () => {
      const errors: unknown[] = [];
      const server = await startServer({
        handler: (async () => 'not a buffer') as unknown as MllpServerOptions['handler'],
        onHandlerError: (err, _conn, message) => {
          errors.push(err);
          return buildTestAck(message, 'AE');
        },
      });
      const client = clientFor(server);
      expect(ackInfo(await client.send(Buffer.from(sampleMessage('X')))).code).toBe('AE');
      expect(isMllpError(errors[0], 'INVALID_HANDLER_RESULT')).toBe(true);
    });

    it('keeps serving when observability hooks throw', async () => {
      const boom = () => {
        throw new Error('metrics broke');
      };
      const server = await startServer({
        events: { connectionOpened: boom, frameReceived: boom, ackWritten: boom, bytesReceived: boom, connectionClosed: boom },
      });
      const client = clientFor(server);
      expect(ackInfo(await client.send(Buffer.from(sampleMessage('H1')))).controlId).toBe('H1');
      expect(ackInfo(await client.send(Buffer.from(sampleMessage('H2')))).controlId).toBe('H2');
      expect(server.stats()).toMatchObject({ framesReceived: 2, acksWritten: 2 });
    });

    it('survives a handler that throws synchronously and an error hook that throws', async () => {
      const server = await startServer({
        handler: () => {
          throw new Error('sync failure');
        },
        onHandlerError: () => {
          throw new Error('hook failure');
        },
      });
      const peer = await rawPeer(server);
      await peer.writeMessage(sampleMessage('X'));
      await peer.closed;
      expect(peer.frames).toEqual([]);
      const again = await rawPeer(server); // still accepting
      expect(again.isClosed).toBe(false);
    });
  });

  describe('connection info and limits', () => {
    it('passes the connection identity to the handler', async () => {
      const infos: ConnectionInfo[] = [];
      const server = await startServer({
        handler: async (m, conn) => {
          infos.push(conn);
          return buildTestAck(m);
        },
      });
      const a = clientFor(server);
      const b = clientFor(server);
      await a.send(Buffer.from(sampleMessage('A')));
      await b.send(Buffer.from(sampleMessage('B')));
      expect(infos[0]).toMatchObject({ remoteAddress: '127.0.0.1', localPort: server.port, tls: false, authorized: false });
      expect(infos[0].remotePort).toBeGreaterThan(0);
      expect(infos[0].id).not.toBe(infos[1].id);
      expect(infos[0].peerCertificate).toBeUndefined();
    });

    it('refuses connections beyond maxConnections', async () => {
      let opened = 0;
      const rejected: string[] = [];
      const server = await startServer({
        maxConnections: 2,
        events: { connectionOpened: () => opened++, connectionRejected: (r) => rejected.push(r.reason) },
      });
      await rawPeer(server);
      await rawPeer(server);
      await waitFor(() => opened === 2);
      const third = await rawPeer(server);
      await third.closed;
      expect(rejected).toEqual(['max-connections']);
      expect(server.stats()).toMatchObject({ openConnections: 2, rejectedConnections: 1 });
    });
  });

  describe('close()', () => {
    it('stops accepting, lets the in-flight message finish and its ACK be written, then closes', async () => {
      const release = deferred();
      const started = deferred();
      const server = await startServer({
        handler: async (m) => {
          started.resolve();
          await release.promise;
          return buildTestAck(m);
        },
      });
      const port = server.port;
      const busy = await rawPeer(server);
      const idle = await rawPeer(server);
      await busy.writeMessage(sampleMessage('INFLIGHT'));
      await started.promise;

      let closeDone = false;
      const closing = server.close().then(() => (closeDone = true));
      await idle.closed; // idle connections go at once
      const refused = await new Promise<string>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port });
        s.once('connect', () => {
          s.destroy();
          resolve('connected');
        });
        s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      });
      expect(refused).toBe('ECONNREFUSED');
      expect(closeDone).toBe(false);

      release.resolve();
      const [ack] = await busy.waitForFrames(1);
      expect(ackInfo(ack).controlId).toBe('INFLIGHT');
      await busy.closed;
      await closing;
      expect(server.stats().openConnections).toBe(0);
    });

    it('destroys connections still busy after the drain timeout', async () => {
      const server = await startServer({ handler: () => new Promise<Buffer>(() => {}) });
      const peer = await rawPeer(server);
      await peer.writeMessage(sampleMessage('STUCK'));
      await waitFor(() => server.stats().framesReceived === 1);
      await server.close({ drainTimeoutMs: 100 });
      await peer.closed;
      expect(peer.frames).toEqual([]);
    });
  });

  it('answers a frame whose trailing CR is missing', async () => {
    const server = await startServer();
    const peer = await rawPeer(server);
    await peer.write(Buffer.concat([Buffer.from([START_BLOCK]), Buffer.from(sampleMessage('NOCR')), Buffer.from([END_BLOCK])]));
    const [ack] = await peer.waitForFrames(1);
    expect(ackInfo(ack).controlId).toBe('NOCR');
    expect(ack.includes(CARRIAGE_RETURN)).toBe(true);
  });
});
