import type { SftpFileFormat } from '../../config/types.js';

/** What the consumer did with a file: applied and duplicate go to processedDir, failed to errorDir. */
export type SftpFileOutcome = 'applied' | 'duplicate' | 'failed';

/** A complete, size-checked local copy of one remote file. */
export interface SftpFileHandoff {
  /** Valid only until onFile settles: the poller deletes it then (copy or move it to keep it). */
  localPath: string;
  remoteName: string;
  size: number;
  /** Hex SHA-256 of the content; with partner and name, the file's idempotency key. */
  sha256: string;
  partner: string;
  sourceId: string;
  format: SftpFileFormat;
  /** The server's modification time (whole seconds). */
  remoteModifiedAt: Date;
}

/**
 * Applies a file (idempotently: partner + name + hash). Resolve 'duplicate' for a file already
 * applied, which is how a crash between applying and moving is healed. Throw for a transient
 * problem (store down): the file stays on the server and is offered again on the next poll.
 */
export type SftpFileConsumer = (file: SftpFileHandoff) => Promise<SftpFileOutcome>;

/** Per-source status for the API (`GET` file-arrival status); timestamps are ISO strings. */
export interface SftpSourceStatus {
  sourceId: string;
  partner: string;
  /** When the last file was taken (downloaded and handed over), whatever its outcome. */
  lastFileAt: string | null;
  /** The first missed `expectedDaily` deadline while the daily file is missing, else null. */
  missingSince: string | null;
  /** `HH:MM Area/City` when an expected daily file is configured. */
  expectedBy: string | null;
  lastPollAt: string | null;
  /** When the server was last reached and listed. */
  lastSuccessAt: string | null;
  consecutiveFailures: number;
  lastError: { at: string; message: string; file?: string } | null;
  nextPollAt: string | null;
  /** Files seen but not yet stable (or without their done-marker). */
  waitingFiles: number;
}

/** How one file went in one poll. */
export type SftpFileResultKind =
  | SftpFileOutcome
  /** Grew or changed between listing and download: taken on a later look. */
  | 'changed'
  | 'download-error'
  /** Too many failed downloads: moved to errorDir (or, if that failed too, left alone until it changes). */
  | 'gave-up'
  | 'consumer-error';

export interface SftpFileResult {
  name: string;
  result: SftpFileResultKind;
  sha256?: string;
  /** Where the file went on the server. */
  movedTo?: string;
  error?: string;
}

export interface SftpPollResult {
  /** The server was reached and the folder listed. */
  ok: boolean;
  error?: string;
  files: SftpFileResult[];
  /** Names seen but not taken yet (not stable, or no done-marker). */
  waiting: string[];
}

/** Counters and alerts for metrics; all optional. Ids and names only, never content. */
export interface SftpPollerHooks {
  onFileResult?(e: { sourceId: string; partner: string; result: SftpFileResultKind }): void;
  /** A poll could not reach or list the server (each failed attempt). */
  onPollFailure?(e: { sourceId: string; partner: string; consecutiveFailures: number; error: string }): void;
  /** Once per missed expectedDaily deadline. */
  onMissingDaily?(status: SftpSourceStatus): void;
}
