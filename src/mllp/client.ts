/**
 * MLLP client for forwarding (the mllp deliverer) and tests.
 *
 * - One outstanding message per client: send() calls queue up and run in call order.
 * - After a timeout or any failure the connection is destroyed, so a late ACK can never be matched to
 *   the next message; the next send() reconnects.
 * - Bytes only: the caller checks that the ACK answers its message (MSA-2 = MSH-10).
 */
import net from 'node:net';
import tls from 'node:tls';
import { DEFAULT_MAX_MESSAGE_BYTES, MllpDecoder, encodeFrame } from './codec.js';
import { MllpError } from './errors.js';

export interface MllpClientTlsOptions {
  /** CA bundle to verify the server (default: Node's bundled roots). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Client certificate and key for mutual TLS. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** SNI / certificate host name; defaults to host when host is a DNS name. */
  servername?: string;
  /** Default true. Turning it off is for tests only. */
  rejectUnauthorized?: boolean;
}

export interface MllpClientOptions {
  host: string;
  port: number;
  tls?: MllpClientTlsOptions;
  /** Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** Default ACK wait for send() when the call gives none. Default 30 000 ms. */
  ackTimeoutMs?: number;
  /** Largest accepted ACK payload. Default DEFAULT_MAX_MESSAGE_BYTES. */
  maxMessageBytes?: number;
}

export interface MllpSendOptions {
  /** How long to wait for the ACK once the frame is written (connecting has its own timeout). */
  timeoutMs?: number;
}

interface PendingAck {
  resolve: (ack: Buffer) => void;
  reject: (err: MllpError) => void;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_ACK_TIMEOUT_MS = 30_000;

export class MllpClient {
  private socket: net.Socket | undefined;
  private connecting: Promise<net.Socket> | undefined;
  private pending: PendingAck | undefined;
  /** Last socket error, reported when the socket then closes. */
  private lastSocketError: NodeJS.ErrnoException | undefined;
  /** Tail of the send queue: each send starts after the previous one settled. */
  private queueTail: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly peer: string;

  constructor(private readonly options: MllpClientOptions) {
    this.peer = `${options.host}:${options.port}`;
  }

  /** True while a connection is open. */
  get connected(): boolean {
    return this.socket !== undefined && !this.socket.destroyed;
  }

  /** Connects now (send() connects on demand anyway). */
  async connect(): Promise<void> {
    await this.ensureConnected();
  }

  /** Sends one message and resolves with the ACK payload (unframed). Calls are queued, one in flight. */
  send(payload: Buffer, options: MllpSendOptions = {}): Promise<Buffer> {
    const run = () => this.sendNow(payload, options.timeoutMs ?? this.options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS);
    const result = this.queueTail.then(run, run);
    this.queueTail = result.catch(() => undefined);
    return result;
  }

  /** Closes the connection. A send in flight or queued is rejected with CLIENT_CLOSED. */
  async close(): Promise<void> {
    this.closed = true;
    const socket = this.socket;
    this.failPending(new MllpError('CLIENT_CLOSED', `MLLP client to ${this.peer} was closed`));
    if (!socket || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.end();
      setTimeout(() => socket.destroy(), 1_000).unref();
    });
  }

  private async sendNow(payload: Buffer, timeoutMs: number): Promise<Buffer> {
    if (this.closed) throw new MllpError('CLIENT_CLOSED', `MLLP client to ${this.peer} is closed`);
    const frame = encodeFrame(payload);
    const socket = await this.ensureConnected();
    if (this.closed) throw new MllpError('CLIENT_CLOSED', `MLLP client to ${this.peer} is closed`);

    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.failPending(new MllpError('ACK_TIMEOUT', `no MLLP ACK from ${this.peer} within ${timeoutMs} ms`));
        // Drop the connection: a late ACK for this message must never answer the next one.
        socket.destroy();
      }, timeoutMs);
      this.pending = {
        resolve: (ack) => {
          clearTimeout(timer);
          resolve(ack);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      socket.write(frame);
    });
  }

  private ensureConnected(): Promise<net.Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.connecting ??= this.openSocket().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private openSocket(): Promise<net.Socket> {
    const { host, port } = this.options;
    const t = this.options.tls;
    const connectTimeoutMs = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const socket = t
      ? tls.connect({
          host,
          port,
          ca: t.ca,
          cert: t.cert,
          key: t.key,
          // Node refuses an IP address as SNI; certificate checks still match IP SANs.
          servername: t.servername ?? (net.isIP(host) ? undefined : host),
          rejectUnauthorized: t.rejectUnauthorized ?? true,
        })
      : net.connect({ host, port });
    const readyEvent = t ? 'secureConnect' : 'connect';

    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new MllpError('CONNECT_TIMEOUT', `MLLP connect to ${this.peer} timed out after ${connectTimeoutMs} ms`));
      }, connectTimeoutMs);
      const onError = (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        socket.destroy();
        reject(
          new MllpError('CONNECT_FAILED', `MLLP connect to ${this.peer} failed: ${err.code ?? err.message}`, {
            cause: err,
          }),
        );
      };
      socket.once('error', onError);
      socket.once(readyEvent, () => {
        clearTimeout(timer);
        socket.off('error', onError);
        if (this.closed) {
          socket.destroy();
          reject(new MllpError('CLIENT_CLOSED', `MLLP client to ${this.peer} is closed`));
          return;
        }
        this.attach(socket);
        resolve(socket);
      });
    });
  }

  private attach(socket: net.Socket): void {
    socket.setNoDelay(true);
    this.socket = socket;
    this.lastSocketError = undefined;
    const decoder = new MllpDecoder({
      maxMessageBytes: this.options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      onFrame: (ack) => {
        const pending = this.pending;
        if (!pending) {
          // An answer nobody asked for: the stream is out of step, and trusting the next frame would be wrong.
          socket.destroy();
          return;
        }
        this.pending = undefined;
        pending.resolve(ack);
      },
      onOversize: (frame) => {
        this.failPending(
          new MllpError('FRAME_TOO_LARGE', `MLLP ACK from ${this.peer} exceeds ${frame.limit} bytes`),
        );
        socket.destroy();
      },
    });
    socket.on('data', (chunk: Buffer) => decoder.push(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.lastSocketError = err;
    });
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
      const err = this.lastSocketError;
      if (err) {
        this.failPending(
          new MllpError('SOCKET_ERROR', `MLLP connection to ${this.peer} failed: ${err.code ?? err.message}`, {
            cause: err,
          }),
        );
      } else {
        const where = decoder.hasPartialFrame ? ' in the middle of an ACK frame' : ' before answering';
        this.failPending(new MllpError('CONNECTION_CLOSED', `MLLP peer ${this.peer} closed the connection${where}`));
      }
    });
  }

  private failPending(err: MllpError): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(err);
  }
}
