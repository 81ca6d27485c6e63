/** SFTP sources: one poller per configured `type: sftp` source. */
export { createSftpPoller, keyFromEnv, type SftpPoller, type SftpPollerOptions } from './poller.js';
export { HostKeyMismatchError, hostKeyFingerprint } from './host-key.js';
export type {
  SftpFileConsumer,
  SftpFileHandoff,
  SftpFileOutcome,
  SftpFileResult,
  SftpFileResultKind,
  SftpPollerHooks,
  SftpPollResult,
  SftpSourceStatus,
} from './types.js';
