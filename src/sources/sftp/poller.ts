/**
 * The poller of one SFTP source. Each poll opens a connection, lists remoteDir, takes the files
 * that are ready (stable, or with their done-marker), downloads each to staging, hands it to the
 * consumer, moves it to processedDir / errorDir on the server, and disconnects. A connection per
 * poll keeps no idle sessions open on partners' servers and starts every poll from a clean state.
 *
 * Crash safety comes from the order of steps: the remote file leaves the inbox only after the
 * consumer answered, so a crash anywhere before that means the file is fetched again, and the
 * consumer's idempotency (partner + name + hash) answers 'duplicate' for one already applied.
 *
 * Nothing here throws into the caller's event loop: every failure becomes status, a log line
 * (ids and file names only, never content) and a hook call, and the next poll is scheduled
 * (with backoff after connection failures).
 */
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { FolderSourceConfig } from '../../config/types.js';
import { openLocalFolder } from '../directory/local-folder.js';
import { silentLog, type Logger } from '../../observability/log.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { openSftpSession, type RemoteEntry, type SftpSession } from './connection.js';
import { ExpectedDailyTracker } from './expected-daily.js';
import { fileNameMatcher } from './glob.js';
import { moveRemoteFile, resolveRemoteDir } from './remote-move.js';
import { assertValidSchedule, nextPollAt } from './schedule.js';
import { StabilityTracker } from './stability.js';
import { downloadToStaging, prepareStagingDir, RemoteFileChangedError, type StagedFile } from './staging.js';
import type { SftpFileConsumer, SftpFileOutcome, SftpFileResult, SftpPollerHooks, SftpPollResult, SftpSourceStatus } from './types.js';

export interface SftpPollerOptions {
  /** An SFTP inbox, or a local drop folder (`type: directory`) read through the same steps. */
  source: FolderSourceConfig;
  /** The gateway's dataDir; downloads are staged in `<dataDir>/sftp-staging/<source id>/`. */
  dataDir: string;
  onFile: SftpFileConsumer;
  log?: Logger;
  hooks?: SftpPollerHooks;
  /** Where privateKeyEnv is looked up. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Last arrival known from the store, so expectedDaily can judge deadlines before this start. */
  lastFileAt?: Date | null;
  /** Reconnect delays after failed polls. Default 5 s doubling to 5 min. */
  backoff?: Partial<BackoffOptions>;
  /**
   * When files are waiting to become stable, look again after this long instead of waiting for
   * the next scheduled poll (a cron poll may be a day away). Default 15 s.
   */
  settleMs?: number;
  /** A download with no progress for this long drops the connection. Default 120 s. */
  stallTimeoutMs?: number;
  /** SSH handshake timeout. Default 20 s. */
  readyTimeoutMs?: number;
  /** SSH keepalive interval. Default 15 s. */
  keepaliveIntervalMs?: number;
  /** Failed downloads of the same file (same size and mtime) before it goes to errorDir. Default 5. */
  maxFileAttempts?: number;
  /** Clock (tests). */
  now?: () => Date;
}

export interface SftpPoller {
  readonly sourceId: string;
  /** Polls at once, then on the schedule, until stop(). */
  start(): Promise<void>;
  /** Stops scheduling, aborts a running download or connect, waits for the current poll to end. */
  stop(): Promise<void>;
  /** Runs one poll (after any running one) and reports what happened. Works without start(). */
  pollNow(): Promise<SftpPollResult>;
  status(): SftpSourceStatus;
}

const OUTCOMES: ReadonlySet<string> = new Set<SftpFileOutcome>(['applied', 'duplicate', 'failed']);
/** setTimeout cannot wait longer than ~24.8 days; long waits are re-armed in steps. */
const MAX_TIMER_MS = 60 * 60 * 1000;

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

/** A file is identified across polls by name, size and mtime: any change makes it a new attempt. */
const fileKey = (e: RemoteEntry): string => `${e.name}\0${e.size}\0${e.modifyTime}`;

/**
 * A key in privateKeyEnv may be the PEM/OpenSSH text itself, the same with literal `\n`
 * (one-line .env files), or base64 of it.
 */
export function keyFromEnv(value: string): Buffer | string {
  if (value.includes('-----BEGIN')) return value.replace(/\\n/g, '\n');
  return Buffer.from(value.trim(), 'base64');
}

