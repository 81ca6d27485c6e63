/**
 * One accepted MLLP connection: decodes frames, hands them to the handler ONE AT A TIME (the next frame
 * is not handed over until the previous ACK has been written to the socket — this keeps the sender's
 * order), frames and writes the responses, enforces the idle timeout and the frame deadline, and
 * drains on shutdown.
 */
import type { Socket } from 'node:net';
import { MllpDecoder, encodeFrame, type OversizeFrame, type ProtocolIssue } from './codec.js';
import type { ConnectionInfo } from './connection-info.js';
import { MllpError } from './errors.js';

/** Marker for "message handled, nothing to send". */
const NO_REPLY = Buffer.alloc(0);

export type MllpHandler = (message: Buffer, conn: ConnectionInfo) => Promise<Buffer>;

/** Returns the bytes to answer with (e.g. a NACK), or undefined to close the connection without answering. */
export type HandlerErrorHook = (error: unknown, conn: ConnectionInfo, message: Buffer) => Buffer | undefined | Promise<Buffer | undefined>;

/** Returns the bytes to answer an oversize frame with (e.g. a NACK), or undefined to close without answering. */
export type OversizeHook = (frame: OversizeFrame, conn: ConnectionInfo) => Buffer | undefined | Promise<Buffer | undefined>;

export type ConnectionCloseReason =
  'peer-closed' | 'idle-timeout' | 'frame-timeout' | 'server-closing' | 'handler-failed' | 'oversize' | 'socket-error';

/** Observability hooks. They receive no payload bytes, so they are safe to log and count. */
export interface MllpSessionEvents {
  connectionOpened?: (conn: ConnectionInfo) => void;
  connectionClosed?: (conn: ConnectionInfo, reason: ConnectionCloseReason) => void;
  frameReceived?: (conn: ConnectionInfo, payloadBytes: number) => void;
  /** The framed response has been handed to the kernel (socket write callback). */
  ackWritten?: (conn: ConnectionInfo, frameBytes: number) => void;
  handlerFailed?: (conn: ConnectionInfo, error: unknown) => void;
  oversizeFrame?: (conn: ConnectionInfo, limit: number, receivedBytes: number) => void;
  protocolIssue?: (conn: ConnectionInfo, issue: ProtocolIssue) => void;
  socketError?: (conn: ConnectionInfo, error: Error) => void;
  bytesReceived?: (conn: ConnectionInfo, bytes: number) => void;
}

export interface SessionSettings {
  handler: MllpHandler;
  onHandlerError: HandlerErrorHook;
  onOversize: OversizeHook;
  oversizeAction: 'continue' | 'close';
  maxMessageBytes: number;
  /** 0 disables. */
  idleTimeoutMs: number;
  /** A frame must end this long after its start byte; 0 disables. */
  frameTimeoutMs: number;
  events: MllpSessionEvents;
}

type WorkItem = { kind: 'message'; payload: Buffer } | { kind: 'oversize'; frame: OversizeFrame };

/** Read-side backpressure: a sender pipelining without waiting for ACKs is paused, not buffered without bound. */
const MAX_QUEUED_FRAMES = 64;
/** After we end our side, how long the peer gets to close its side before the socket is destroyed. */
const END_GRACE_MS = 5_000;

export class MllpSession {
  readonly closed: Promise<void>;
  private readonly decoder: MllpDecoder;
  private readonly queue: WorkItem[] = [];
  private queuedBytes = 0;
  private busy = false;
  private readPaused = false;
  private peerEnded = false;
  /** open: serving; ending: our side is closing, nothing more is handed to the handler; closed: socket gone. */
  private state: 'open' | 'ending' | 'closed' = 'open';
  private draining = false;
  private closeReason: ConnectionCloseReason = 'peer-closed';
  private idleTimer?: NodeJS.Timeout;
  private frameTimer?: NodeJS.Timeout;
  /** decoder.framesStarted when the frame timer was (re)armed. */
  private timedFrame = 0;

