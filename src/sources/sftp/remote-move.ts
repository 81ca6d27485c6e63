/**
 * Moving a handled file out of the inbox on the server. Plain SFTP rename (OpenSSH's included)
 * refuses to replace an existing file, and replacing would lose the earlier copy anyway, so a
 * name already present in the target folder gets a UTC timestamp suffix.
 */
import { posix } from 'node:path';
import type { SftpSession } from './connection.js';

/** `remoteDir`-relative folder names are resolved against it; absolute ones are kept. */
export function resolveRemoteDir(remoteDir: string, dir: string): string {
  return posix.normalize(posix.isAbsolute(dir) ? dir : posix.join(remoteDir, dir));
}

function stamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace('.', '');
}

/** Moves `fromPath` into `toDir` as `name` (or a free variant of it); returns the new path. */
export async function moveRemoteFile(session: SftpSession, fromPath: string, toDir: string, name: string, now: Date): Promise<string> {
  await session.ensureDir(toDir);
  let target = posix.join(toDir, name);
  for (let n = 0; await session.exists(target); n++) {
    if (n >= 20) throw new Error(`no free name for ${name} in ${toDir}`);
    target = posix.join(toDir, `${name}.${stamp(now)}${n > 0 ? `-${n}` : ''}`);
  }
  await session.rename(fromPath, target);
  return target;
}
