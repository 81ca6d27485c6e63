/**
 * The local staging folder of one source. A download goes to a hidden temp name and is renamed to
 * the remote file's name only after it is complete and its size matches what the server listed,
 * so a file in staging is always whole. The folder belongs to the poller alone: everything in it
 * is wiped at start (a crash mid-file leaves at most a partial download, and the remote file is
 * still in place to be fetched again). Files hold PHI: the folder is 0700.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DownloadOptions, SftpSession } from './connection.js';

/** The file changed on the server between listing and download (still being written). */
export class RemoteFileChangedError extends Error {
  constructor(
    readonly listedSize: number,
    readonly downloadedSize: number,
  ) {
    super(`file changed during download (listed ${listedSize} bytes, got ${downloadedSize})`);
    this.name = 'RemoteFileChangedError';
  }
}

export interface StagedFile {
  localPath: string;
  size: number;
  sha256: string;
}

export async function prepareStagingDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const name of await readdir(dir)) await rm(join(dir, name), { recursive: true, force: true });
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function downloadToStaging(
  session: SftpSession,
  remotePath: string,
  name: string,
  listedSize: number,
  stagingDir: string,
  options: DownloadOptions,
): Promise<StagedFile> {
  // The remote name is not reused for the temp file: it may be near the 255-byte name limit.
  const temp = join(stagingDir, `.partial-${randomBytes(8).toString('hex')}`);
  const localPath = join(stagingDir, name);
  try {
    await session.download(remotePath, temp, options);
    const { size } = await stat(temp);
    if (size !== listedSize) throw new RemoteFileChangedError(listedSize, size);
    const sha256 = await sha256File(temp);
    await rename(temp, localPath);
    return { localPath, size, sha256 };
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
