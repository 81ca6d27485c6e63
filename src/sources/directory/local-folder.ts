/**
 * A local folder behind the SFTP poller's session interface, so a `type: directory` source gets
 * the poller's stability check, done-markers, archive folders and idempotent hand-off unchanged.
 * "Download" is a copy into staging (the poller hashes and size-checks the copy, as for SFTP).
 */
import { copyFile, mkdir, readdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { RemoteEntry, SftpSession } from '../sftp/connection.js';

const typeCode = (s: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): string =>
  s.isFile() ? '-' : s.isDirectory() ? 'd' : s.isSymbolicLink() ? 'l' : '?';

export function openLocalFolder(): SftpSession {
  return {
    alive: true,
    async list(dir: string): Promise<RemoteEntry[]> {
      const out: RemoteEntry[] = [];
      for (const name of await readdir(dir)) {
        try {
          // stat follows symlinks: a linked file in a share is a file.
          const s = await stat(join(dir, name));
          out.push({ name, type: typeCode(s), size: s.size, modifyTime: Math.floor(s.mtimeMs) });
        } catch {
          // removed between readdir and stat
        }
      }
      return out;
    },
    async download(path: string, localPath: string): Promise<void> {
      await copyFile(path, localPath);
    },
    async exists(path: string): Promise<boolean> {
      return stat(path).then(
        () => true,
        () => false,
      );
    },
    async ensureDir(path: string): Promise<void> {
      await mkdir(path, { recursive: true });
    },
    async rename(from: string, to: string): Promise<void> {
      await rename(from, to);
    },
    destroy() {},
    async close() {},
  };
}
