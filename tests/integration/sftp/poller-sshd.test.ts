/**
 * The SFTP poller against a real OpenSSH sshd (chrooted, SFTP-only user, pinned host key).
 * Each test gets its own folder in the inbox and its own dataDir.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { sftpSourceSchema } from '../../../src/config/schema/sources.js';
import type { SftpSourceConfig } from '../../../src/config/types.js';
import { createSftpPoller, type SftpPoller, type SftpPollerOptions } from '../../../src/sources/sftp/index.js';
import { sshdSkipReason, startSshd, type TestSshd } from '../../helpers/sshd.js';
import { fakeConsumer, waitFor, type FakeConsumer } from './consumer.js';

const skip = sshdSkipReason();
if (skip) console.warn(`skipping SFTP sshd tests: ${skip}`);

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

describe.skipIf(skip !== null)('SFTP poller against OpenSSH sshd', () => {
  let sshd: TestSshd;
  let dataDir: string;
  let n = 0;
  const pollers: SftpPoller[] = [];

  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });
  afterEach(async () => {
    await Promise.all(pollers.splice(0).map((p) => p.stop()));
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** A fresh inbox folder for one test: its name on disk (relative to the inbox) and remote path. */
  function freshFolder(): { rel: string; remote: string } {
    const rel = `t${++n}`;
    return { rel, remote: sshd.makeDir(rel) };
  }

  function source(remoteDir: string, over: Record<string, unknown> = {}): SftpSourceConfig {
    return sftpSourceSchema.parse({
      id: 'aco-a-members',
      type: 'sftp',
      partner: 'aco-a',
      ...sshd.server,
      remoteDir,
      pattern: '*.csv',
      format: 'member-csv',
      ...over,
    }) as SftpSourceConfig;
  }

  function poller(src: SftpSourceConfig, consumer: FakeConsumer, over: Partial<SftpPollerOptions> = {}): SftpPoller {
    dataDir = mkdtempSync(join(tmpdir(), 'carebridge-sftp-data-'));
    const p = createSftpPoller({ source: src, dataDir, onFile: consumer.onFile, backoff: { initialMs: 50, maxMs: 200 }, ...over });
    pollers.push(p);
    return p;
  }

  const onDisk = (rel: string): string[] => (existsSync(join(sshd.localDir, rel)) ? readdirSync(join(sshd.localDir, rel)).sort() : []);

  test('a dropped file is taken once stable, handed over whole, and moved to processed/', async () => {
    const dir = freshFolder();
    const body = 'member_id,name\nM1,Ann\nM2,Bob\n';
    sshd.drop(`${dir.rel}/members-20250101.csv`, body);
    sshd.drop(`${dir.rel}/notes.txt`, 'not matched by *.csv');
    const consumer = fakeConsumer();
    const p = poller(source(dir.remote), consumer);

    const first = await p.pollNow();
    expect(first).toMatchObject({ ok: true, files: [], waiting: ['members-20250101.csv'] });
    expect(consumer.calls).toHaveLength(0);

    const second = await p.pollNow();
    expect(second.ok).toBe(true);
    expect(second.files).toEqual([
      { name: 'members-20250101.csv', result: 'applied', sha256: sha256(body), movedTo: `${dir.remote}/processed/members-20250101.csv` },
    ]);
    expect(consumer.calls).toHaveLength(1);
    expect(consumer.calls[0]).toMatchObject({
      remoteName: 'members-20250101.csv',
      content: body,
      size: Buffer.byteLength(body),
      sha256: sha256(body),
      partner: 'aco-a',
      sourceId: 'aco-a-members',
      format: 'member-csv',
    });
    expect(onDisk(dir.rel)).toEqual(['notes.txt', 'processed']);
    expect(onDisk(`${dir.rel}/processed`)).toEqual(['members-20250101.csv']);
    // The staged copy is gone once the consumer answered.
    expect(readdirSync(join(dataDir, 'sftp-staging', 'aco-a-members'))).toEqual([]);
    const status = p.status();
    expect(status.lastFileAt).not.toBeNull();
    expect(status).toMatchObject({
      sourceId: 'aco-a-members',
      consecutiveFailures: 0,
      lastError: null,
      missingSince: null,
      waitingFiles: 0,
    });
  });

  test('a file still growing is only taken after its size held for stableChecks looks', async () => {
    const dir = freshFolder();
    const name = `${dir.rel}/roster.csv`;
    sshd.drop(name, 'id\n1\n');
    const consumer = fakeConsumer();
    const p = poller(source(dir.remote, { stableChecks: 2 }), consumer);

    expect((await p.pollNow()).waiting).toEqual(['roster.csv']);
    sshd.append(name, '2\n');
    expect((await p.pollNow()).waiting).toEqual(['roster.csv']);
    sshd.append(name, '3\n');
    expect((await p.pollNow()).waiting).toEqual(['roster.csv']);
    expect(consumer.calls).toHaveLength(0);

    const taken = await p.pollNow();
    expect(taken.files.map((f) => f.result)).toEqual(['applied']);
    expect(consumer.calls.map((c) => c.content)).toEqual(['id\n1\n2\n3\n']);
  });

  test('done-marker mode takes a file only once its marker exists, and moves both', async () => {
    const dir = freshFolder();
    sshd.drop(`${dir.rel}/big.csv`, 'id\n1\n');
    const consumer = fakeConsumer();
    const p = poller(source(dir.remote, { doneMarkerSuffix: '.done', stableChecks: 5 }), consumer);

    expect(await p.pollNow()).toMatchObject({ files: [], waiting: ['big.csv'] });
    expect(await p.pollNow()).toMatchObject({ files: [], waiting: ['big.csv'] });
    sshd.drop(`${dir.rel}/big.csv.done`, '');
    const r = await p.pollNow();
    // No stability looks needed once the marker is there.
    expect(r.files.map((f) => [f.name, f.result])).toEqual([['big.csv', 'applied']]);
    expect(onDisk(dir.rel)).toEqual(['processed']);
    expect(onDisk(`${dir.rel}/processed`)).toEqual(['big.csv', 'big.csv.done']);
  });

  test('a file the consumer rejects goes to error/, and others are still processed', async () => {
    const dir = freshFolder();
    sshd.drop(`${dir.rel}/bad.csv`, 'garbage');
    sshd.drop(`${dir.rel}/good.csv`, 'id\n1\n');
    const consumer = fakeConsumer();
    consumer.rejectNames.add('bad.csv');
    const p = poller(source(dir.remote, { stableChecks: 1, errorDir: 'rejected' }), consumer);

    const r = await p.pollNow();
    expect(r.files.map((f) => [f.name, f.result]).sort()).toEqual([
      ['bad.csv', 'failed'],
      ['good.csv', 'applied'],
    ]);
    expect(onDisk(`${dir.rel}/rejected`)).toEqual(['bad.csv']);
    expect(onDisk(`${dir.rel}/processed`)).toEqual(['good.csv']);
  });

  test('a different host key is refused with a clear error and nothing is read', async () => {
    const dir = freshFolder();
    sshd.drop(`${dir.rel}/a.csv`, 'id\n1\n');
    const wrong = `SHA256:${createHash('sha256').update('not the key').digest('base64').replace(/=+$/, '')}`;
    const consumer = fakeConsumer();
    const p = poller(source(dir.remote, { hostKeySha256: wrong, stableChecks: 1 }), consumer);

    const r = await p.pollNow();
    expect(r.ok).toBe(false);
    expect(r.error).toContain('host key mismatch');
    expect(r.error).toContain(sshd.hostKeySha256);
    expect(r.error).toContain(wrong);
    expect(consumer.calls).toHaveLength(0);
    expect(onDisk(dir.rel)).toEqual(['a.csv']);
    expect(p.status()).toMatchObject({ consecutiveFailures: 1, lastError: { message: expect.stringContaining('host key mismatch') } });
  });

  test('a re-dropped file is recognized as a duplicate and filed next to the first copy', async () => {
    const dir = freshFolder();
    const body = 'id\n7\n';
    sshd.drop(`${dir.rel}/daily.csv`, body);
    const consumer = fakeConsumer();
    const p = poller(source(dir.remote, { stableChecks: 1 }), consumer);
    expect((await p.pollNow()).files.map((f) => f.result)).toEqual(['applied']);

    sshd.drop(`${dir.rel}/daily.csv`, body);
    const again = await p.pollNow();
    expect(again.files.map((f) => f.result)).toEqual(['duplicate']);
    expect(consumer.applied.size).toBe(1);
    const processed = onDisk(`${dir.rel}/processed`);
    expect(processed).toHaveLength(2);
    expect(processed[0]).toBe('daily.csv');
    expect(processed[1]).toMatch(/^daily\.csv\.\d{8}T\d{9}Z$/);
  });

  test('crash recovery: a partial download is discarded, and a file applied but not moved comes back as duplicate', async () => {
    const dir = freshFolder();
    sshd.drop(`${dir.rel}/m.csv`, 'id\n1\n');
    const consumer = fakeConsumer();
    consumer.crashAfterApply.add('m.csv');
    const src = source(dir.remote, { stableChecks: 1 });
    const first = poller(src, consumer);
    // Crash between applying and moving: the consumer throws after applying.
    const r1 = await first.pollNow();
    expect(r1.files.map((f) => f.result)).toEqual(['consumer-error']);
    expect(onDisk(dir.rel)).toEqual(['m.csv']);
    await first.stop();

    // "Restart": leftovers of an interrupted download sit in staging.
    const staging = join(dataDir, 'sftp-staging', src.id);
    writeFileSync(join(staging, '.partial-0123456789abcdef'), 'half a fi');
    writeFileSync(join(staging, 'm.csv'), 'stale');
    const second = createSftpPoller({ source: src, dataDir, onFile: consumer.onFile });
    pollers.push(second);
    const r2 = await second.pollNow();
    expect(r2.files.map((f) => f.result)).toEqual(['duplicate']);
    expect(consumer.applied.size).toBe(1);
    expect(onDisk(`${dir.rel}/processed`)).toEqual(['m.csv']);
    expect(readdirSync(staging)).toEqual([]);
  });

  test('started on an interval it picks files up by itself; stop() ends scheduling', async () => {
    const dir = freshFolder();
    const consumer = fakeConsumer();
    const p = poller(source(dir.remote, { stableChecks: 2, poll: { intervalSeconds: 3600 } }), consumer, { settleMs: 50 });
    sshd.drop(`${dir.rel}/x.csv`, 'id\n1\n');
    await p.start();
    // Waiting files are looked at again after settleMs, not after the hour-long interval.
    await waitFor(() => consumer.calls.length === 1, 15_000, 'the file to be taken');
    expect(p.status().nextPollAt).not.toBeNull();
    await p.stop();
    expect(p.status().nextPollAt).toBeNull();
  });

  test('the private key can come from an environment variable (base64)', async () => {
    const dir = freshFolder();
    sshd.drop(`${dir.rel}/e.csv`, 'id\n1\n');
    const consumer = fakeConsumer();
    const src = source(dir.remote, { privateKey: undefined, privateKeyEnv: 'CB_TEST_SFTP_KEY', stableChecks: 1 });
    const p = poller(src, consumer, { env: { CB_TEST_SFTP_KEY: readFileSync(sshd.privateKeyPath).toString('base64') } });
    expect((await p.pollNow()).files.map((f) => f.result)).toEqual(['applied']);

    const missing = poller(src, consumer, { env: {} });
    const r = await missing.pollNow();
    expect(r.ok).toBe(false);
    expect(r.error).toContain('CB_TEST_SFTP_KEY');
  });

  test('expected daily file: missing after the deadline is reported once, cleared when a file arrives', async () => {
    const dir = freshFolder();
    const consumer = fakeConsumer();
    // 2025-06-02 09:30 in New York: past the 07:00 deadline, with no file today.
    let clock = new Date('2025-06-02T13:30:00Z');
    const missed: string[] = [];
    const p = poller(source(dir.remote, { stableChecks: 1, expectedDaily: { by: '07:00', timeZone: 'America/New_York' } }), consumer, {
      now: () => clock,
      lastFileAt: new Date('2025-06-01T10:00:00Z'),
      hooks: { onMissingDaily: (s) => missed.push(s.missingSince ?? '') },
    });
    await p.pollNow();
    await p.pollNow();
    expect(p.status()).toMatchObject({ missingSince: '2025-06-02T11:00:00.000Z', expectedBy: '07:00 America/New_York' });
    expect(missed).toEqual(['2025-06-02T11:00:00.000Z']);

    clock = new Date('2025-06-02T14:00:00Z');
    sshd.drop(`${dir.rel}/late.csv`, 'id\n1\n');
    await p.pollNow();
    expect(p.status()).toMatchObject({ missingSince: null, lastFileAt: '2025-06-02T14:00:00.000Z' });
    expect(missed).toHaveLength(1);
  });
});