  constructor(
    private readonly socket: Socket,
    readonly info: ConnectionInfo,
    private readonly settings: SessionSettings,
  ) {
    const events = settings.events;
    this.decoder = new MllpDecoder({
      maxMessageBytes: settings.maxMessageBytes,
      onFrame: (payload) => {
        events.frameReceived?.(info, payload.length);
        this.enqueue({ kind: 'message', payload }, payload.length);
      },
      onOversize: (frame) => {
        events.oversizeFrame?.(info, frame.limit, frame.receivedBytes);
        this.enqueue({ kind: 'oversize', frame }, frame.head.length);
      },
      onIssue: (issue) => events.protocolIssue?.(info, issue),
    });

    let resolveClosed!: () => void;
    this.closed = new Promise((resolve) => (resolveClosed = resolve));

    socket.setNoDelay(true); // ACKs are small; Nagle would hold them back
    socket.setKeepAlive(true, 60_000); // reap peers that vanished without a FIN
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onPeerEnd());
    socket.on('error', (err) => {
      this.closeReason = 'socket-error';
      events.socketError?.(info, err);
    });
    socket.on('close', () => {
      this.state = 'closed';
      this.clearIdleTimer();
      this.clearFrameTimer();
      this.queue.length = 0;
      this.queuedBytes = 0;
      events.connectionClosed?.(info, this.closeReason);
      resolveClosed();
    });

