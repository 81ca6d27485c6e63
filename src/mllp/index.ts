/** MLLP layer: framing, listener and client. Bytes only — HL7 parsing lives in src/hl7v2. */
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  MllpDecoder,
  encodeFrame,
  type MllpDecoderOptions,
  type OversizeFrame,
  type ProtocolIssue,
  type ProtocolIssueKind,
} from './codec.js';
export { MllpError, isMllpError, type MllpErrorCode } from './errors.js';
export type { ConnectionInfo, PeerCertificateInfo } from './connection-info.js';
export type { ConnectionCloseReason, HandlerErrorHook, MllpHandler, MllpSessionEvents, OversizeHook } from './session.js';
export {
  MllpServer,
  createMllpServer,
  type ConnectionRejection,
  type MllpCloseOptions,
  type MllpServerEvents,
  type MllpServerOptions,
  type MllpServerStats,
  type MllpTlsOptions,
} from './server.js';
export { MllpClient, type MllpClientOptions, type MllpClientTlsOptions, type MllpSendOptions } from './client.js';
