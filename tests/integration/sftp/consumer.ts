/**
 * A stand-in for the gateway's file consumer: idempotent on partner + name + hash as the real one
 * must be, keeping every call (content included) for assertions.
 */
import { readFileSync } from 'node:fs';
import type { SftpFileConsumer, SftpFileHandoff, SftpFileOutcome } from '../../../src/sources/sftp/index.js';

export interface RecordedCall extends SftpFileHandoff {
  content: string;
  outcome: SftpFileOutcome | 'threw';
}

export interface FakeConsumer {
  onFile: SftpFileConsumer;
  calls: RecordedCall[];
  /** Keys of files applied so far. */
  applied: Set<string>;
  /** Answer 'failed' for these names. */
  rejectNames: Set<string>;
  /** Apply, then throw, once for these names (a crash after applying, before the move). */
  crashAfterApply: Set<string>;
}

export function fakeConsumer(): FakeConsumer {
  const c: FakeConsumer = {
    calls: [],
    applied: new Set(),
    rejectNames: new Set(),
    crashAfterApply: new Set(),
    async onFile(file) {
      const content = readFileSync(file.localPath, 'utf8');
      const key = `${file.partner}|${file.remoteName}|${file.sha256}`;
      let outcome: SftpFileOutcome;
      if (c.rejectNames.has(file.remoteName)) outcome = 'failed';
      else if (c.applied.has(key)) outcome = 'duplicate';
      else {
        c.applied.add(key);
        outcome = 'applied';
        if (c.crashAfterApply.delete(file.remoteName)) {
          c.calls.push({ ...file, content, outcome: 'threw' });
          throw new Error('simulated crash after applying');
        }
      }
      c.calls.push({ ...file, content, outcome });
      return outcome;
    },
  };
  return c;
}

/** Polls `check` until it is true or `ms` passed (bounded wait, no timing assertion). */
export async function waitFor(check: () => boolean, ms = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
