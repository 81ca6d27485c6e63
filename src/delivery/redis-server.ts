/**
 * A private `redis-server` child for the embedded mode (no Redis URL configured) and for tests.
 *
 * Decisions:
 * - Loopback only, a free port, `--dir dataDir`, no daemonizing, log to `dataDir/redis.log`.
 * - Durability: `--appendonly yes --appendfsync everysec`, RDB snapshots off (`--save ""`).
 *   Redis normally write()s the AOF before it replies, so a killed redis-server (even SIGKILL)
 *   keeps what it acknowledged in the page cache; a machine crash (or a disk so slow that Redis
 *   postpones writes) can lose about the last second. That second is covered by the outbox: the
 *   store is the source of truth and unfinished deliveries are re-enqueued
 *   (DeliveryQueues.resubmit, also on onRedisRecovered). `always` would fsync on every BullMQ
 *   script call and cap throughput for no gain in that design.
 * - `maxmemory-policy noeviction`: BullMQ must never have keys evicted.
 * - Orphans: the child runs in its own process group (a Ctrl-C reaches only the gateway, which
 *   then stops Redis in order). A tiny `sh` watchdog holds a pipe from us and SIGTERMs Redis
 *   when the pipe closes, which happens however we die, kill -9 included. If the watchdog is
 *   killed too, the pidfile in dataDir lets the next start find and stop the stale server (it is
 *   only touched if /proc shows a redis-server whose cwd is this dataDir).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join, resolve as resolvePath } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findFreePort } from './free-port.js';

export const PIDFILE_NAME = 'carebridge-redis.pid';
const LOG_NAME = 'redis.log';
const HOST = '127.0.0.1';

/** The redis-server binary is not installed (or not at the configured path). */
export class RedisBinaryMissingError extends Error {
  readonly code = 'REDIS_BINARY_MISSING';
  constructor(binary: string) {
    super(
      `redis-server not found (looked for "${binary}"). Install it with ` +
        '`sudo apt-get install redis-server` (Debian/Ubuntu), or set `redis.url` in the config ' +
        'to use an existing Redis server.',
    );
    this.name = 'RedisBinaryMissingError';
  }
}

/** redis-server started but did not become ready (bad dataDir, corrupt AOF, port clash...). */
export class RedisStartError extends Error {
  readonly code = 'REDIS_START_FAILED';
  constructor(
    message: string,
    readonly logTail: string,
  ) {
    super(message);
    this.name = 'RedisStartError';
  }
}