export function createSftpPoller(options: SftpPollerOptions): SftpPoller {
  const src = options.source;
  const log = options.log ?? silentLog;
  const hooks = options.hooks ?? {};
  const env = options.env ?? process.env;
  const now = options.now ?? (() => new Date());
  const backoff: BackoffOptions = { initialMs: 5000, maxMs: 5 * 60 * 1000, ...options.backoff };
  const settleMs = options.settleMs ?? 15_000;
  const stallTimeoutMs = options.stallTimeoutMs ?? 120_000;
  const maxFileAttempts = options.maxFileAttempts ?? 5;
  const stagingDir = join(options.dataDir, 'sftp-staging', src.id);
  const remoteDir = posix.normalize(src.type === 'directory' ? src.path : src.remoteDir);
  const processedDir = resolveRemoteDir(remoteDir, src.processedDir);
  const errorDir = resolveRemoteDir(remoteDir, src.errorDir);
  const matches = fileNameMatcher(src.pattern);
  const marker = src.doneMarkerSuffix;
  const stability = new StabilityTracker(src.stableChecks);
  const ids = { source: src.id, partner: src.partner };
  assertValidSchedule(src.poll);

  let lastFileAt: Date | null = options.lastFileAt ?? null;
  let missingSince: Date | null = null;
  const initDaily = (): ExpectedDailyTracker | null => (src.expectedDaily ? new ExpectedDailyTracker(src.expectedDaily, now()) : null);
  let daily = initDaily();

  let lastPollAt: Date | null = null;
  let lastSuccessAt: Date | null = null;
  let failures = 0;
  let lastError: SftpSourceStatus['lastError'] = null;
  let nextPoll: Date | null = null;
  let waitingFiles = 0;
  /** Failed downloads per file version; connection drops do not count against a file. */
  const attempts = new Map<string, number>();
  /** File versions that failed too often and could not be moved to errorDir either. */
  const givenUp = new Set<string>();

  let running = false;
  let chain: Promise<unknown> = Promise.resolve();
  let cycleAbort: AbortController | null = null;
  let pollTimer: NodeJS.Timeout | undefined;
  let dailyTimer: NodeJS.Timeout | undefined;
  let prepared: Promise<void> | null = null;

  /** Wipes staging once per poller; a failure (dataDir not writable) is retried next time. */
  const prepareStaging = async (): Promise<void> => {
    prepared ??= prepareStagingDir(stagingDir);
    try {
      await prepared;
    } catch (err) {
      prepared = null;
      throw new Error(`cannot prepare the staging folder ${stagingDir}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`, {
        cause: err,
      });
    }
  };

  const recordError = (message: string, file?: string): void => {
    lastError = { at: now().toISOString(), message, ...(file !== undefined ? { file } : {}) };
  };

  const status = (): SftpSourceStatus => ({
    sourceId: src.id,
    partner: src.partner,
    lastFileAt: iso(lastFileAt),
    missingSince: iso(missingSince),
    expectedBy: src.expectedDaily ? `${src.expectedDaily.by} ${src.expectedDaily.timeZone}` : null,
    lastPollAt: iso(lastPollAt),
    lastSuccessAt: iso(lastSuccessAt),
    consecutiveFailures: failures,
    lastError,
    nextPollAt: iso(nextPoll),
    waitingFiles,
  });

  /** A hook that throws must not break a poll. */
  const callHook = (fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      log.warn({ ...ids, err: errorMessage(err) }, 'sftp poller hook failed');
    }
  };

  /** setTimeout with long waits split into steps (cron can be far away). */
  const arm = (delayMs: number, fn: () => void, keep: (t: NodeJS.Timeout) => void): void => {
    const step = Math.min(Math.max(0, delayMs), MAX_TIMER_MS);
    keep(setTimeout(() => (delayMs > MAX_TIMER_MS ? arm(delayMs - MAX_TIMER_MS, fn, keep) : fn()), step));
  };

  const firePoll = (): void => {
    runSerial().catch((err: unknown) => log.error({ ...ids, err: errorMessage(err) }, 'sftp poll crashed'));
  };

  const schedulePoll = (at: Date): void => {
    clearTimeout(pollTimer);
    pollTimer = undefined;
    nextPoll = running ? at : null;
    if (running) arm(at.getTime() - now().getTime(), firePoll, (t) => (pollTimer = t));
  };

  function evaluateDaily(): void {
    if (!daily) return;
    const ev = daily.evaluate(now(), lastFileAt);
    missingSince = ev.missingSince;
    if (ev.newlyMissedDeadline) {
      log.warn(
        { ...ids, deadline: ev.newlyMissedDeadline.toISOString(), missingSince: iso(missingSince), lastFileAt: iso(lastFileAt) },
        'expected daily file has not arrived',
      );
      callHook(() => hooks.onMissingDaily?.(status()));
    }
    clearTimeout(dailyTimer);
    dailyTimer = undefined;
    // One second past the deadline so the check lands in the new window.
    if (running) arm(ev.nextCheckAt.getTime() + 1000 - now().getTime(), evaluateDaily, (t) => (dailyTimer = t));
  }

  function loadPrivateKey(): Buffer | string {
    if (src.type !== 'sftp') throw new Error('not an SFTP source');
    if (src.privateKey !== undefined) {
      try {
        return readFileSync(src.privateKey);
      } catch (err) {
        throw new Error(
          `SFTP ${src.username}@${src.host}: cannot read privateKey ${src.privateKey}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`,
          {
            cause: err,
          },
        );
      }
    }
    const name = src.privateKeyEnv as string;
    const value = env[name];
    if (!value) throw new Error(`SFTP ${src.username}@${src.host}: environment variable ${name} (privateKeyEnv) is not set`);
    return keyFromEnv(value);
  }

  /** Splits a listing into files to take now and files still being written. */
  function select(listing: RemoteEntry[]): { ready: RemoteEntry[]; waiting: RemoteEntry[] } {
    const regular = listing.filter((e) => e.type === '-');
    let candidates = regular.filter((e) => matches(e.name) && !givenUp.has(fileKey(e)));
    let ready: RemoteEntry[];
    if (marker !== undefined) {
      const present = new Set(regular.map((e) => e.name));
      candidates = candidates.filter((e) => !e.name.endsWith(marker));
      ready = candidates.filter((e) => present.has(e.name + marker));
    } else {
      const stable = stability.observe(candidates);
      ready = candidates.filter((e) => stable.has(e.name));
    }
    const readyNames = new Set(ready.map((e) => e.name));
    // Oldest first: a partner's Monday file is applied before its Tuesday file.
    ready.sort((a, b) => a.modifyTime - b.modifyTime || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { ready, waiting: candidates.filter((e) => !readyNames.has(e.name)) };
  }

  /** Moves the file (and its marker, first: a leftover marker must never vouch for a new upload). */
  async function moveOut(session: SftpSession, entry: RemoteEntry, toDir: string): Promise<string> {
    if (marker !== undefined) {
      const markerName = entry.name + marker;
      await moveRemoteFile(session, posix.join(remoteDir, markerName), toDir, markerName, now());
    }
    const movedTo = await moveRemoteFile(session, posix.join(remoteDir, entry.name), toDir, entry.name, now());
    stability.reset(entry.name);
    return movedTo;
  }

  async function onDownloadError(session: SftpSession, entry: RemoteEntry, err: unknown): Promise<SftpFileResult> {
    const error = errorMessage(err);
    if (err instanceof RemoteFileChangedError) {
      stability.reset(entry.name);
      log.info({ ...ids, file: entry.name }, 'sftp file changed while downloading; waiting for it to settle');
      return { name: entry.name, result: 'changed' };
    }
    recordError(`download failed: ${error}`, entry.name);
    if (!session.alive) {
      // The connection dropped: the next poll (after backoff) fetches the file again.
      return { name: entry.name, result: 'download-error', error };
    }
    const key = fileKey(entry);
    const n = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, n);
    log.warn({ ...ids, file: entry.name, attempt: n, of: maxFileAttempts, err: error }, 'sftp download failed');
    if (n < maxFileAttempts) return { name: entry.name, result: 'download-error', error };
    attempts.delete(key);
    try {
      const movedTo = await moveOut(session, entry, errorDir);
      log.error({ ...ids, file: entry.name, movedTo }, 'sftp file could not be downloaded; moved to the error folder');
      return { name: entry.name, result: 'gave-up', movedTo, error };
    } catch (moveErr) {
      givenUp.add(key);
      log.error(
        { ...ids, file: entry.name, err: errorMessage(moveErr) },
        'sftp file could not be downloaded nor moved; skipped until it changes',
      );
      return { name: entry.name, result: 'gave-up', error };
    }
  }

  async function take(session: SftpSession, entry: RemoteEntry, signal: AbortSignal): Promise<SftpFileResult> {
    let staged: StagedFile;
    try {
      staged = await downloadToStaging(session, posix.join(remoteDir, entry.name), entry.name, entry.size, stagingDir, {
        stallTimeoutMs,
        signal,
      });
    } catch (err) {
      return onDownloadError(session, entry, err);
    }
    attempts.delete(fileKey(entry));

    let outcome: SftpFileOutcome;
    try {
      outcome = await options.onFile({
        localPath: staged.localPath,
        remoteName: entry.name,
        size: staged.size,
        sha256: staged.sha256,
        partner: src.partner,
        sourceId: src.id,
        format: src.format,
        remoteModifiedAt: new Date(entry.modifyTime),
      });
      if (!OUTCOMES.has(outcome)) throw new Error(`consumer returned ${JSON.stringify(outcome)}`);
    } catch (err) {
      const error = errorMessage(err);
      recordError(`consumer: ${error}`, entry.name);
      log.error({ ...ids, file: entry.name, err: error }, 'sftp file not handled; it stays on the server for the next poll');
      return { name: entry.name, result: 'consumer-error', sha256: staged.sha256, error };
    } finally {
      await rm(staged.localPath, { force: true });
    }
    lastFileAt = now();

    const toDir = outcome === 'failed' ? errorDir : processedDir;
    try {
      const movedTo = await moveOut(session, entry, toDir);
      log.info({ ...ids, file: entry.name, bytes: staged.size, sha256: staged.sha256, outcome, movedTo }, 'sftp file handled');
      return { name: entry.name, result: outcome, sha256: staged.sha256, movedTo };
    } catch (err) {
      // It stays in the inbox: the next poll fetches it again, the consumer says duplicate, and the move is retried.
      const error = `could not move to ${toDir}: ${errorMessage(err)}`;
      recordError(error, entry.name);
      log.warn({ ...ids, file: entry.name, outcome, err: error }, 'sftp file handled but not moved');
      return { name: entry.name, result: outcome, sha256: staged.sha256, error };
    }
  }

  async function poll(): Promise<SftpPollResult> {
    lastPollAt = now();
    const abort = new AbortController();
    cycleAbort = abort;
    const result: SftpPollResult = { ok: false, files: [], waiting: [] };
    let session: SftpSession | undefined;
    let connectionLost = false;
    try {
      await prepareStaging();
      session =
        src.type === 'directory'
          ? openLocalFolder()
          : await openSftpSession(
              {
                host: src.host,
                port: src.port,
                username: src.username,
                privateKey: loadPrivateKey(),
                passphrase: src.passphrase,
                hostKeySha256: src.hostKeySha256,
                readyTimeoutMs: options.readyTimeoutMs ?? 20_000,
                keepaliveIntervalMs: options.keepaliveIntervalMs ?? 15_000,
                signal: abort.signal,
              },
              log,
            );
      const { ready, waiting } = select(await session.list(remoteDir));
      result.ok = true;
      lastSuccessAt = now();
      result.waiting = waiting.map((e) => e.name);
      for (const entry of ready) {
        if (abort.signal.aborted) break;
        const r = await take(session, entry, abort.signal);
        result.files.push(r);
        callHook(() => hooks.onFileResult?.({ sourceId: src.id, partner: src.partner, result: r.result }));
        if (r.result === 'changed') result.waiting.push(entry.name);
        if (r.result === 'consumer-error') break;
        if (!session.alive) {
          connectionLost = true;
          break;
        }
      }
    } catch (err) {
      result.error = errorMessage(err);
    } finally {
      cycleAbort = null;
      await session?.close();
    }
    waitingFiles = result.waiting.length;

    const failed = !result.ok || connectionLost;
    if (failed && !abort.signal.aborted) {
      failures++;
      result.error ??= 'connection lost during the poll';
      if (!result.ok) recordError(result.error);
      log.warn({ ...ids, consecutiveFailures: failures, err: result.error }, 'sftp poll failed; retrying with backoff');
      const error = result.error;
      callHook(() => hooks.onPollFailure?.({ sourceId: src.id, partner: src.partner, consecutiveFailures: failures, error }));
    } else if (!failed) {
      failures = 0;
    }
    evaluateDaily();

    if (running) {
      const t = now();
      let at = failed ? new Date(t.getTime() + backoffDelay(failures, backoff)) : nextPollAt(src.poll, t);
      if (!failed && result.waiting.length > 0) at = new Date(Math.min(at.getTime(), t.getTime() + settleMs));
      schedulePoll(at);
    }
    return result;
  }

  /** Polls never overlap: a manual poll waits for a scheduled one and the other way round. */
  function runSerial(): Promise<SftpPollResult> {
    const next = chain.then(poll);
    chain = next.catch(() => undefined);
    return next;
  }

  return {
    sourceId: src.id,
    async start() {
      if (running) return;
      // A staging folder that cannot be made is a startup error, not something to retry quietly.
      await prepareStaging();
      running = true;
      daily = initDaily();
      schedulePoll(now());
    },
    async stop() {
      running = false;
      clearTimeout(pollTimer);
      clearTimeout(dailyTimer);
      pollTimer = undefined;
      dailyTimer = undefined;
      nextPoll = null;
      cycleAbort?.abort();
      await chain;
    },
    pollNow: () => runSerial(),
    status,
  };
}
