import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MllpClient } from '../../../src/mllp/client.js';
import { MllpDecoder, START_BLOCK, encodeFrame } from '../../../src/mllp/codec.js';
import { isMllpError, type MllpErrorCode } from '../../../src/mllp/errors.js';
import { createMllpServer, type MllpServer } from '../../../src/mllp/server.js';
import { ackInfo, buildTestAck, closedPort, controlIdOf, deferred, sampleMessage, waitFor } from './helpers.js';

/**
 * A scripted peer: for each accepted connection, `behave(connectionIndex)` decides what happens to
 * each decoded frame. Binds 127.0.0.1 on a free port.
 */
type Behaviour = (frame: Buffer, socket: net.Socket) => void;

interface FakePeer {
  port: number;
  connections: number;
  framesSeen: string[];
  sockets: net.Socket[];
  close: () => Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fakePeer(behave: (connectionIndex: number) => Behaviour): Promise<FakePeer> {
  const peer: FakePeer = { port: 0, connections: 0, framesSeen: [], sockets: [], close: async () => {} };
  const server = net.createServer((socket) => {
    const index = peer.connections++;
    peer.sockets.push(socket);
    socket.on('error', () => {});
    const onFrame = behave(index);
    const decoder = new MllpDecoder({
      onFrame: (p) => {
        peer.framesSeen.push(controlIdOf(p));
        onFrame(Buffer.from(p), socket);
      },
    });
    socket.on('data', (chunk: Buffer) => decoder.push(chunk));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  peer.port = (server.address() as net.AddressInfo).port;
  peer.close = async () => {
    for (const s of peer.sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  cleanups.push(peer.close);
  return peer;
}

function client(port: number, extra: Partial<ConstructorParameters<typeof MllpClient>[0]> = {}): MllpClient {
  const c = new MllpClient({ host: '127.0.0.1', port, ackTimeoutMs: 5_000, ...extra });
  cleanups.push(() => c.close());
  return c;
}

async function failureCode(promise: Promise<unknown>): Promise<MllpErrorCode | string> {
  try {
    await promise;
    return 'resolved';
  } catch (err) {
    return isMllpError(err) ? err.code : `not an MllpError: ${String(err)}`;
  }
}

const msg = (id: string) => Buffer.from(sampleMessage(id));
const ackNow: Behaviour = (frame, socket) => socket.write(encodeFrame(buildTestAck(frame)));

describe('MllpClient against our server', () => {
  let server: MllpServer;
  async function start(handler = async (m: Buffer) => buildTestAck(m)) {
    server = createMllpServer({ handler });
    cleanups.push(() => server.close({ drainTimeoutMs: 1_000 }));
    await server.listen();
  }

  it('sends messages sequentially over one connection', async () => {
    await start();
    const c = client(server.port);
    for (const id of ['S1', 'S2', 'S3']) expect(ackInfo(await c.send(msg(id))).controlId).toBe(id);
    expect(server.stats().acceptedConnections).toBe(1);
    expect(c.connected).toBe(true);
  });

  it('queues concurrent send() calls: one outstanding at a time, each gets its own ACK', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    await start(async (m) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return buildTestAck(m);
    });
    const c = client(server.port);
    const ids = Array.from({ length: 20 }, (_, i) => `Q${i}`);
    const acks = await Promise.all(ids.map((id) => c.send(msg(id))));
    expect(acks.map((a) => ackInfo(a).controlId)).toEqual(ids);
    expect(maxInFlight).toBe(1);
  });

  it('reconnects on the next send after the server dropped the connection', async () => {
    await start(async (m) => {
      if (controlIdOf(m) === 'DROP') throw new Error('fail'); // default hook closes without ACK
      return buildTestAck(m);
    });
    const c = client(server.port);
    expect(await failureCode(c.send(msg('DROP')))).toBe('CONNECTION_CLOSED');
    expect(ackInfo(await c.send(msg('AFTER'))).controlId).toBe('AFTER');
    expect(server.stats().acceptedConnections).toBe(2);
  });

  it('reconnects after the server closed an idle connection', async () => {
    server = createMllpServer({ handler: async (m) => buildTestAck(m), idleTimeoutMs: 100 });
    cleanups.push(() => server.close({ drainTimeoutMs: 1_000 }));
    await server.listen();
    const c = client(server.port);
    expect(ackInfo(await c.send(msg('I1'))).controlId).toBe('I1');
    await waitFor(() => !c.connected, 5_000, 'idle close');
    expect(ackInfo(await c.send(msg('I2'))).controlId).toBe('I2');
    expect(server.stats().acceptedConnections).toBe(2);
  });

  it('rejects sends after close(), including queued ones', async () => {
    const release = deferred();
    await start(async (m) => {
      await release.promise;
      return buildTestAck(m);
    });
    const c = client(server.port);
    const first = failureCode(c.send(msg('C1')));
    const queued = failureCode(c.send(msg('C2')));
    await waitFor(() => server.stats().framesReceived === 1);
    await c.close();
    release.resolve();
    expect(await first).toBe('CLIENT_CLOSED');
    expect(await queued).toBe('CLIENT_CLOSED');
    expect(await failureCode(c.send(msg('C3')))).toBe('CLIENT_CLOSED');
  });
});

describe('MllpClient against misbehaving peers', () => {
  it('times out when the peer never answers, and drops the connection', async () => {
    const peer = await fakePeer(() => () => {});
    const c = client(peer.port);
    expect(await failureCode(c.send(msg('SILENT'), { timeoutMs: 100 }))).toBe('ACK_TIMEOUT');
    await waitFor(() => peer.sockets[0]?.destroyed || peer.sockets[0]?.readableEnded === true, 5_000, 'peer to see the drop');
    expect(c.connected).toBe(false);
  });

  it('never matches a late ACK to the next message', async () => {
    // Connection 0 answers only after the client gave up; later connections answer at once.
    const lateAckSent = deferred();
    const peer = await fakePeer((index) =>
      index === 0
        ? (frame, socket) =>
            setTimeout(() => {
              if (!socket.destroyed) socket.write(encodeFrame(buildTestAck(frame)));
              lateAckSent.resolve();
            }, 300)
        : ackNow,
    );
    const c = client(peer.port);
    expect(await failureCode(c.send(msg('FIRST'), { timeoutMs: 50 }))).toBe('ACK_TIMEOUT');
    const second = await c.send(msg('SECOND'));
    await lateAckSent.promise;
    expect(ackInfo(second).controlId).toBe('SECOND');
    expect(peer.connections).toBe(2);
  });

  it('ignores garbage that is not a frame and times out', async () => {
    const peer = await fakePeer(() => (_frame, socket) => socket.write('this is not MLLP\r\n'));
    const c = client(peer.port);
    expect(await failureCode(c.send(msg('G'), { timeoutMs: 150 }))).toBe('ACK_TIMEOUT');
  });

  it('reports a peer that answers garbage and hangs up', async () => {
    const peer = await fakePeer(() => (_frame, socket) => socket.end('garbage'));
    const c = client(peer.port);
    expect(await failureCode(c.send(msg('G')))).toBe('CONNECTION_CLOSED');
  });

  it("returns whatever payload a framed answer holds (checking the ACK is the caller's job)", async () => {
    const peer = await fakePeer(() => (_frame, socket) => socket.write(encodeFrame(Buffer.from('not hl7 at all'))));
    const c = client(peer.port);
    expect((await c.send(msg('W'))).toString()).toBe('not hl7 at all');
  });

  it('reports a peer that closes in the middle of the ACK frame', async () => {
    const peer = await fakePeer(() => (frame, socket) => {
      const ack = encodeFrame(buildTestAck(frame));
      socket.end(ack.subarray(0, ack.length - 5));
    });
    const c = client(peer.port);
    const err = await c.send(msg('MID')).catch((e: unknown) => e);
    expect(isMllpError(err, 'CONNECTION_CLOSED')).toBe(true);
    expect((err as Error).message).toContain('middle of an ACK frame');
    expect((err as Error).message).not.toContain('MID'); // no payload in error messages
  });

  it('reports a connection reset', async () => {
    const peer = await fakePeer(() => (_frame, socket) => socket.resetAndDestroy());
    const c = client(peer.port);
    expect(['SOCKET_ERROR', 'CONNECTION_CLOSED']).toContain(await failureCode(c.send(msg('RST'))));
  });

  it('drops the connection on an unsolicited second answer, then recovers', async () => {
    const peer = await fakePeer(() => (frame, socket) => {
      const ack = encodeFrame(buildTestAck(frame));
      socket.write(Buffer.concat([ack, ack]));
    });
    const c = client(peer.port);
    expect(ackInfo(await c.send(msg('D1'))).controlId).toBe('D1');
    await waitFor(() => !c.connected, 5_000, 'client to drop the out-of-step connection');
    expect(ackInfo(await c.send(msg('D2'))).controlId).toBe('D2');
    expect(peer.connections).toBe(2);
  });

  it('rejects an ACK larger than maxMessageBytes', async () => {
    const peer = await fakePeer(() => (_frame, socket) => socket.write(encodeFrame(Buffer.alloc(5_000, 0x41))));
    const c = client(peer.port, { maxMessageBytes: 1_000 });
    expect(await failureCode(c.send(msg('BIG')))).toBe('FRAME_TOO_LARGE');
  });

  it('fails fast when nothing listens', async () => {
    const c = client(await closedPort());
    expect(await failureCode(c.send(msg('X')))).toBe('CONNECT_FAILED');
  });

  it('times out a TLS connect to a peer that never completes the handshake', async () => {
    const peer = await fakePeer(() => () => {}); // plain TCP: accepts, never speaks TLS
    const c = client(peer.port, { tls: { rejectUnauthorized: false }, connectTimeoutMs: 150 });
    expect(await failureCode(c.send(msg('X')))).toBe('CONNECT_TIMEOUT');
  });

  it('refuses to send a payload that would break framing', async () => {
    const peer = await fakePeer(() => ackNow);
    const c = client(peer.port);
    expect(await failureCode(c.send(Buffer.from([0x41, START_BLOCK, 0x42])))).toBe('INVALID_PAYLOAD');
    expect(ackInfo(await c.send(msg('OK'))).controlId).toBe('OK'); // the queue keeps going
  });
});
