/**
 * The gateway as a child process, so a test can `kill -9` it and start it again on the same
 * dataDir (same SQLite file, same private Redis AOF under dataDir/redis). Runs the TypeScript
 * sources through the store tests' loader hooks: no build needed.
 *
 * The MLLP port must survive a restart (senders reconnect to it), so writeFixedPortConfig() picks
 * a free port once and writes it into the config; the HTTP port stays 0 (read it from `ports`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { findFreePort } from '../../src/delivery/free-port.js';
import { PIDFILE_NAME } from '../../src/delivery/redis-server.js';
import { writeTestConfig, type TestGatewayOptions } from './gateway.js';

const LOADER = fileURLToPath(new URL('../integration/store/child/register-ts.mjs', import.meta.url));
const ENTRY = fileURLToPath(new URL('../integration/resilience/child/gateway-child.ts', import.meta.url));
const STDERR_TAIL = 4_000;

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface GatewayProcessOptions {
  configFile: string;
  /** The config's dataDir; stop() uses it to make sure no private redis-server outlives the test. */
  dataDir: string;
  /** Start-up includes transpiling the sources on the fly and Redis AOF replay. Default 90 s. */
  startTimeoutMs?: number;
  /** Extra environment for the child, e.g. CAREBRIDGE_LOG_LEVEL=warn while debugging. */
  env?: Record<string, string>;
}

export interface GatewayProcess {
  /** The current child's pid (changes on restart). */
  readonly pid: number;
  /** Bound ports of the current child, e.g. { http: 41234, 'mllp-in': 40001 }. */
  readonly ports: Record<string, number>;
  readonly redisUrl: string;
  readonly running: boolean;
  /** Tail of the child's stderr (logs), for failure messages. */
  readonly stderrTail: string;
  /** Sends a signal (default SIGKILL: a crash) and waits until the child is gone. */
  kill(signal?: NodeJS.Signals): Promise<ExitInfo>;
  /** Starts a new child on the same config and dataDir; kills the current one first if alive. */
  restart(): Promise<void>;
  /** Graceful stop (SIGTERM; SIGKILL after graceMs), then makes sure its private Redis is gone. */
  stop(graceMs?: number): Promise<void>;
}

interface RunningChild {
  child: ChildProcess;
  pid: number;
  ports: Record<string, number>;
  redisUrl: string;
  exited: Promise<ExitInfo>;
  exitInfo?: ExitInfo;
}

/** Writes a test config whose MLLP listener `mllp-in` has a fixed free port (for restarts). */
export async function writeFixedPortConfig(
  opts: TestGatewayOptions & { mllpPort?: number },
): Promise<{ file: string; dataDir: string; mllpPort: number }> {
  const mllpPort = opts.mllpPort ?? (await findFreePort());
  const { file, dataDir } = writeTestConfig({
    ...opts,
    extra: {
      sources: [
        { id: 'mllp-in', type: 'mllp', host: '127.0.0.1', port: mllpPort },
        { id: 'http-in', type: 'http' },
      ],
      ...opts.extra,
    },
  });
  return { file, dataDir, mllpPort };
}

export async function startGatewayProcess(options: GatewayProcessOptions): Promise<GatewayProcess> {
  let stderrTail = '';
  let current = await launch(options, (text) => {
    stderrTail = (stderrTail + text).slice(-STDERR_TAIL);
  });

  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<ExitInfo> => {
    if (!current.exitInfo) current.child.kill(signal);
    return current.exited;
  };

  return {
    get pid() {
      return current.pid;
    },
    get ports() {
      return current.ports;
    },
    get redisUrl() {
      return current.redisUrl;
    },
    get running() {
      return current.exitInfo === undefined;
    },
    get stderrTail() {
      return stderrTail;
    },
    kill,
    async restart() {
      if (!current.exitInfo) await kill('SIGKILL');
      current = await launch(options, (text) => {
        stderrTail = (stderrTail + text).slice(-STDERR_TAIL);
      });
    },
    async stop(graceMs = 20_000) {
      if (!current.exitInfo) {
        current.child.kill('SIGTERM');
        const timer = setTimeout(() => current.child.kill('SIGKILL'), graceMs);
        await current.exited.finally(() => clearTimeout(timer));
      }
      await stopLeftoverRedis(join(options.dataDir, 'redis'));
    },
  };
}

async function launch(options: GatewayProcessOptions, onStderr: (text: string) => void): Promise<RunningChild> {
  const child = spawn(process.execPath, ['--import', LOADER, ENTRY, options.configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  const running: Partial<RunningChild> & { child: ChildProcess } = { child };
  running.exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      running.exitInfo = { code, signal };
      resolve(running.exitInfo);
    });
  });
  child.stderr!.on('data', (chunk: Buffer) => onStderr(chunk.toString('utf8')));

  const ready = await new Promise<{ pid: number; ports: Record<string, number>; redisUrl: string }>((resolve, reject) => {
    let buffered = '';
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gateway child not ready within ${options.startTimeoutMs ?? 90_000} ms:\n${stderr}`));
    }, options.startTimeoutMs ?? 90_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.startsWith('{"ready":true')) continue;
        clearTimeout(timer);
        resolve(JSON.parse(line) as { pid: number; ports: Record<string, number>; redisUrl: string });
      }
    });
    void running.exited!.then((info) => {
      clearTimeout(timer);
      reject(new Error(`gateway child exited during start (${info.code ?? info.signal}):\n${stderr}`));
    });
  });
  return {
    child,
    exited: running.exited,
    pid: ready.pid,
    ports: ready.ports,
    redisUrl: ready.redisUrl,
    get exitInfo() {
      return running.exitInfo;
    },
  };
}

/**
 * The gateway's private redis-server runs in its own process group and is stopped by the gateway
 * (or by its watchdog when the gateway is killed). If a test ends between a crash and the
 * watchdog's SIGTERM taking effect, stop that server here: only the pid in the dataDir's
 * pidfile, and only if /proc shows a redis-server working in that dataDir.
 */
export async function stopLeftoverRedis(redisDir: string): Promise<void> {
  const pidfile = join(redisDir, PIDFILE_NAME);
  let pid: number | undefined;
  try {
    pid = (JSON.parse(readFileSync(pidfile, 'utf8')) as { pid?: number }).pid;
  } catch {
    return;
  }
  if (typeof pid !== 'number' || !isRedisIn(pid, redisDir)) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 200 && isRedisIn(pid, redisDir); i++) await sleep(50);
  if (isRedisIn(pid, redisDir)) process.kill(pid, 'SIGKILL');
  rmSync(pidfile, { force: true });
}

function isRedisIn(pid: number, dir: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('redis-server')) return false;
    return realpathSync(readlinkSync(`/proc/${pid}/cwd`)) === realpathSync(dir);
  } catch {
    return false;
  }
}
