// @ts-check
/** Child-process plumbing for the gateway benchmark: spawn, wait for a line, read /proc. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Linux clock ticks per second (USER_HZ); 100 on every mainstream kernel build. */
const CLK_TCK = 100;

/** @returns {Promise<number>} a free loopback port (tiny race until the server binds it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Spawns a process and resolves once a line of its `stream` matches `pattern` (or rejects when it
 * exits first / after timeoutMs). Returns the child, the matching line and an `exited` promise.
 * @param {string} command @param {string[]} args
 * @param {{ stream: 'stdout' | 'stderr', pattern: RegExp, timeoutMs: number, stdoutFd?: number, cwd?: string }} opts
 */
export function spawnUntil(command, args, opts) {
  const stdio = /** @type {import('node:child_process').StdioOptions} */ ([
    'ignore',
    opts.stream === 'stdout' ? 'pipe' : (opts.stdoutFd ?? 'ignore'),
    opts.stream === 'stderr' ? 'pipe' : 'inherit',
  ]);
  const child = spawn(command, args, { stdio, cwd: opts.cwd });
  /** @type {Promise<{ code: number | null, signal: NodeJS.Signals | null }>} */
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const stream = opts.stream === 'stdout' ? child.stdout : child.stderr;
  let seen = '';
  /** @type {Promise<string>} */
  const matched = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${command} ${args.join(' ')}: not ready after ${opts.timeoutMs} ms\n${seen.slice(-2000)}`)),
      opts.timeoutMs,
    );
    let buffered = '';
    stream?.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      seen = (seen + chunk.toString('utf8')).slice(-4000);
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (opts.pattern.test(line)) {
          clearTimeout(timer);
          resolve(line);
        }
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${command} ${args.join(' ')} exited (${code ?? signal}) before it was ready\n${seen.slice(-2000)}`));
    });
  });
  return { child, matched, exited, output: () => seen };
}

/**
 * CPU seconds (user + system) and peak RSS (MB) of a live process, from /proc.
 * @param {number} pid @returns {{ cpuSec: number, peakRssMb: number } | undefined}
 */
export function procUsage(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of /proc/PID/stat (utime, stime) are at 11 and 12 after the command.
    const cpuSec = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuSec, peakRssMb: hwm ? Number(hwm[1]) / 1024 : 0 };
  } catch {
    return undefined;
  }
}

/**
 * Collects a child's whole stdout and resolves with it when the child exits.
 * @param {string} command @param {string[]} args
 */
export function runToEnd(command, args) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c) => (out += c.toString('utf8')));
  /** @type {Promise<{ code: number | null, out: string }>} */
  const done = new Promise((resolve) => child.once('exit', (code) => resolve({ code, out })));
  return { child, done };
}
