/**
 * One SFTP session (ssh2-sftp-client) with the pinned host key, reduced to what the poller needs.
 *
 * ssh2-sftp-client only listens for connection errors while one of its calls is running; between
 * calls it reports through the constructor callbacks, and the SFTP channel itself can emit
 * 'error' once ready. All of those are wired here so a dying connection never becomes an
 * unhandled 'error' event, and `alive` tells the poller the session is gone.
 */
import { posix } from 'node:path';
import type { Client, SFTPWrapper } from 'ssh2';
import SftpClient from 'ssh2-sftp-client';
import type { Logger } from '../../observability/log.js';
import { pinnedHostVerifier } from './host-key.js';

export interface SftpConnectOptions {
  host: string;
  port: number;
  username: string;
  privateKey: Buffer | string;
  passphrase?: string;
  /** `SHA256:<base64>` fingerprint; any other host key is refused. */
  hostKeySha256: string;
  readyTimeoutMs: number;
  /** SSH keepalives detect a peer that vanished without closing the connection. */
  keepaliveIntervalMs: number;
  /** Aborting gives up connecting at once (the poller is stopping). */
  signal?: AbortSignal;
}

export interface RemoteEntry {
  name: string;
  /** `-` regular file, `d` directory, `l` symlink. */
  type: string;
  size: number;
  /** Milliseconds since the epoch (SFTP v3 carries whole seconds). */
  modifyTime: number;
}

export interface DownloadOptions {
  /** Abort when no bytes arrived for this long (the server is alive but stuck). */
  stallTimeoutMs: number;
  /** Aborting destroys the session: an SFTP read cannot be cancelled on its own. */
  signal?: AbortSignal;
}

export interface SftpSession {
  readonly alive: boolean;
  list(dir: string): Promise<RemoteEntry[]>;
  /** fastGet into `localPath`. */
  download(remotePath: string, localPath: string, options: DownloadOptions): Promise<void>;
  exists(remotePath: string): Promise<boolean>;
  /** mkdir -p, remembered for the session. */
  ensureDir(remotePath: string): Promise<void>;
  /** posix-rename@openssh.com (atomic) where the server offers it, else plain SFTP rename. */
  rename(from: string, to: string): Promise<void>;
  /** Drops the connection at once (stop(), stalled transfer). */
  destroy(): void;
  close(): Promise<void>;
}

/** What the ssh2-sftp-client instance holds but its type declarations omit. */
interface SftpClientInternals {
  client: Client;
}

/**
 * Bytes received on the SSH socket so far. fastGet reports progress only per completed chunk,
 * and with many parallel reads on a slow link the first chunk can complete late, so the stall
 * watchdog also counts raw bytes arriving. `_sock` is ssh2's (undocumented) socket; without it
 * the watchdog falls back to chunk progress alone.
 */
function socketBytesRead(ssh: Client): number | undefined {
  const sock = (ssh as unknown as { _sock?: { bytesRead?: unknown } })._sock;
  return typeof sock?.bytesRead === 'number' ? sock.bytesRead : undefined;
}

/** Turns ssh2's connection errors into one clear line (no stack, no key material). */
export function describeConnectError(err: unknown, target: string): Error {
  const e = err as NodeJS.ErrnoException & { level?: string };
  const raw = e?.message ?? String(err);
  let why: string;
  if (e?.code === 'ECONNREFUSED' || /refused connection/i.test(raw)) why = 'connection refused';
  else if (e?.code === 'ENOTFOUND' || /address lookup failed/i.test(raw)) why = 'host name not found';
  else if (e?.code === 'ETIMEDOUT' || /timed out/i.test(raw)) why = 'timed out';
  else if (e?.level === 'client-authentication' || /authentication methods failed/i.test(raw))
    why = 'login refused (check username and private key)';
  else if (/privatekey|private key|parse/i.test(raw) && /key/i.test(raw)) why = `cannot use the private key: ${raw.replace(/^.*?: /, '')}`;
  else why = raw.replace(/^getConnection: /, '');
  const out = new Error(`SFTP ${target}: ${why}`);
  (out as NodeJS.ErrnoException).code = e?.code;
  return out;
}

