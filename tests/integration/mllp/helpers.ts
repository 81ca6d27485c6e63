/**
 * Test-only helpers: sample messages, a trivial string-built ACK (the real ACK builder lives in
 * src/hl7v2), raw sockets that speak MLLP by hand, and small async utilities.
 */
import net from 'node:net';
import { MllpDecoder, encodeFrame } from '../../../src/mllp/codec.js';

export function sampleMessage(controlId: string, event = 'A01'): string {
  return [
    `MSH|^~\\&|SENDAPP|SENDFAC|CAREBRIDGE|CBFAC|20240105123000||ADT^${event}^ADT_${event}|${controlId}|P|2.5.1`,
    `EVN|${event}|20240105123000`,
    'PID|1||MRN12345^^^HOSP^MR||DOE^JANE||19800101|F',
    'PV1|1|E',
  ].join('\r');
}

/** MSH-10 read by plain string splitting (tests only). */
export function controlIdOf(message: Buffer | string): string {
  const text = typeof message === 'string' ? message : message.toString('latin1');
  const msh = text.split(/\r\n|\r|\n/)[0] ?? '';
  return msh.split('|')[9] ?? '';
}

/** An HL7 ACK echoing the message's control id — string manipulation only, good enough for tests. */
export function buildTestAck(message: Buffer | string, code: 'AA' | 'AE' | 'AR' = 'AA'): Buffer {
  const text = typeof message === 'string' ? message : message.toString('latin1');
  const fields = (text.split(/\r\n|\r|\n/)[0] ?? '').split('|');
  const controlId = fields[9] ?? '';
  const msh = [
    'MSH',
    '^~\\&',
    fields[4] ?? '',
    fields[5] ?? '',
    fields[2] ?? '',
    fields[3] ?? '',
    '20240105123001',
    '',
    'ACK',
    `ACK${controlId}`,
    'P',
    fields[11] ?? '2.5.1',
  ];
  return Buffer.from(`${msh.join('|')}\rMSA|${code}|${controlId}`, 'latin1');
}

/** MSA-1 and MSA-2 of an ACK. */
export function ackInfo(ack: Buffer | string): { code: string; controlId: string } {
  const text = typeof ack === 'string' ? ack : ack.toString('latin1');
  const msa = text.split(/\r\n|\r|\n/).find((s) => s.startsWith('MSA|')) ?? '';
  const [, code = '', controlId = ''] = msa.split('|');
  return { code, controlId };
}

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Polls until the condition holds (fails the test after timeoutMs — a hang guard, not a performance assertion). */
export async function waitFor(condition: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A hand-driven MLLP connection: write raw bytes, collect decoded frames, observe the close. */
export class RawMllpPeer {
  readonly frames: Buffer[] = [];
  readonly closed: Promise<void>;
  private constructor(readonly socket: net.Socket) {
    const decoder = new MllpDecoder({ onFrame: (p) => this.frames.push(Buffer.from(p)) });
    socket.on('data', (chunk: Buffer) => decoder.push(chunk));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawMllpPeer> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        socket.setNoDelay(true);
        resolve(new RawMllpPeer(socket));
      });
    });
  }

  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(bytes, (err) => (err ? reject(err) : resolve())));
  }

  writeMessage(message: string): Promise<void> {
    return this.write(encodeFrame(Buffer.from(message, 'latin1')));
  }

  async waitForFrames(count: number): Promise<Buffer[]> {
    await waitFor(() => this.frames.length >= count, 10_000, `${count} frame(s)`);
    return this.frames.slice(0, count);
  }

  get isClosed(): boolean {
    return this.socket.destroyed;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
