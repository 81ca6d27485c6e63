/**
 * MLLP listener over TCP or TLS (optionally mutual TLS). Connections are served in parallel; within one
 * connection frames are handled strictly one at a time (see session.ts).
 */
import net from 'node:net';
import tls from 'node:tls';
import { DEFAULT_MAX_MESSAGE_BYTES } from './codec.js';
import { describeConnection, type ConnectionInfo } from './connection-info.js';
import { MllpError } from './errors.js';
import { MllpSession, type HandlerErrorHook, type MllpHandler, type MllpSessionEvents, type OversizeHook } from './session.js';

export interface MllpTlsOptions {
  key: string | Buffer;
  cert: string | Buffer;
  /** CA bundle used to verify client certificates (mutual TLS). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Ask clients for a certificate (mutual TLS). Default false. */
  requestCert?: boolean;
  /** With requestCert: refuse clients whose certificate is missing or does not verify. Default true. */
  rejectUnauthorized?: boolean;
  /** A client that has not finished the handshake by then is dropped. Default 10 000 ms. */
  handshakeTimeoutMs?: number;
}

export type ConnectionRejection =
  | { reason: 'max-connections'; remoteAddress?: string }
  | { reason: 'max-connections-per-address'; remoteAddress?: string }
  | { reason: 'tls-handshake'; remoteAddress?: string; errorCode?: string };

export interface MllpServerEvents extends MllpSessionEvents {
  connectionRejected?: (rejection: ConnectionRejection) => void;
  serverError?: (error: Error) => void;
}

export interface MllpServerOptions {
  /** Default 127.0.0.1 — binding elsewhere is an explicit decision. */
  host?: string;
  /** 0 (default) picks a free port; read it from `server.port` after listen(). */
  port?: number;
  tls?: MllpTlsOptions;
  /** Largest accepted message payload. Default DEFAULT_MAX_MESSAGE_BYTES (10 MiB). */
  maxMessageBytes?: number;
  /** Close a connection after this long with no bytes received and nothing in flight. 0 (default) disables. */
  idleTimeoutMs?: number;
  /** A frame must end this long after its start byte, or the connection is closed. 0 (default) disables. */
  frameTimeoutMs?: number;
  /** Further connections are refused at accept. Default unlimited. */
  maxConnections?: number;
  /** Further connections from one remote address are refused at accept. 0 (default): unlimited. */
  maxConnectionsPerAddress?: number;
  /** Persists the message and resolves to the ACK payload (unframed). */
  handler: MllpHandler;
  /** The handler threw or rejected. Default: close the connection without an ACK, so the sender resends. */
  onHandlerError?: HandlerErrorHook;
  /** A frame exceeded maxMessageBytes. Default: close the connection without an answer. */
  onOversize?: OversizeHook;
  /** After answering an oversize frame: keep serving the connection (default) or close it. */
  oversizeAction?: 'continue' | 'close';
  events?: MllpServerEvents;
}

export interface MllpServerStats {
  openConnections: number;
  acceptedConnections: number;
  rejectedConnections: number;
  framesReceived: number;
  bytesReceived: number;
  acksWritten: number;
  bytesSent: number;
  handlerFailures: number;
  oversizeFrames: number;
  protocolIssues: number;
}

export interface MllpCloseOptions {
  /** After this long, connections still busy are destroyed. Default 30 000 ms. */
  drainTimeoutMs?: number;
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

export function createMllpServer(options: MllpServerOptions): MllpServer {
  return new MllpServer(options);
}

export class MllpServer {
  private readonly server: net.Server;
  private readonly sessions = new Set<MllpSession>();
  /** Every accepted TCP socket, including TLS sockets still in their handshake. */
  private readonly rawSockets = new Set<net.Socket>();
  /** Open sockets per remote address, for maxConnectionsPerAddress. */
  private readonly perAddress = new Map<string, number>();
  private readonly events: MllpServerEvents;
  private nextConnectionId = 1;
  private boundPort: number | undefined;
  private closing: Promise<void> | undefined;
  private readonly counters: MllpServerStats = {
    openConnections: 0,
    acceptedConnections: 0,
    rejectedConnections: 0,
    framesReceived: 0,
    bytesReceived: 0,
    acksWritten: 0,
    bytesSent: 0,
    handlerFailures: 0,
    oversizeFrames: 0,
    protocolIssues: 0,
  };

  constructor(private readonly options: MllpServerOptions) {
    if (typeof options.handler !== 'function') throw new TypeError('MLLP server needs a handler');
    this.events = options.events ?? {};

    if (options.tls) {
      const t = options.tls;
      const server = tls.createServer({
        key: t.key,
        cert: t.cert,
        ca: t.ca,
        requestCert: t.requestCert ?? false,
        rejectUnauthorized: t.rejectUnauthorized ?? true,
        handshakeTimeout: t.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
        // No half-open under TLS: a client that gives up mid-handshake would otherwise linger until the
        // handshake timeout. (Plain TCP keeps half-open so a sender that half-closes still gets its ACK.)
        allowHalfOpen: false,
      });
      server.on('secureConnection', (socket) => this.accept(socket));
      server.on('tlsClientError', (err: NodeJS.ErrnoException, socket) => {
        this.counters.rejectedConnections++;
        this.notifyRejected({
          reason: 'tls-handshake',
          remoteAddress: socket.remoteAddress,
          errorCode: err.code,
        });
        socket.destroy();
      });
      this.server = server;
    } else {
      this.server = net.createServer({ allowHalfOpen: true });
    }

    // Every TCP connection, before any TLS handshake: the per-address limit protects handshakes too.
    this.server.on('connection', (socket: net.Socket) => {
      if (!this.admitAddress(socket)) return;
      this.rawSockets.add(socket);
      socket.once('close', () => this.rawSockets.delete(socket));
      if (!options.tls) this.accept(socket);
    });
    if (options.maxConnections !== undefined) this.server.maxConnections = options.maxConnections;
    this.server.on('drop', (data?: net.DropArgument) => {
      this.counters.rejectedConnections++;
      this.notifyRejected({ reason: 'max-connections', remoteAddress: data?.remoteAddress });
    });
    this.server.on('error', (err) => this.events.serverError?.(err));
  }

