/**
 * Typed errors of the MLLP layer. Messages name the failure and the peer address only — never
 * payload bytes — so they are safe to log at any level.
 */

export type MllpErrorCode =
  /** A frame's payload exceeded the configured maximum size. */
  | 'FRAME_TOO_LARGE'
  /** No ACK frame arrived within the send timeout; the connection was dropped. */
  | 'ACK_TIMEOUT'
  /** The TCP/TLS connection could not be established in time. */
  | 'CONNECT_TIMEOUT'
  /** The TCP/TLS connection could not be established (refused, unreachable, handshake failed). */
  | 'CONNECT_FAILED'
  /** The peer closed the connection while an ACK was awaited (possibly mid-frame). */
  | 'CONNECTION_CLOSED'
  /** The socket failed (reset, TLS alert, ...) while an ACK was awaited. */
  | 'SOCKET_ERROR'
  /** The client was closed by its owner; queued and in-flight sends are abandoned. */
  | 'CLIENT_CLOSED'
  /** A payload to frame contains the start (0x0B) or end (0x1C) block byte. */
  | 'INVALID_PAYLOAD'
  /** The server handler did not return a Buffer. */
  | 'INVALID_HANDLER_RESULT'
  /** An operation needs a listening server. */
  | 'SERVER_NOT_LISTENING';

export class MllpError extends Error {
  readonly code: MllpErrorCode;

  constructor(code: MllpErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MllpError';
    this.code = code;
  }
}

/** True for an MllpError, optionally of one given code. */
export function isMllpError(err: unknown, code?: MllpErrorCode): err is MllpError {
  return err instanceof MllpError && (code === undefined || err.code === code);
}
