/**
 * An in-process SFTP server (ssh2 `Server`) over a temp folder, for the faults a real sshd will not
 * produce on demand: a connection dropped mid-transfer, a file that is still growing, permission
 * denied, and a slow server. It sits next to the real-sshd tests, not instead of them.
 *
 * Only what a downloading client needs is implemented (list, stat, read, rename, mkdir, remove);
 * writes are refused. Like OpenSSH's plain SFTP rename, rename onto an existing name fails, and no
 * extensions (posix-rename) are advertised, so clients must fall back to plain rename here.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  lstatSync,
  unlinkSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import ssh2 from 'ssh2';
import type { Attributes, Connection, FileEntry, ParsedKey, PublicKeyAuthContext, SFTPWrapper } from 'ssh2';

const { Server, utils } = ssh2;
const STATUS = utils.sftp.STATUS_CODE;
const OPEN = utils.sftp.OPEN_MODE;

export interface SftpFaultServer {
  host: string;
  port: number;
  username: string;
  /** Client private key (OpenSSH format) the server accepts, and the same key in a file. */
  privateKey: string;
  privateKeyPath: string;
  hostKeySha256: string;
  /** Folder served as `/`. */
  dir: string;
  /** Writes a file below the served folder (path as the client sees it, e.g. `/inbox/a.csv`). */
  drop(remotePath: string, content: string | Buffer): void;
  /** Drops the connection once a transfer of `remotePath` has served `afterBytes`, for the next `times` transfers. */
  disconnectDuringTransfer(remotePath: string, afterBytes: number, times?: number): void;
  /** Opening `remotePath` fails with PERMISSION_DENIED until allow() is called. */
  deny(remotePath: string): void;
  allow(remotePath: string): void;
  /** READ answers leave one at a time, this long apart (a slow link: parallel reads do not help). */
  setReadDelay(ms: number): void;
  /** Each directory listing that shows `remotePath` first appends `chunk` to it, `looks` times. */
  growOnEachLook(remotePath: string, chunk: string | Buffer, looks: number): void;
  readonly stats: FaultServerStats;
  stop(): Promise<void>;
}

export interface FaultServerStats {
  connections: number;
  /** Connections dropped by disconnectDuringTransfer. */
  droppedTransfers: number;
  /** OPEN requests per path, refused ones included. */
  opens: Map<string, number>;
}

type Handle = { kind: 'file'; path: string; fd: number; served: number } | { kind: 'dir'; path: string; listed: boolean };

function fingerprint(key: ParsedKey): string {
  return `SHA256:${createHash('sha256').update(key.getPublicSSH()).digest('base64').replace(/=+$/, '')}`;
}

function parse(key: string): ParsedKey {
  const parsed = utils.parseKey(key);
  if (parsed instanceof Error) throw parsed;
  return parsed;
}

/**
 * ssh2's generateKeyPairSync('ed25519') now and then returns a private key its own parser rejects
 * ("Malformed OpenSSH private key", seen in CI); draw again until both halves parse.
 */
function parsableKeyPair(): { private: string; public: string } {
  for (let attempt = 0; attempt < 10; attempt++) {
    const pair = utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(pair.private) instanceof Error) && !(utils.parseKey(pair.public) instanceof Error)) return pair;
  }
  throw new Error('could not generate a parsable ed25519 key pair');
}

function attrsOf(st: Stats): Attributes {
  return {
    mode: st.mode,
    uid: st.uid,
    gid: st.gid,
    size: st.size,
    atime: Math.floor(st.atimeMs / 1000),
    mtime: Math.floor(st.mtimeMs / 1000),
  };
}

/** An `ls -l` line: ssh2-sftp-client reads the entry type from its first character. */
function longname(name: string, st: Stats): string {
  const type = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : '-';
  const bits = 'rwxrwxrwx'
    .split('')
    .map((c, i) => (st.mode & (0o400 >> i) ? c : '-'))
    .join('');
  return `${type}${bits}    1 ${st.uid} ${st.gid} ${String(st.size).padStart(12)} Jan  1 00:00 ${name}`;
}

function statusFor(err: unknown): number {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return STATUS.NO_SUCH_FILE;
  if (code === 'EACCES' || code === 'EPERM') return STATUS.PERMISSION_DENIED;
  return STATUS.FAILURE;
}

