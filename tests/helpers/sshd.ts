/**
 * A private OpenSSH sshd per test file: the real Debian binary in the foreground (`-D -e`), a
 * temporary ed25519 host key, a free loopback port, and one chrooted SFTP-only user
 * (`ForceCommand internal-sftp`). Stopped by PID; its folder is removed afterwards.
 *
 * sshd insists that the chroot and every folder above it are root-owned and not group/world
 * writable, and StrictModes applies the same rule to authorized_keys. /tmp is world-writable, so
 * everything lives under /var/lib/carebridge-test-sftp/<random>/ instead. That needs root (CI runs
 * tests as root); `sshdSkipReason()` says why the tests cannot run otherwise.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findFreePort } from '../../src/delivery/free-port.js';
import { killChildOnExit, waitForExit } from './child-process.js';

export const SSHD_BIN = process.env.CAREBRIDGE_SSHD_BIN ?? '/usr/sbin/sshd';
const BASE_DIR = '/var/lib/carebridge-test-sftp';
export const SFTP_TEST_USER = 'carebridge-sftp';

export interface TestSshd {
  host: string;
  port: number;
  username: string;
  /** OpenSSH-format ed25519 client key (unencrypted) authorized for `username`. */
  privateKeyPath: string;
  /** `SHA256:<base64>` as printed by `ssh-keygen -l -E sha256`. */
  hostKeySha256: string;
  /** The config keys of an SFTP source or destination that reach this server (add remoteDir). */
  server: { host: string; port: number; username: string; privateKey: string; hostKeySha256: string };
  /** The chroot on disk (root-owned). The SFTP user sees it as `/`. */
  root: string;
  /** Folder the user may write in, as the client sees it (`/inbox`). */
  remoteDir: string;
  /** The same folder on disk (`<root>/inbox`), owned by the test user. */
  localDir: string;
  /** Writes a file into `localDir` (or a subfolder) owned by the test user, as a partner upload would. */
  drop(relativePath: string, content: string | Buffer): string;
  /** Creates a folder below `localDir` owned by the test user; returns its remote path. */
  makeDir(relativePath: string): string;
  /** Appends to a file in `localDir` (a partner still uploading). */
  append(relativePath: string, content: string | Buffer): void;
  /** Last lines sshd wrote to stderr (for failure messages). */
  logTail(): string;
  stop(): Promise<void>;
}

