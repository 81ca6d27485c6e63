// @ts-check
/**
 * Runs one contender as a whole process and measures it: wall time from spawn to exit, and peak
 * RSS plus CPU time from GNU time (`/usr/bin/time`, Debian package `time`), which reads them from
 * the kernel's rusage of the child, so nothing has to be injected into the contender.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const GNU_TIME = '/usr/bin/time';

/**
 * @typedef {object} Measurement
 * @property {number} wallSeconds
 * @property {number | null} peakRssKb   null when GNU time is not installed
 * @property {number | null} cpuSeconds   user + system; null when GNU time is not installed
 * @property {number | null} exitCode
 * @property {string} stderrTail          last part of stderr, for failure messages
 */

/** @returns {boolean} */
export const hasGnuTime = () => existsSync(GNU_TIME);

/**
 * @param {string[]} command   argv, command[0] is the executable
 * @param {{ cwd: string }} options
 * @returns {Promise<Measurement>}
 */
export async function measure(command, { cwd }) {
  const scratch = mkdtempSync(join(tmpdir(), 'carebridge-bench-'));
  const timeFile = join(scratch, 'time.txt');
  const useTime = hasGnuTime();
  const argv = useTime ? [GNU_TIME, '-o', timeFile, '-f', '%M %U %S', ...command] : command;
  try {
    const started = process.hrtime.bigint();
    // Output goes nowhere: the runner must not spend CPU draining a pipe on a 2-core machine.
    const child = spawn(argv[0], argv.slice(1), { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-2000);
    });
    const exitCode = await new Promise((resolvePromise, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolvePromise(code));
    });
    const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    let peakRssKb = null;
    let cpuSeconds = null;
    if (useTime && existsSync(timeFile)) {
      // GNU time writes "Command exited with non-zero status N" before the format line on failure.
      const lastLine = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
      const [rss, user, sys] = lastLine.split(' ').map(Number);
      if ([rss, user, sys].every(Number.isFinite)) {
        peakRssKb = rss;
        cpuSeconds = user + sys;
      }
    }
    return { wallSeconds, peakRssKb, cpuSeconds, exitCode, stderrTail: stderr.trim() };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