  /** Starts listening; resolves with the bound address (port 0 resolved to the real port). */
  listen(): Promise<{ host: string; port: number }> {
    const host = this.options.host ?? '127.0.0.1';
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen({ host, port: this.options.port ?? 0 }, () => {
        this.server.off('error', onError);
        const address = this.server.address() as net.AddressInfo;
        this.boundPort = address.port;
        resolve({ host: address.address, port: address.port });
      });
    });
  }

  get listening(): boolean {
    return this.server.listening;
  }

  /** The bound port; throws before listen() has resolved. */
  get port(): number {
    if (this.boundPort === undefined) {
      throw new MllpError('SERVER_NOT_LISTENING', 'MLLP server is not listening yet');
    }
    return this.boundPort;
  }

  stats(): MllpServerStats {
    return { ...this.counters, openConnections: this.sessions.size };
  }

  /**
   * Graceful stop: no new connections; each connection finishes the message in flight and writes its
   * ACK, then is closed. Queued, unstarted frames are not handled (they were never ACKed; the sender
   * resends). After drainTimeoutMs whatever is left is destroyed.
   */
  close(options: MllpCloseOptions = {}): Promise<void> {
    this.closing ??= this.shutdown(options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS);
    return this.closing;
  }

  private async shutdown(drainTimeoutMs: number): Promise<void> {
    const stopped = new Promise<void>((resolve) => {
      if (!this.server.listening) resolve();
      else this.server.close(() => resolve());
    });
    const sessions = [...this.sessions];
    for (const session of sessions) session.drain();
    const force = setTimeout(() => {
      for (const session of this.sessions) session.destroy();
      for (const socket of this.rawSockets) socket.destroy();
    }, drainTimeoutMs);
    try {
      await Promise.all(sessions.map((s) => s.closed));
      // What is left are TLS sockets still in their handshake: nothing was received, nothing to drain.
      for (const socket of this.rawSockets) socket.destroy();
      await stopped;
    } finally {
      clearTimeout(force);
    }
  }

  /** Counts the socket against its remote address; refuses it (destroyed) when the address is at its limit. */
  private admitAddress(socket: net.Socket): boolean {
    const limit = this.options.maxConnectionsPerAddress ?? 0;
    if (limit <= 0) return true;
    const address = socket.remoteAddress ?? 'unknown';
    const open = this.perAddress.get(address) ?? 0;
    if (open >= limit) {
      this.counters.rejectedConnections++;
      this.notifyRejected({ reason: 'max-connections-per-address', remoteAddress: socket.remoteAddress });
      socket.destroy();
      return false;
    }
    this.perAddress.set(address, open + 1);
    socket.once('close', () => {
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left <= 0) this.perAddress.delete(address);
      else this.perAddress.set(address, left);
    });
    return true;
  }

  private notifyRejected(rejection: ConnectionRejection): void {
    try {
      this.events.connectionRejected?.(rejection);
    } catch {
      // a throwing observability hook must not break accept handling
    }
  }

  private accept(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy(); // finished a TLS handshake after close() began
      return;
    }
    this.counters.acceptedConnections++;
    const info = describeConnection(this.nextConnectionId++, socket);
    const session = new MllpSession(socket, info, {
      handler: this.options.handler,
      onHandlerError: this.options.onHandlerError ?? (() => undefined),
      onOversize: this.options.onOversize ?? (() => undefined),
      oversizeAction: this.options.oversizeAction ?? 'continue',
      maxMessageBytes: this.options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      idleTimeoutMs: this.options.idleTimeoutMs ?? 0,
      frameTimeoutMs: this.options.frameTimeoutMs ?? 0,
      events: this.countingEvents(),
    });
    this.sessions.add(session);
    void session.closed.then(() => this.sessions.delete(session));
  }

  /**
   * The caller's hooks, counters updated first. A throwing hook is swallowed: observability code must
   * never take a connection (or the process, from inside a socket callback) down.
   */
  private countingEvents(): MllpSessionEvents {
    const e = this.events;
    const c = this.counters;
    const safe =
      <A extends unknown[]>(hook: ((...args: A) => void) | undefined, count?: (...args: A) => void) =>
      (...args: A): void => {
        count?.(...args);
        try {
          hook?.(...args);
        } catch {
          // ignored on purpose, see above
        }
      };
    return {
      connectionOpened: safe(e.connectionOpened),
      connectionClosed: safe(e.connectionClosed),
      socketError: safe(e.socketError),
      frameReceived: safe(e.frameReceived, () => c.framesReceived++),
      bytesReceived: safe(e.bytesReceived, (_conn, bytes) => (c.bytesReceived += bytes)),
      ackWritten: safe(e.ackWritten, (_conn, bytes) => {
        c.acksWritten++;
        c.bytesSent += bytes;
      }),
      handlerFailed: safe(e.handlerFailed, () => c.handlerFailures++),
      oversizeFrame: safe(e.oversizeFrame, () => c.oversizeFrames++),
      protocolIssue: safe(e.protocolIssue, () => c.protocolIssues++),
    };
  }
}

export type { ConnectionInfo };
