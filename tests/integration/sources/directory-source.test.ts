import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sourceSchema } from '../../../src/config/schema/sources.js';
import type { DirectorySourceConfig } from '../../../src/config/types.js';
import { createSftpPoller } from '../../../src/sources/sftp/index.js';
import type { SftpFileHandoff, SftpFileOutcome } from '../../../src/sources/sftp/types.js';

// A `type: directory` source goes through the SFTP poller's steps on a local folder: the same
// stability check, archive folders and idempotent hand-off (the consumer decides duplicates).
const tmp = mkdtempSync(join(tmpdir(), 'cb-dir-source-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function setup(name: string, extra: Record<string, unknown> = {}) {
  const dir = join(tmp, name);
  mkdirSync(dir);
  const source = sourceSchema.parse({
    id: name,
    type: 'directory',
    partner: 'demo-aco',
    path: dir,
    format: 'member-csv',
    ...extra,
  }) as DirectorySourceConfig;
  const seen: Array<{ name: string; sha256: string; content: string }> = [];
  const applied = new Set<string>();
  const onFile = async (f: SftpFileHandoff): Promise<SftpFileOutcome> => {
    const { readFileSync } = await import('node:fs');
    seen.push({ name: f.remoteName, sha256: f.sha256, content: readFileSync(f.localPath, 'utf8') });
    if (f.remoteName.startsWith('bad')) return 'failed';
    const key = `${f.partner}|${f.remoteName}|${f.sha256}`;
    if (applied.has(key)) return 'duplicate';
    applied.add(key);
    return 'applied';
  };
  const poller = createSftpPoller({ source, dataDir: join(tmp, `${name}-data`), onFile });
  return { dir, poller, seen };
}

describe('directory sources', () => {
  it('takes a file once its size held for stableChecks looks, then archives it in processed/', async () => {
    const { dir, poller, seen } = setup('stable');
    writeFileSync(join(dir, 'members-1.txt'), 'A|B\n');
    let r = await poller.pollNow();
    expect(r).toMatchObject({ ok: true, files: [], waiting: ['members-1.txt'] });
    // Still being written: the count starts again.
    appendFileSync(join(dir, 'members-1.txt'), '1|2\n');
    r = await poller.pollNow();
    expect(r.files).toEqual([]);
    r = await poller.pollNow();
    expect(r.files).toMatchObject([{ name: 'members-1.txt', result: 'applied' }]);
    expect(seen).toMatchObject([{ name: 'members-1.txt', content: 'A|B\n1|2\n' }]);
    expect(readdirSync(dir).sort()).toEqual(['processed']);
    expect(existsSync(join(dir, 'processed', 'members-1.txt'))).toBe(true);
  });

  it('the same file dropped again is handed over again and answered duplicate; a refused file goes to error/', async () => {
    const { dir, poller } = setup('idempotent', { stableChecks: 1 });
    writeFileSync(join(dir, 'members.txt'), 'X\n');
    expect((await poller.pollNow()).files).toMatchObject([{ result: 'applied' }]);
    writeFileSync(join(dir, 'members.txt'), 'X\n');
    writeFileSync(join(dir, 'bad.txt'), 'Y\n');
    const r = await poller.pollNow();
    expect(r.files.map((f) => [f.name, f.result]).sort()).toEqual([
      ['bad.txt', 'failed'],
      ['members.txt', 'duplicate'],
    ]);
    // The archive keeps both copies (the second under a timestamped name).
    expect(readdirSync(join(dir, 'processed'))).toHaveLength(2);
    expect(readdirSync(join(dir, 'error'))).toEqual(['bad.txt']);
  });

  it('with a done-marker, waits for the marker and archives it with the file', async () => {
    const { dir, poller } = setup('marker', { doneMarkerSuffix: '.done', pattern: '*.txt' });
    writeFileSync(join(dir, 'roster.txt'), 'Z\n');
    expect((await poller.pollNow()).files).toEqual([]);
    writeFileSync(join(dir, 'roster.txt.done'), '');
    expect((await poller.pollNow()).files).toMatchObject([{ name: 'roster.txt', result: 'applied' }]);
    expect(readdirSync(join(dir, 'processed')).sort()).toEqual(['roster.txt', 'roster.txt.done']);
  });

  it('a missing folder is a failed poll with the reason, not a crash', async () => {
    const { dir, poller } = setup('vanishing');
    rmSync(dir, { recursive: true });
    const r = await poller.pollNow();
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/ENOENT/);
    expect(poller.status().consecutiveFailures).toBe(1);
  });
});
