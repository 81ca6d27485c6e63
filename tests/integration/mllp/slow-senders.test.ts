/**
 * Issue 11.2: slow senders must not hold MLLP connections forever. A frame has a deadline from its
 * start byte (bytes trickling in do not extend it, unlike the idle timeout), and connections are
 * limited per listener and per remote address. Real sockets; small deadlines keep the tests short.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { END_BLOCK, CARRIAGE_RETURN, START_BLOCK } from '../../../src/mllp/codec.js';
import { createMllpServer, type ConnectionRejection, type MllpServer, type MllpServerOptions } from '../../../src/mllp/server.js';
import type { ConnectionCloseReason } from '../../../src/mllp/session.js';
import { RawMllpPeer, ackInfo, buildTestAck, sampleMessage, sleep, waitFor } from './helpers.js';

const servers: MllpServer[] = [];
const peers: RawMllpPeer[] = [];

afterEach(async () => {
  for (const p of peers.splice(0)) p.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close({ drainTimeoutMs: 1_000 })));
});

async function startServer(options: Partial<MllpServerOptions> = {}): Promise<MllpServer> {
  const server = createMllpServer({ handler: async (m) => buildTestAck(m), ...options });
  servers.push(server);
  await server.listen();
  return server;
}

async function rawPeer(server: MllpServer): Promise<RawMllpPeer> {
  const peer = await RawMllpPeer.connect(server.port);
  peers.push(peer);
  return peer;
}

/** Writes `bytes` one at a time, `everyMs` apart, until done or the connection is gone. */
async function drip(peer: RawMllpPeer, bytes: Buffer, everyMs: number): Promise<void> {
  for (const b of bytes) {
    if (peer.isClosed) return;
    await peer.write(Buffer.from([b])).catch(() => undefined);
    await sleep(everyMs);
  }
}

/** Writes `bytes` in `n` pieces, `everyMs` apart. */
async function inPieces(peer: RawMllpPeer, bytes: Buffer, n: number, everyMs: number): Promise<void> {
  const size = Math.ceil(bytes.length / n);
  for (let i = 0; i < bytes.length; i += size) {
    await peer.write(bytes.subarray(i, i + size));
    await sleep(everyMs);
  }
}

const framed = (text: string) =>
  Buffer.concat([Buffer.from([START_BLOCK]), Buffer.from(text, 'latin1'), Buffer.from([END_BLOCK, CARRIAGE_RETURN])]);

describe('MLLP slow senders (issue 11.2)', () => {
  it('closes a connection whose frame does not complete within frameTimeoutMs, even while bytes trickle in', async () => {
    const reasons: ConnectionCloseReason[] = [];
    const server = await startServer({ idleTimeoutMs: 200, frameTimeoutMs: 500, events: { connectionClosed: (_c, r) => reasons.push(r) } });
    const peer = await rawPeer(server);
    // One byte every 50 ms: never idle for 200 ms, and the frame never ends.
    void drip(peer, Buffer.concat([Buffer.from([START_BLOCK]), Buffer.from('MSH|^~\\&|'.repeat(20), 'latin1')]), 50);
    await Promise.race([peer.closed, sleep(8_000)]);
    expect(peer.isClosed).toBe(true);
    await waitFor(() => reasons.length === 1);
    expect(reasons).toEqual(['frame-timeout']);
    expect(peer.frames).toEqual([]);
  });

  it('the deadline runs per frame: frames that each arrive in time are answered, and a pause between frames is not counted', async () => {
    const server = await startServer({ frameTimeoutMs: 1_500 });
    const peer = await rawPeer(server);
    await inPieces(peer, framed(sampleMessage('SLOW-1')), 5, 60);
    await sleep(2_000); // between frames: no frame is open
    await inPieces(peer, framed(sampleMessage('SLOW-2')), 5, 60);
    const acks = await peer.waitForFrames(2);
    expect(acks.map((a) => ackInfo(a).controlId)).toEqual(['SLOW-1', 'SLOW-2']);
    expect(peer.isClosed).toBe(false);
  });

  it('refuses connections beyond maxConnectionsPerAddress while others keep working', async () => {
    const rejected: ConnectionRejection[] = [];
    const server = await startServer({ maxConnectionsPerAddress: 2, events: { connectionRejected: (r) => rejected.push(r) } });
    const a = await rawPeer(server);
    const b = await rawPeer(server);
    const c = await rawPeer(server);
    await c.closed;
    expect(rejected).toEqual([{ reason: 'max-connections-per-address', remoteAddress: expect.stringContaining('127.0.0.1') }]);
    await a.write(framed(sampleMessage('A')));
    await b.write(framed(sampleMessage('B')));
    expect(ackInfo((await a.waitForFrames(1))[0]).controlId).toBe('A');
    expect(ackInfo((await b.waitForFrames(1))[0]).controlId).toBe('B');
    // A slot freed is a slot available again.
    a.destroy();
    await a.closed;
    await waitFor(() => server.stats().openConnections === 1);
    const d = await rawPeer(server);
    await d.write(framed(sampleMessage('D')));
    expect(ackInfo((await d.waitForFrames(1))[0]).controlId).toBe('D');
  });
});
