import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../../src/store/open-store.js';

// "Nothing acknowledged is ever lost": a writer process is SIGKILLed while committing batches in a
// loop; every batch it reported (= would have ACKed) must be in the database on reopen, and the
// batch it was in the middle of must be all-or-nothing.

const childDir = fileURLToPath(new URL('./child/', import.meta.url));
const BATCH = 20;

interface Killed {
  acked: string[];
  walExisted: boolean;
}

async function runAndKill(file: string, killAfterBatches: number): Promise<Killed> {
  const child = spawn(
    process.execPath,
    ['--import', join(childDir, 'register-ts.mjs'), join(childDir, 'sqlite-writer.ts'), file, String(BATCH), `run${killAfterBatches}`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const acked: string[] = [];
  let buffered = '';
  let batches = 0;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let walExisted = false;
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.startsWith('ACKED ')) continue;
        acked.push(...(JSON.parse(line.slice(6)) as string[]));
        if (++batches === killAfterBatches) {
          // Kill right after the ACK point, while the child is already committing the next batch.
          child.kill('SIGKILL');
          walExisted = existsSync(`${file}-wal`);
          resolve();
        }
      }
    });
    child.once('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited early (${code ?? signal}): ${stderr.slice(-500)}`));
    });
  });
  await exited;
  return { acked, walExisted };
}

describe('the store on SQLite: durability across kill -9', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('keeps every acknowledged message, and batches are all-or-nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-durable-'));
    dirs.push(dir);
    const file = join(dir, 'carebridge.db');
    const acked: string[] = [];
    for (const killAfter of [1, 7, 3]) {
      const run = await runAndKill(file, killAfter);
      expect(run.walExisted).toBe(true);
      acked.push(...run.acked);

      const store = openSqliteStore(file);
      try {
        for (const id of acked) {
          const m = await store.getMessage(id);
          expect(m?.status).toBe('received');
        }
        const stats = await store.stats();
        const total = stats.messagesByStatus.received;
        expect(stats.duplicates).toBe(0);
        expect(total).toBeGreaterThanOrEqual(acked.length);
        expect(total % BATCH).toBe(0);
      } finally {
        await store.close();
      }
    }
  }, 180_000); // three kill -9 rounds of a child writer: the 30 s default is too short on a loaded 2-core machine
});