    events.connectionOpened?.(info);
    this.armIdleTimer();
  }

  /** Graceful shutdown: the frame in flight (if any) finishes and its ACK is written; queued frames are dropped unanswered. */
  drain(): void {
    if (this.state !== 'open') return;
    this.draining = true;
    this.closeReason = 'server-closing';
    this.dropQueue();
    if (!this.busy) this.endSocket();
  }

  /** Immediate shutdown (drain timeout): in-flight work is abandoned, nothing more is written. */
  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.settings.events.bytesReceived?.(this.info, chunk.length);
    this.idleTimer?.refresh();
    if (this.state !== 'open' || this.draining) return; // closing: read only to see the peer's FIN
    this.decoder.push(chunk);
    this.watchFrameDeadline();
    this.pump();
  }

  /**
   * A frame's deadline counts from its start byte and is not extended by later bytes: the idle
   * timeout alone lets a sender that drips one byte at a time hold the connection forever.
   */
  private watchFrameDeadline(): void {
    const ms = this.settings.frameTimeoutMs;
    if (ms <= 0) return;
    if (!this.decoder.hasPartialFrame) {
      this.clearFrameTimer();
      return;
    }
    if (this.frameTimer && this.timedFrame === this.decoder.framesStarted) return;
    this.clearFrameTimer();
    this.timedFrame = this.decoder.framesStarted;
    this.frameTimer = setTimeout(() => this.onFrameTimeout(), ms);
    this.frameTimer.unref();
  }

  private clearFrameTimer(): void {
    if (this.frameTimer) clearTimeout(this.frameTimer);
    this.frameTimer = undefined;
  }

  private onFrameTimeout(): void {
    this.frameTimer = undefined;
    if (this.state !== 'open' || this.draining) return;
    if (this.readPaused) {
      // We stopped reading (backpressure), not the sender: the rest may be waiting in the kernel.
      this.frameTimer = setTimeout(() => this.onFrameTimeout(), this.settings.frameTimeoutMs);
      this.frameTimer.unref();
      return;
    }
    // Like a drain: a message already in flight still gets its ACK, then the connection closes.
    this.draining = true;
    this.closeReason = 'frame-timeout';
    this.dropQueue();
    if (!this.busy) this.endSocket();
  }

  private onPeerEnd(): void {
    // allowHalfOpen is on, so a sender that half-closes after its last frame still gets its ACKs.
    this.peerEnded = true;
    if (!this.busy && this.queue.length === 0) this.endSocket();
  }

  private enqueue(item: WorkItem, bytes: number): void {
    if (this.state !== 'open' || this.draining) return;
    this.queue.push(item);
    this.queuedBytes += bytes;
    this.updateReadFlow();
  }

  private dequeue(): WorkItem | undefined {
    const item = this.queue.shift();
    if (item) this.queuedBytes -= item.kind === 'message' ? item.payload.length : item.frame.head.length;
    this.updateReadFlow();
    return item;
  }

  private dropQueue(): void {
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.updateReadFlow();
  }

  private updateReadFlow(): void {
    const full = this.queue.length >= MAX_QUEUED_FRAMES || this.queuedBytes >= this.settings.maxMessageBytes;
    if (full && !this.readPaused && this.state === 'open') {
      this.readPaused = true;
      this.socket.pause();
    } else if (!full && this.readPaused) {
      this.readPaused = false;
      this.socket.resume();
    }
  }

  /** Starts the next queued item if nothing is in flight. */
  private pump(): void {
    if (this.busy || this.state !== 'open' || this.draining) return;
    const item = this.dequeue();
    if (!item) {
      if (this.peerEnded) this.endSocket();
      else this.armIdleTimer();
      return;
    }
    this.busy = true;
    this.clearIdleTimer();
    // process() handles handler failures itself; this only guards against a bug escaping as an unhandled rejection.
    this.process(item).catch(() => this.socket.destroy());
  }

  private async process(item: WorkItem): Promise<void> {
    let response: Buffer | undefined;
    let closeAfter = false;
    if (item.kind === 'message') {
      response = await this.respondToMessage(item.payload);
      if (response === undefined) this.closeReason = 'handler-failed';
    } else {
      response = await this.respondToOversize(item.frame);
      closeAfter = response === undefined || this.settings.oversizeAction === 'close';
      if (closeAfter) this.closeReason = 'oversize';
    }

    if (response === undefined) {
      this.finishItem(true);
      return;
    }
    if (response === NO_REPLY) {
      // Enhanced acknowledgment mode with MSH-15 = NE/ER/SU: the sender asked for no ACK.
      this.finishItem(false);
      return;
    }
    this.write(response, () => this.finishItem(closeAfter));
  }

  /** The handler's ACK (NO_REPLY for an empty one), or what onHandlerError answers instead; undefined means: close without ACK. */
  private async respondToMessage(payload: Buffer): Promise<Buffer | undefined> {
    try {
      const ack = await this.settings.handler(payload, this.info);
      if (!Buffer.isBuffer(ack)) {
        throw new MllpError('INVALID_HANDLER_RESULT', 'MLLP handler must resolve to a Buffer holding the ACK');
      }
      // An empty Buffer means "stored, but the sender wants no acknowledgment".
      return ack.length === 0 ? NO_REPLY : encodeFrame(ack);
    } catch (error) {
      this.settings.events.handlerFailed?.(this.info, error);
      try {
        const answer = await this.settings.onHandlerError(error, this.info, payload);
        return answer === undefined ? undefined : encodeFrame(answer);
      } catch (hookError) {
        this.settings.events.handlerFailed?.(this.info, hookError);
        return undefined;
      }
    }
  }

  private async respondToOversize(frame: OversizeFrame): Promise<Buffer | undefined> {
    try {
      const answer = await this.settings.onOversize(frame, this.info);
      return answer === undefined ? undefined : encodeFrame(answer);
    } catch (hookError) {
      this.settings.events.handlerFailed?.(this.info, hookError);
      return undefined;
    }
  }

  private write(frame: Buffer, done: () => void): void {
    if (this.socket.destroyed || !this.socket.writable) {
      // The peer is gone; the sender never saw this ACK and will resend.
      done();
      return;
    }
    this.socket.write(frame, (err) => {
      if (!err) this.settings.events.ackWritten?.(this.info, frame.length);
      done();
    });
  }

  private finishItem(closeConnection: boolean): void {
    this.busy = false;
    if (closeConnection || this.draining) {
      this.endSocket();
      return;
    }
    this.pump();
  }

  private endSocket(): void {
    if (this.state !== 'open') return;
    this.state = 'ending';
    this.clearIdleTimer();
    this.clearFrameTimer();
    this.dropQueue();
    this.socket.end();
    // Keep reading (and discarding) so the peer's FIN is seen and unread bytes never turn the close into a RST.
    if (this.readPaused) {
      this.readPaused = false;
      this.socket.resume();
    }
    setTimeout(() => this.socket.destroy(), END_GRACE_MS).unref();
  }

  private armIdleTimer(): void {
    const ms = this.settings.idleTimeoutMs;
    if (ms <= 0 || this.state !== 'open') return;
    if (this.idleTimer) {
      this.idleTimer.refresh();
      return;
    }
    this.idleTimer = setTimeout(() => this.onIdle(), ms);
    this.idleTimer.unref();
  }

  private clearIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private onIdle(): void {
    this.idleTimer = undefined;
    if (this.busy || this.queue.length > 0) return; // work in flight is not idleness
    this.closeReason = 'idle-timeout';
    this.endSocket();
  }
}