export async function startSftpFaultServer(options: { username?: string } = {}): Promise<SftpFaultServer> {
  const username = options.username ?? 'partner';
  const dir = mkdtempSync(join(tmpdir(), 'carebridge-sftp-fault-'));
  const root = join(dir, 'root');
  mkdirSync(root);
  const hostKey = parsableKeyPair();
  const clientKey = parsableKeyPair();
  const privateKeyPath = join(dir, 'client_key');
  writeFileSync(privateKeyPath, clientKey.private, { mode: 0o600 });
  const allowedKey = parse(clientKey.public);
  const hostKeySha256 = fingerprint(parse(hostKey.private));

  const disconnects = new Map<string, { afterBytes: number; times: number }>();
  const denied = new Set<string>();
  const growing = new Map<string, { chunk: Buffer; looks: number }>();
  let readDelayMs = 0;
  const stats: FaultServerStats = { connections: 0, droppedTransfers: 0, opens: new Map() };
  const clients = new Set<Connection>();

  /** Client path → absolute local path, never outside the served folder. */
  const toLocal = (p: string): string => join(root, posix.normalize(posix.join('/', p)));
  const toRemote = (p: string): string => posix.normalize(posix.join('/', p));

  const checkKey = (ctx: PublicKeyAuthContext): boolean => {
    if (ctx.key.algo !== allowedKey.type || !ctx.key.data.equals(allowedKey.getPublicSSH())) return false;
    // Without a signature the client only asks whether the key would be accepted.
    if (!ctx.signature || !ctx.blob) return true;
    return allowedKey.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true;
  };

  function serveSftp(sftp: SFTPWrapper, conn: Connection): void {
    const handles = new Map<string, Handle>();
    let nextHandle = 0;
    let readQueue: Promise<void> = Promise.resolve();
    let dropped = false;
    let gone = false;
    conn.on('close', () => {
      gone = true;
    });
    const newHandle = (h: Handle): Buffer => {
      const id = String(++nextHandle);
      handles.set(id, h);
      return Buffer.from(id);
    };
    const getHandle = (b: Buffer): Handle | undefined => handles.get(b.toString());
    const guard = (reqId: number, fn: () => void): void => {
      try {
        fn();
      } catch (err) {
        sftp.status(reqId, statusFor(err));
      }
    };
    const drop = (): void => {
      // Reads already queued behind the fatal one must not count as further drops.
      if (dropped) return;
      dropped = true;
      stats.droppedTransfers++;
      // An abrupt TCP reset, as when a partner's firewall or server dies mid-file.
      const sock = (conn as unknown as { _sock?: { destroy(): void } })._sock;
      if (sock) sock.destroy();
      else conn.end();
    };

    sftp.on('REALPATH', (reqId, path) => {
      const resolved = toRemote(path === '' ? '.' : path);
      sftp.name(reqId, [{ filename: resolved, longname: resolved, attrs: {} as Attributes }]);
    });
    const statHandler = (follow: boolean) => (reqId: number, path: string) =>
      guard(reqId, () => sftp.attrs(reqId, attrsOf(follow ? statSync(toLocal(path)) : lstatSync(toLocal(path)))));
    sftp.on('STAT', statHandler(true));
    sftp.on('LSTAT', statHandler(false));
    sftp.on('OPEN', (reqId, filename, flags) => {
      const path = toRemote(filename);
      stats.opens.set(path, (stats.opens.get(path) ?? 0) + 1);
      if (flags & (OPEN.WRITE | OPEN.APPEND | OPEN.CREAT | OPEN.TRUNC))
        return sftp.status(reqId, STATUS.OP_UNSUPPORTED, 'read-only test server');
      if (denied.has(path)) return sftp.status(reqId, STATUS.PERMISSION_DENIED, 'Permission denied');
      guard(reqId, () => sftp.handle(reqId, newHandle({ kind: 'file', path, fd: openSync(toLocal(path), 'r'), served: 0 })));
    });
    sftp.on('FSTAT', (reqId, handle) => {
      const h = getHandle(handle);
      if (h?.kind !== 'file') return sftp.status(reqId, STATUS.FAILURE);
      guard(reqId, () => sftp.attrs(reqId, attrsOf(fstatSync(h.fd))));
    });
    sftp.on('READ', (reqId, handle, offset, length) => {
      const h = getHandle(handle);
      if (h?.kind !== 'file') return sftp.status(reqId, STATUS.FAILURE);
      const answer = (): void => {
        if (dropped || !handles.has(handle.toString())) return;
        const fault = disconnects.get(h.path);
        if (fault && fault.times > 0 && h.served >= fault.afterBytes) {
          fault.times--;
          drop();
          return;
        }
        guard(reqId, () => {
          const buf = Buffer.alloc(length);
          const n = readSync(h.fd, buf, 0, length, offset);
          if (n === 0) return sftp.status(reqId, STATUS.EOF);
          h.served += n;
          sftp.data(reqId, buf.subarray(0, n));
        });
      };
      if (readDelayMs <= 0) return answer();
      readQueue = readQueue.then(
        () =>
          new Promise<void>((resolve) =>
            // Once the client is gone, queued answers are dropped at once instead of each waiting.
            gone
              ? resolve()
              : setTimeout(() => {
                  try {
                    answer();
                  } catch {
                    // the connection went away while this answer waited
                  }
                  resolve();
                }, readDelayMs),
          ),
      );
    });
    sftp.on('CLOSE', (reqId, handle) => {
      const h = getHandle(handle);
      if (!h) return sftp.status(reqId, STATUS.FAILURE);
      handles.delete(handle.toString());
      if (h.kind === 'file') closeSync(h.fd);
      sftp.status(reqId, STATUS.OK);
    });
    sftp.on('OPENDIR', (reqId, path) =>
      guard(reqId, () => {
        if (!statSync(toLocal(path)).isDirectory()) return sftp.status(reqId, STATUS.NO_SUCH_FILE);
        sftp.handle(reqId, newHandle({ kind: 'dir', path: toRemote(path), listed: false }));
      }),
    );
    sftp.on('READDIR', (reqId, handle) => {
      const h = getHandle(handle);
      if (h?.kind !== 'dir') return sftp.status(reqId, STATUS.FAILURE);
      if (h.listed) return sftp.status(reqId, STATUS.EOF);
      h.listed = true;
      guard(reqId, () => {
        const entries: FileEntry[] = [];
        for (const name of readdirSync(toLocal(h.path))) {
          const remote = posix.join(h.path, name);
          const grow = growing.get(remote);
          if (grow && grow.looks > 0) {
            grow.looks--;
            writeFileSync(toLocal(remote), grow.chunk, { flag: 'a' });
          }
          const st = lstatSync(toLocal(remote));
          entries.push({ filename: name, longname: longname(name, st), attrs: attrsOf(st) });
        }
        sftp.name(reqId, entries);
      });
    });
    sftp.on('RENAME', (reqId, from, to) =>
      guard(reqId, () => {
        // SFTP v3 rename (as OpenSSH implements it) does not replace an existing target.
        if (statSync(toLocal(to), { throwIfNoEntry: false })) return sftp.status(reqId, STATUS.FAILURE, 'target exists');
        renameSync(toLocal(from), toLocal(to));
        sftp.status(reqId, STATUS.OK);
      }),
    );
    sftp.on('MKDIR', (reqId, path) => guard(reqId, () => (mkdirSync(toLocal(path)), sftp.status(reqId, STATUS.OK))));
    sftp.on('RMDIR', (reqId, path) => guard(reqId, () => (rmdirSync(toLocal(path)), sftp.status(reqId, STATUS.OK))));
    sftp.on('REMOVE', (reqId, path) => guard(reqId, () => (unlinkSync(toLocal(path)), sftp.status(reqId, STATUS.OK))));
    for (const unsupported of ['WRITE', 'FSETSTAT', 'SETSTAT', 'READLINK', 'SYMLINK', 'EXTENDED'] as const) {
      sftp.on(unsupported, (reqId: number) => sftp.status(reqId, STATUS.OP_UNSUPPORTED));
    }
    sftp.on('close', () => {
      for (const h of handles.values()) if (h.kind === 'file') closeSync(h.fd);
      handles.clear();
    });
  }

  const server = new Server({ hostKeys: [hostKey.private] }, (conn) => {
    stats.connections++;
    clients.add(conn);
    conn.on('error', () => {
      // Resets are the point of several tests; the client side reports them.
    });
    conn.on('close', () => clients.delete(conn));
    conn.on('authentication', (ctx) => {
      if (ctx.method === 'publickey' && ctx.username === username && checkKey(ctx)) return ctx.accept();
      ctx.reject(['publickey']);
    });
    conn.on('ready', () => {
      conn.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('sftp', (acceptSftp) => serveSftp(acceptSftp(), conn));
      });
    });
  });
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    host: '127.0.0.1',
    port,
    username,
    privateKey: clientKey.private,
    privateKeyPath,
    hostKeySha256,
    dir: root,
    drop(remotePath, content) {
      const local = toLocal(remotePath);
      mkdirSync(posix.dirname(local), { recursive: true });
      writeFileSync(local, content);
    },
    disconnectDuringTransfer(remotePath, afterBytes, times = 1) {
      disconnects.set(toRemote(remotePath), { afterBytes, times });
    },
    deny: (remotePath) => void denied.add(toRemote(remotePath)),
    allow: (remotePath) => void denied.delete(toRemote(remotePath)),
    setReadDelay(ms) {
      readDelayMs = ms;
    },
    growOnEachLook(remotePath, chunk, looks) {
      growing.set(toRemote(remotePath), { chunk: Buffer.from(chunk), looks });
    },
    stats,
    async stop() {
      for (const c of clients) c.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
