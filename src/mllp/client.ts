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
  /** The connection the message went out on: only its ACK or its failure may settle this send. */
  socket: net.Socket;
  resolve: (ack: Buffer) => void;
  reject: (err: MllpError) => void;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_ACK_TIMEOUT_MS = 30_000;

export class MllpClient {
  private socket: net.Socket | undefined;
  private connecting: Promise<net.Socket> | undefined;
  private pending: PendingAck | undefined;
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
    const abandoned = this.pending !== undefined;
    this.failPending(new MllpError('CLIENT_CLOSED', `MLLP client to ${this.peer} was closed`));
    if (!socket || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      if (abandoned) {
        socket.destroy(); // nobody waits for that ACK any more; a graceful end would wait on the peer
        return;
      }
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
        this.failPending(new MllpError('ACK_TIMEOUT', `no MLLP ACK from ${this.peer} within ${timeoutMs} ms`), socket);
        // Drop the connection: a late ACK for this message must never answer the next one.
        socket.destroy();
      }, timeoutMs);
      this.pending = {
        socket,
        resolve: (ack) => {
          clearTimeout(timer);
          resolve(ack);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      if (socket.destroyed || !socket.writable) {
        this.failPending(new MllpError('CONNECTION_CLOSED', `MLLP peer ${this.peer} closed the connection before the send`), socket);
        return;
      }
      socket.write(frame);
    });
  }

  private ensureConnected(): Promise<net.Socket> {
    // A socket whose peer already sent FIN is no longer writable: reconnect rather than write into it.
    if (this.socket && !this.socket.destroyed && this.socket.writable) return Promise.resolve(this.socket);
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
    /** Reported when the socket then closes. */
    let socketError: NodeJS.ErrnoException | undefined;
    const decoder = new MllpDecoder({
      maxMessageBytes: this.options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      onFrame: (ack) => {
        const pending = this.pending;
        if (!pending || pending.socket !== socket) {
          // An answer nobody asked for: the stream is out of step, and trusting the next frame would be wrong.
          socket.destroy();
          return;
        }
        this.pending = undefined;
        pending.resolve(ack);
      },
      onOversize: (frame) => {
        this.failPending(new MllpError('FRAME_TOO_LARGE', `MLLP ACK from ${this.peer} exceeds ${frame.limit} bytes`), socket);
        socket.destroy();
      },
    });
    socket.on('data', (chunk: Buffer) => decoder.push(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      socketError = err;
    });
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
      const err = socketError;
      if (err) {
        this.failPending(
          new MllpError('SOCKET_ERROR', `MLLP connection to ${this.peer} failed: ${err.code ?? err.message}`, {
            cause: err,
          }),
          socket,
        );
      } else {
        const where = decoder.hasPartialFrame ? ' in the middle of an ACK frame' : ' before answering';
        this.failPending(new MllpError('CONNECTION_CLOSED', `MLLP peer ${this.peer} closed the connection${where}`), socket);
      }
    });
  }

  /** Rejects the send in flight — when `socket` is given, only if that send went out on it (an old
   *  connection closing late must not fail the next message's send). */
  private failPending(err: MllpError, socket?: net.Socket): void {
    const pending = this.pending;
    if (!pending || (socket !== undefined && pending.socket !== socket)) return;
    this.pending = undefined;
    pending.reject(err);
  }
}