export async function openSftpSession(o: SftpConnectOptions, log: Logger): Promise<SftpSession> {
  const target = `${o.username}@${o.host}:${o.port}`;
  let alive = false;
  const client = new SftpClient(`carebridge ${target}`, {
    // Debug only: the poller learns about a lost connection from the failing call or `alive`.
    error: (err) => log.debug({ target, err: (err as Error)?.message }, 'sftp connection error'),
    end: () => log.debug({ target }, 'sftp connection ended'),
    close: () => log.debug({ target }, 'sftp connection closed'),
  });
  const ssh = (client as unknown as SftpClientInternals).client;
  ssh.on('close', () => {
    alive = false;
  });
  const pin = pinnedHostVerifier(o.hostKeySha256);
  if (o.signal?.aborted) throw new Error(`SFTP ${target}: connect aborted`);
  const onAbort = (): void => void ssh.destroy();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  let sftp: SFTPWrapper;
  try {
    sftp = await client.connect({
      host: o.host,
      port: o.port,
      username: o.username,
      privateKey: o.privateKey,
      passphrase: o.passphrase,
      hostVerifier: (key: Buffer) => pin.verify(key),
      readyTimeout: o.readyTimeoutMs,
      keepaliveInterval: o.keepaliveIntervalMs,
      keepaliveCountMax: 3,
    });
  } catch (err) {
    ssh.destroy();
    throw pin.mismatch() ?? describeConnectError(err, target);
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
  alive = true;
  sftp.on('error', (err: Error) => {
    alive = false;
    log.debug({ target, err: err.message }, 'sftp channel error');
  });

  let posixRename = true;
  const knownDirs = new Set<string>();
  const destroy = (): void => {
    alive = false;
    ssh.destroy();
  };

  return {
    get alive() {
      return alive;
    },
    async list(dir) {
      const entries = await client.list(dir);
      return entries.map((e) => ({ name: e.name, type: e.type, size: e.size, modifyTime: e.modifyTime }));
    },
    async download(remotePath, localPath, { stallTimeoutMs, signal }) {
      let lastProgress = Date.now();
      let lastBytes = socketBytesRead(ssh);
      const watchdog = setInterval(
        () => {
          const bytes = socketBytesRead(ssh);
          if (bytes !== lastBytes) {
            lastBytes = bytes;
            lastProgress = Date.now();
          }
          if (Date.now() - lastProgress > stallTimeoutMs) {
            log.warn({ target, stallTimeoutMs }, 'sftp transfer stalled; dropping the connection');
            destroy();
          }
        },
        Math.max(50, Math.min(5000, stallTimeoutMs / 4)),
      );
      const onAbort = (): void => destroy();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        if (signal?.aborted) throw new Error('download aborted');
        await client.fastGet(remotePath, localPath, {
          step: () => {
            lastProgress = Date.now();
          },
        });
      } finally {
        clearInterval(watchdog);
        signal?.removeEventListener('abort', onAbort);
      }
    },
    async exists(remotePath) {
      return (await client.exists(remotePath)) !== false;
    },
    async ensureDir(remotePath) {
      const dir = posix.normalize(remotePath);
      if (knownDirs.has(dir)) return;
      try {
        await client.mkdir(dir, true);
      } catch (err) {
        // Another poller (or the partner) may have created it in between.
        if ((await client.exists(dir)) !== 'd') throw err;
      }
      knownDirs.add(dir);
    },
    async rename(from, to) {
      if (posixRename) {
        try {
          await client.posixRename(from, to);
          return;
        } catch (err) {
          // ssh2 throws this before sending anything when the server lacks the extension.
          if (!/does not support/i.test((err as Error).message)) throw err;
          posixRename = false;
        }
      }
      await client.rename(from, to);
    },
    destroy,
    async close() {
      if (!alive) {
        ssh.destroy();
        return;
      }
      // end() waits for the server to close; a wedged server must not hold the poller.
      const timer = setTimeout(() => ssh.destroy(), 5000);
      try {
        await client.end();
      } catch {
        ssh.destroy();
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