/** Null when a private sshd can run here; otherwise a message saying what is missing. */
export function sshdSkipReason(): string | null {
  if (!existsSync(SSHD_BIN)) return `sshd not found at ${SSHD_BIN} (apt-get install openssh-server)`;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return 'the sshd tests need root (chroot and a dedicated test user); CI runs them as root';
  }
  for (const tool of ['ssh-keygen', 'useradd']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} not found (apt-get install openssh-client passwd)`;
    }
  }
  return null;
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function userIds(name: string): { uid: number; gid: number } | null {
  try {
    return { uid: Number(run('id', ['-u', name]).trim()), gid: Number(run('id', ['-g', name]).trim()) };
  } catch {
    return null;
  }
}

/**
 * The dedicated SFTP user. Several test files may race to create it, and useradd/usermod fail
 * while another holds the passwd lock, so both are retried. The password is set to `*` (no
 * password, but not "locked"): with UsePAM off, sshd refuses public-key logins to locked accounts.
 */
async function ensureTestUser(): Promise<{ uid: number; gid: number }> {
  for (let attempt = 0; attempt < 20; attempt++) {
    let ids = userIds(SFTP_TEST_USER);
    try {
      if (!ids) {
        run('useradd', [
          '--system',
          '--no-create-home',
          '--home-dir',
          '/nonexistent',
          '--shell',
          '/usr/sbin/nologin',
          '--password',
          '*',
          SFTP_TEST_USER,
        ]);
        ids = userIds(SFTP_TEST_USER);
      }
      const shadow = run('getent', ['shadow', SFTP_TEST_USER]).split(':')[1] ?? '';
      if (shadow.startsWith('!')) run('usermod', ['--password', '*', SFTP_TEST_USER]);
      if (ids) return ids;
    } catch {
      // lock held by a parallel test file, or it created the user first: look again
    }
    await sleep(100 + Math.random() * 200);
  }
  throw new Error(`could not create the SFTP test user ${SFTP_TEST_USER}`);
}

function sshdConfig(o: { port: number; hostKey: string; authorizedKeys: string; chroot: string }): string {
  return [
    `Port ${o.port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${o.hostKey}`,
    'PidFile none',
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    `AuthorizedKeysFile ${o.authorizedKeys}`,
    'StrictModes yes',
    'PermitRootLogin no',
    `AllowUsers ${SFTP_TEST_USER}`,
    'Subsystem sftp internal-sftp',
    'ForceCommand internal-sftp',
    `ChrootDirectory ${o.chroot}`,
    'AllowTcpForwarding no',
    'AllowAgentForwarding no',
    'X11Forwarding no',
    'PermitTTY no',
    'PrintMotd no',
    // Tests reconnect often; do not throttle them.
    'MaxStartups 100',
    'LogLevel INFO',
    '',
  ].join('\n');
}

export async function startSshd(): Promise<TestSshd> {
  const skip = sshdSkipReason();
  if (skip) throw new Error(skip);
  const user = await ensureTestUser();

  // Privilege separation needs this folder; Debian creates it only when the system sshd starts.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  mkdirSync(BASE_DIR, { recursive: true, mode: 0o755 });
  chmodSync(BASE_DIR, 0o755);
  const dir = mkdtempSync(join(BASE_DIR, 'run-'));
  chmodSync(dir, 0o755);
  const etc = join(dir, 'etc');
  const root = join(dir, 'chroot');
  const localDir = join(root, 'inbox');
  mkdirSync(etc, { mode: 0o755 });
  mkdirSync(root, { mode: 0o755 });
  mkdirSync(localDir, { mode: 0o755 });
  chownSync(localDir, user.uid, user.gid);
  const cleanupDir = (): void => rmSync(dir, { recursive: true, force: true });

  const hostKey = join(etc, 'host_ed25519_key');
  const clientKey = join(etc, 'client_ed25519_key');
  const authorizedKeys = join(etc, 'authorized_keys');
  let hostKeySha256: string;
  try {
    run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'carebridge-test-host', '-f', hostKey]);
    run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'carebridge-test-client', '-f', clientKey]);
    writeFileSync(authorizedKeys, readFileSync(`${clientKey}.pub`), { mode: 0o644 });
    // "256 SHA256:abc... comment (ED25519)"
    const fp = /SHA256:[A-Za-z0-9+/]+/.exec(run('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${hostKey}.pub`]));
    if (!fp) throw new Error('ssh-keygen printed no SHA256 fingerprint');
    hostKeySha256 = fp[0];
  } catch (err) {
    cleanupDir();
    throw err;
  }

  let child: ChildProcess | undefined;
  let port = 0;
  let stderrTail = '';
  const removeExitGuard = killChildOnExit(() => child, cleanupDir);

  // A free port can be taken between probing and binding: retry on bind failures.
  for (let attempt = 1; attempt <= 3 && !child; attempt++) {
    port = await findFreePort();
    stderrTail = '';
    const configFile = join(etc, 'sshd_config');
    writeFileSync(configFile, sshdConfig({ port, hostKey, authorizedKeys, chroot: root }), { mode: 0o644 });
    // Absolute path: sshd re-executes itself and refuses a relative argv[0].
    const proc = spawn(SSHD_BIN, ['-D', '-e', '-f', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let listening = false;
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString()).slice(-8000);
      if (stderrTail.includes(`Server listening on 127.0.0.1 port ${port}`)) listening = true;
    });
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && !listening && proc.exitCode === null && proc.signalCode === null) await sleep(20);
    if (listening) {
      child = proc;
      break;
    }
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await waitForExit(proc, 5000);
    }
    if (!/Address already in use|Bind to port/i.test(stderrTail)) break;
  }
  if (!child) {
    removeExitGuard();
    cleanupDir();
    throw new Error(`sshd did not start: ${stderrTail.trim().split('\n').slice(-5).join(' | ')}`);
  }
  const sshd = child;

  const inInbox = (relativePath: string): string => {
    if (relativePath.split('/').includes('..')) throw new Error('drop(): path must stay inside the inbox');
    return join(localDir, relativePath);
  };
  return {
    host: '127.0.0.1',
    port,
    username: SFTP_TEST_USER,
    privateKeyPath: clientKey,
    hostKeySha256,
    server: { host: '127.0.0.1', port, username: SFTP_TEST_USER, privateKey: clientKey, hostKeySha256 },
    root,
    remoteDir: '/inbox',
    localDir,
    drop(relativePath, content) {
      const path = inInbox(relativePath);
      writeFileSync(path, content, { mode: 0o644 });
      chownSync(path, user.uid, user.gid);
      return path;
    },
    makeDir(relativePath) {
      const path = inInbox(relativePath);
      mkdirSync(path, { recursive: true, mode: 0o755 });
      chownSync(path, user.uid, user.gid);
      return `/inbox/${relativePath}`;
    },
    append(relativePath, content) {
      writeFileSync(inInbox(relativePath), content, { flag: 'a' });
    },
    logTail: () => stderrTail,
    async stop() {
      removeExitGuard();
      if (sshd.exitCode === null && sshd.signalCode === null) {
        sshd.kill('SIGTERM');
        if (!(await waitForExit(sshd, 5000))) {
          sshd.kill('SIGKILL');
          await waitForExit(sshd, 5000);
        }
      }
      cleanupDir();
    },
  };
}