export interface PrivateRedisOptions {
  /** Directory for the AOF, log and pidfile. Created if missing. */
  dataDir: string;
  /** Fixed port (e.g. to restart on the same port); default: a free one. */
  port?: number;
  /** Binary name or path; default `redis-server` from PATH. */
  binary?: string;
  /** How long to wait for PING (AOF loading counts). Default 30 s. */
  startTimeoutMs?: number;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface PrivateRedis {
  readonly host: string;
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly pid: number;
  readonly dataDir: string;
  /** Resolves when redis-server exits, for whatever reason. */
  readonly exited: Promise<ExitInfo>;
  /** Graceful stop: SIGTERM (Redis flushes the AOF), SIGKILL after `graceMs`. Idempotent. */
  stop(graceMs?: number): Promise<void>;
  /** Sends a signal and waits for the exit (tests use SIGKILL to simulate a crash). */
  kill(signal: NodeJS.Signals): Promise<ExitInfo>;
}

export async function startPrivateRedis(options: PrivateRedisOptions): Promise<PrivateRedis> {
  const binary = resolveBinary(options.binary ?? 'redis-server');
  const dataDir = resolvePath(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  await stopStaleServer(dataDir);

  // A free port can be taken between probing and binding; retry only when we chose the port.
  const tries = options.port === undefined ? 3 : 1;
  let lastError: unknown;
  for (let i = 0; i < tries; i++) {
    const port = options.port ?? (await findFreePort(HOST));
    try {
      return await launch(binary, dataDir, port, options.startTimeoutMs ?? 30_000);
    } catch (err) {
      lastError = err;
      const clash = err instanceof RedisStartError && /address already in use/i.test(err.logTail);
      if (!clash) throw err;
    }
  }
  throw lastError;
}

function resolveBinary(binary: string): string {
  const candidates = binary.includes('/')
    ? [binary]
    : (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin')
        .split(delimiter)
        .concat(['/usr/bin', '/usr/sbin', '/usr/local/bin'])
        .filter(Boolean)
        .map((dir) => join(dir, binary));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new RedisBinaryMissingError(binary);
}

async function launch(binary: string, dataDir: string, port: number, startTimeoutMs: number): Promise<PrivateRedis> {
  const args = [
    '--bind',
    HOST,
    '--port',
    String(port),
    '--protected-mode',
    'yes',
    '--dir',
    dataDir,
    '--logfile',
    LOG_NAME,
    '--daemonize',
    'no',
    '--appendonly',
    'yes',
    '--appendfsync',
    'everysec',
    '--save',
    '',
    '--maxmemory-policy',
    'noeviction',
  ];
  const child = spawn(binary, args, { cwd: dataDir, stdio: 'ignore', detached: true });
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const spawned = await new Promise<boolean>((resolve) => {
    child.once('spawn', () => resolve(true));
    child.once('error', () => resolve(false));
  });
  if (!spawned || child.pid === undefined) throw new RedisBinaryMissingError(binary);
  child.unref();
  const pid = child.pid;

  const watchdog = startWatchdog(pid);
  writeFileSync(join(dataDir, PIDFILE_NAME), JSON.stringify({ pid, port, watchdogPid: watchdog.pid ?? null }));
  const onParentExit = () => {
    // Last-chance cleanup on a normal process exit without stop(); synchronous by necessity.
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  };
  process.on('exit', onParentExit);

  let exitInfo: ExitInfo | undefined;
  void exited.then((info) => {
    exitInfo = info;
    process.off('exit', onParentExit);
    killQuietly(watchdog, 'SIGKILL');
  });

  try {
    await waitForPing(port, startTimeoutMs, () => exitInfo !== undefined);
  } catch (err) {
    killQuietly(child, 'SIGKILL');
    await exited;
    removePidfile(dataDir, pid);
    const logTail = readLogTail(dataDir);
    const why = err instanceof Error ? err.message : String(err);
    throw new RedisStartError(`redis-server on port ${port} did not start: ${why}. Log (${join(dataDir, LOG_NAME)}):\n${logTail}`, logTail);
  }

  const kill = async (signal: NodeJS.Signals): Promise<ExitInfo> => {
    if (!exitInfo) killQuietly(child, signal);
    const info = await exited;
    removePidfile(dataDir, pid);
    return info;
  };

  return {
    host: HOST,
    port,
    url: `redis://${HOST}:${port}`,
    pid,
    dataDir,
    exited,
    kill,
    async stop(graceMs = 10_000) {
      if (exitInfo) {
        removePidfile(dataDir, pid);
        return;
      }
      killQuietly(child, 'SIGTERM');
      const timer = setTimeout(() => killQuietly(child, 'SIGKILL'), graceMs);
      try {
        await exited;
      } finally {
        clearTimeout(timer);
      }
      removePidfile(dataDir, pid);
    },
  };
}

/**
 * `sh` blocks reading a pipe we never write; when our process dies the pipe closes, `read`
 * returns and the shell SIGTERMs Redis. Normal stops kill the watchdog first (by its pid).
 */
function startWatchdog(redisPid: number): ChildProcess {
  const watchdog = spawn('sh', ['-c', 'read _; kill -TERM "$1" 2>/dev/null', 'carebridge-redis-watchdog', String(redisPid)], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  watchdog.on('error', () => {
    // No sh: we still have the pidfile and the exit hook.
  });
  watchdog.unref();
  // The pipe must not keep the event loop alive, but must stay open as long as we live.
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return watchdog;
}

function killQuietly(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    child.kill(signal);
  } catch {
    // already exited
  }
}

/** PING over a raw socket: no client library, no reconnect noise while the server boots. */
async function waitForPing(port: number, timeoutMs: number, hasExited: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (hasExited()) throw new Error('redis-server exited during start');
    last = await pingOnce(port);
    if (last.startsWith('+PONG')) return;
    await sleep(50);
  }
  throw new Error(`no PONG within ${timeoutMs} ms (last: ${last.trim()})`);
}

function pingOnce(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    let reply = '';
    const done = (value: string) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(1000, () => done('timeout'));
    socket.once('error', (err) => done(err.message));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply);
    });
  });
}

function readLogTail(dataDir: string, lines = 15): string {
  try {
    return readFileSync(join(dataDir, LOG_NAME), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function removePidfile(dataDir: string, pid: number): void {
  const file = join(dataDir, PIDFILE_NAME);
  try {
    const recorded = JSON.parse(readFileSync(file, 'utf8')) as { pid?: number };
    if (recorded.pid === pid) rmSync(file, { force: true });
  } catch {
    // missing or unreadable: nothing to clean
  }
}

interface PidfileContent {
  pid?: number;
  watchdogPid?: number | null;
}

/** Stops a redis-server left behind by an earlier run on the same dataDir. */
async function stopStaleServer(dataDir: string): Promise<void> {
  const file = join(dataDir, PIDFILE_NAME);
  let recorded: PidfileContent;
  try {
    recorded = JSON.parse(readFileSync(file, 'utf8')) as PidfileContent;
  } catch {
    return;
  }
  if (typeof recorded.pid === 'number' && isOurStaleRedis(recorded.pid, dataDir)) {
    signalPid(recorded.pid, 'SIGTERM');
    const deadline = Date.now() + 10_000;
    while (isAlive(recorded.pid) && Date.now() < deadline) await sleep(50);
    if (isAlive(recorded.pid)) signalPid(recorded.pid, 'SIGKILL');
    while (isAlive(recorded.pid)) await sleep(20);
  }
  rmSync(file, { force: true });
}

/** Only a live redis-server whose working directory is this dataDir counts (pids get reused). */
function isOurStaleRedis(pid: number, dataDir: string): boolean {
  if (!isAlive(pid)) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes('redis-server')) return false;
    return realpathSync(readlinkSync(`/proc/${pid}/cwd`)) === realpathSync(dataDir);
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !isZombie(pid);
  } catch {
    return false;
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone
  }
}
