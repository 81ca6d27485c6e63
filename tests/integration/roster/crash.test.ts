import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openRosterStore, type Roster } from '../../../src/roster/roster-store.js';
import { CRASH_FILE, crashFileItems } from './child/roster-items.js';
import { sha, stream } from './fixtures.js';

// A real crash: a child process importing a member file into a SQLite roster is killed with
// SIGKILL after some chunks committed. Re-running the same file must resume that import and end
// in exactly the state a clean run reaches.

const childDir = fileURLToPath(new URL('./child/', import.meta.url));
// The TypeScript loader hooks of the store's durability test (Node 20 cannot strip types).
const registerTs = fileURLToPath(new URL('../store/child/register-ts.mjs', import.meta.url));
const ROWS = 1200;
const CHUNK = 100;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cb-roster-crash-'));
  dirs.push(dir);
  return join(dir, 'carebridge.db');
}

async function day1(file: string): Promise<void> {
  const r = await openRosterStore(`sqlite:${file}`, { chunkSize: CHUNK });
  await r.importMemberFile({
    partnerId: 'acme-aco',
    fileName: 'day1.csv',
    sha256: sha('day1'),
    importDate: '2024-03-01',
    items: stream([...crashFileItems(ROWS, 1)]),
  });
  await r.close();
}

/** Runs the child until it has pulled `killAfter` items (and hangs there), then SIGKILLs it. */
function runAndKill(file: string, killAfter: number): Promise<{ killed: boolean; pulled: number }> {
  const child = spawn(
    process.execPath,
    ['--import', registerTs, join(childDir, 'import-and-die.ts'), file, String(ROWS), String(CHUNK), String(killAfter)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  let buffered = '';
  let pulled = 0;
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      buffered += c.toString();
      for (const m of buffered.matchAll(/pulled (\d+)\n/g)) pulled = Number(m[1]);
      if (pulled >= killAfter && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.once('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ killed: true, pulled });
      else if (code === 0) resolve({ killed: false, pulled });
      else reject(new Error(`child failed (${code}): ${stderr.slice(-2000)}`));
    });
  });
}

async function snapshot(r: Roster, ids: string[]) {
  const out: Record<string, unknown> = {};
  for (const id of ids) out[id] = (await r.attributionHistory(id)).map(({ importId: _i, ...a }) => a);
  return out;
}

describe('roster import killed mid-file (SQLite, SIGKILL)', () => {
  const rerun = (r: Roster) => r.importMemberFile({ ...CRASH_FILE, items: stream([...crashFileItems(ROWS, 2)]) });
  const rosters: Roster[] = [];
  afterEach(async () => {
    for (const r of rosters.splice(0)) await r.close();
  });

  it('resumes on the same file and converges to the clean result', async () => {
    const cleanFile = tempDb();
    await day1(cleanFile);
    const clean = await openRosterStore(`sqlite:${cleanFile}`, { chunkSize: CHUNK });
    rosters.push(clean);
    const expected = await rerun(clean);

    const file = tempDb();
    await day1(file);
    const { killed, pulled } = await runAndKill(file, 5 * CHUNK + 50);
    expect(killed).toBe(true);
    expect(pulled).toBe(5 * CHUNK + 50);

    const restarted = await openRosterStore(`sqlite:${file}`, { chunkSize: CHUNK });
    rosters.push(restarted);
    const [left] = (await restarted.listImports({ status: 'in-progress' })).items;
    expect(left).toMatchObject({ fileName: 'day2.csv' });
    expect(left.applied).toBeGreaterThanOrEqual(5 * CHUNK);
    const result = await rerun(restarted);
    expect(result).toMatchObject({ status: 'applied', resumed: true, importId: left.id });
    const { importId: _a, resumed: _b, ...counts } = result;
    const { importId: _c, resumed: _d, ...expectedCounts } = expected;
    expect(counts).toEqual(expectedCounts);

    const ids = ['M000000', 'M000007', 'M000011', 'M000600', 'M000700', 'M001199', 'M001201'];
    expect(await snapshot(restarted, ids)).toEqual(await snapshot(clean, ids));
    const events = async (r: Roster, importId: string) => {
      const all = [];
      let cursor: string | undefined;
      do {
        const page = await r.listDiffEvents({ importId, limit: 1000, cursor });
        all.push(...page.items.map((e) => `${e.memberId}:${e.kind}:${JSON.stringify(e.detail)}`));
        cursor = page.next ?? undefined;
      } while (cursor);
      return all.sort();
    };
    expect(await events(restarted, left.id)).toEqual(await events(clean, expected.importId));
  });
});
