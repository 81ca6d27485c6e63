/**
 * "Is the partner done uploading?" without a done-marker: a file is ready once its size and
 * mtime looked the same on `stableChecks` consecutive looks. Any change starts the count over.
 */
export interface RemoteFileLook {
  name: string;
  size: number;
  /** Milliseconds (SFTP reports whole seconds). */
  modifyTime: number;
}

interface Seen {
  size: number;
  modifyTime: number;
  looks: number;
}

export class StabilityTracker {
  private readonly seen = new Map<string, Seen>();

  constructor(private readonly stableChecks: number) {}

  /** Records one directory listing; returns the names that are now stable. Forgets vanished files. */
  observe(files: readonly RemoteFileLook[]): Set<string> {
    const stable = new Set<string>();
    const present = new Set<string>();
    for (const f of files) {
      present.add(f.name);
      const prev = this.seen.get(f.name);
      const same = prev !== undefined && prev.size === f.size && prev.modifyTime === f.modifyTime;
      const looks = same ? prev.looks + 1 : 1;
      this.seen.set(f.name, { size: f.size, modifyTime: f.modifyTime, looks });
      if (looks >= this.stableChecks) stable.add(f.name);
    }
    for (const name of this.seen.keys()) if (!present.has(name)) this.seen.delete(name);
    return stable;
  }

  /** Start counting again (the file changed under us while downloading). */
  reset(name: string): void {
    this.seen.delete(name);
  }
}
