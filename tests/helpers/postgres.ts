import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { findFreePort } from '../../src/delivery/free-port.js';
import { killChildOnExit, waitForExit } from './child-process.js';

// A private, throwaway Postgres for tests: initdb into a fresh temp dir, start `postgres` on a free
// loopback port with its socket in that dir, create a database, and stop it by PID afterwards.
// Postgres refuses to run as root, so under root (CI) every binary runs as the `postgres` OS user
// via setpriv (which execs, so the PID we hold is the postmaster's own).

export interface PostgresServer {
  /** URL of a database created at start (`carebridge`). */
  url: string;
  port: number;
  /** Creates another empty database and returns its URL (for per-test isolation). */
  createDatabase(name?: string): Promise<string>;
  stop(): Promise<void>;
}

export class PostgresUnavailableError extends Error {}

/** The bin directory of the newest installed Postgres, or null when none is installed. */
export function findPostgresBin(): string | null {
  const fromEnv = process.env.CAREBRIDGE_PG_BIN;
  if (fromEnv && existsSync(join(fromEnv, 'postgres'))) return fromEnv;
  const debianRoot = '/usr/lib/postgresql';
  if (existsSync(debianRoot)) {
    const versions = readdirSync(debianRoot)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const bin = join(debianRoot, v, 'bin');
      if (existsSync(join(bin, 'postgres')) && existsSync(join(bin, 'initdb'))) return bin;
    }
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'postgres')) && existsSync(join(dir, 'initdb'))) return dir;
  }
  return null;
}

interface RunAs {
  uid: number;
  gid: number;
  /** Wraps a command so it runs as the target user. */
  wrap(cmd: string, args: string[]): [string, string[]];
}

function runAs(): RunAs {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    return { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1, wrap: (cmd, args) => [cmd, args] };
  }
  let uid: number;
  let gid: number;
  try {
    uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  } catch {
    throw new PostgresUnavailableError('running as root but there is no `postgres` OS user to run the server as (install postgresql)');
  }
  return {
    uid,
    gid,
    wrap: (cmd, args) => ['setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', cmd, ...args]],
  };
}

async function canConnect(port: number): Promise<boolean> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export interface StartPostgresOptions {
  /** Keep fsync and synchronous commit on (for measuring commit cost). Default off: tests want speed. */
  durable?: boolean;
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const bin = findPostgresBin();
  if (!bin) throw new PostgresUnavailableError('no Postgres server binaries found (apt-get install postgresql)');
  const user = runAs();

  // mkdtemp makes a 0700 dir owned by us; hand it to the server's user so it can reach its data.
  // As root, use /tmp itself: a custom TMPDIR (e.g. under /root) may not be traversable by `postgres`.
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const root = mkdtempSync(join(isRoot ? '/tmp' : tmpdir(), 'cb-pg-'));
  const dataDir = join(root, 'data');
  const sockDir = join(root, 's');
  mkdirSync(sockDir);
  chmodSync(root, 0o700);
  if (user.uid >= 0) {
    chownSync(root, user.uid, user.gid);
    chownSync(sockDir, user.uid, user.gid);
  }
  const cleanupDir = (): void => rmSync(root, { recursive: true, force: true });

  try {
    const [initCmd, initArgs] = user.wrap(join(bin, 'initdb'), [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    execFileSync(initCmd, initArgs, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    cleanupDir();
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new PostgresUnavailableError(`initdb failed: ${stderr || (err as Error).message}`);
  }

  let child: ChildProcess | undefined;
  let port = 0;
  let stderrTail = '';
  const removeExitGuard = killChildOnExit(() => child, cleanupDir);

  // A free port can be taken between probing and binding: retry a few times on bind failures.
  for (let attempt = 1; attempt <= 3 && !child; attempt++) {
    port = await findFreePort();
    stderrTail = '';
    const [cmd, args] = user.wrap(join(bin, 'postgres'), [
      '-D',
      dataDir,
      '-k',
      sockDir,
      '-p',
      String(port),
      '-h',
      '127.0.0.1',
      // Test cluster only: durability of the test database itself does not matter, speed does.
      ...(options.durable ? [] : ['-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'synchronous_commit=off']),
      '-c',
      'max_connections=100',
      '-c',
      'shared_buffers=32MB',
    ]);
    const proc = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString()).slice(-4000);
    });
    const deadline = Date.now() + 30_000;
    let ready = false;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) break;
      if (await canConnect(port)) {
        ready = true;
        break;
      }
      await sleep(100);
    }
    if (ready) {
      child = proc;
      break;
    }
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await waitForExit(proc, 5000);
    }
    if (!/could not bind|Address already in use/i.test(stderrTail)) break;
  }
  if (!child) {
    removeExitGuard();
    cleanupDir();
    throw new PostgresUnavailableError(`postgres did not start: ${stderrTail.trim().split('\n').slice(-5).join(' | ')}`);
  }

  const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  admin.on('error', () => {});
  await admin.connect();
  let counter = 0;
  const createDatabase = async (name?: string): Promise<string> => {
    const db = name ?? `carebridge_${++counter}`;
    if (!/^[a-z_][a-z0-9_]*$/.test(db)) throw new Error(`bad database name: ${db}`);
    await admin.query(`CREATE DATABASE ${db}`);
    return `postgres://postgres@127.0.0.1:${port}/${db}`;
  };
  const url = await createDatabase('carebridge');
  const server = child;

  return {
    url,
    port,
    createDatabase,
    async stop() {
      await admin.end().catch(() => {});
      if (server.exitCode === null && server.signalCode === null && server.pid) {
        // SIGINT = "fast" shutdown: disconnect clients, stop cleanly.
        process.kill(server.pid, 'SIGINT');
        if (!(await waitForExit(server, 15_000))) {
          process.kill(server.pid, 'SIGKILL');
          await waitForExit(server, 5000);
        }
      }
      removeExitGuard();
      cleanupDir();
    },
  };
}
