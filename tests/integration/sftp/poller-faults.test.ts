/**
 * The SFTP poller against the in-process fault server: dropped connections mid-transfer,
 * permission denied, a slow server, a stalled server, a growing file, a server that is down.
 * This server offers no posix-rename and refuses rename onto an existing name, so the plain
 * rename fallback is exercised here.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { sftpSourceSchema } from '../../../src/config/schema/sources.js';
import type { SftpSourceConfig } from '../../../src/config/types.js';
import { createSftpPoller, type SftpPoller, type SftpPollerOptions } from '../../../src/sources/sftp/index.js';
import { startSftpFaultServer, type SftpFaultServer } from '../../helpers/sftp-fault-server.js';
import { fakeConsumer, waitFor, type FakeConsumer } from './consumer.js';

/** A loopback port nobody listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

describe('SFTP poller against a faulty server', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function server(): Promise<SftpFaultServer> {
    const s = await startSftpFaultServer();
    cleanups.push(() => s.stop());
    return s;
  }

  function source(s: SftpFaultServer, over: Record<string, unknown> = {}): SftpSourceConfig {
    return sftpSourceSchema.parse({
      id: 'aco-b-members',
      type: 'sftp',
      partner: 'aco-b',
      host: s.host,
      port: s.port,
      username: s.username,
      privateKey: s.privateKeyPath,
      hostKeySha256: s.hostKeySha256,
      remoteDir: '/inbox',
      pattern: '*.csv',
      format: 'member-csv',
      stableChecks: 1,
      ...over,
    }) as SftpSourceConfig;
  }

  function poller(
    src: SftpSourceConfig,
    consumer: FakeConsumer,
    over: Partial<SftpPollerOptions> = {},
  ): { p: SftpPoller; dataDir: string } {
    const dataDir = mkdtempSync(join(tmpdir(), 'carebridge-sftp-data-'));
    const p = createSftpPoller({ source: src, dataDir, onFile: consumer.onFile, backoff: { initialMs: 50, maxMs: 200 }, ...over });
    cleanups.push(async () => {
      await p.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });
    return { p, dataDir };
  }

  const inDir = (s: SftpFaultServer, dir: string): string[] => (existsSync(join(s.dir, dir)) ? readdirSync(join(s.dir, dir)).sort() : []);

  test('a connection dropped mid-transfer leaves nothing behind; the next poll fetches the file whole', async () => {
    const s = await server();
    const body = randomBytes(1024 * 1024);
    s.drop('/inbox/big.csv', body);
    s.disconnectDuringTransfer('/inbox/big.csv', 200 * 1024, 1);
    const consumer = fakeConsumer();
    const { p, dataDir } = poller(source(s), consumer);

    const r1 = await p.pollNow();
    expect(r1.files.map((f) => f.result)).toEqual(['download-error']);
    expect(r1.error).toBeDefined();
    expect(s.stats.droppedTransfers).toBe(1);
    expect(consumer.calls).toHaveLength(0);
    expect(readdirSync(join(dataDir, 'sftp-staging', 'aco-b-members'))).toEqual([]);
    expect(p.status().consecutiveFailures).toBe(1);
    expect(inDir(s, 'inbox')).toEqual(['big.csv']);

    const r2 = await p.pollNow();
    expect(r2.files.map((f) => f.result)).toEqual(['applied']);
    expect(consumer.calls[0]?.sha256).toBe(sha256(body));
    expect(consumer.calls[0]?.size).toBe(body.length);
    expect(p.status().consecutiveFailures).toBe(0);
    expect(inDir(s, 'inbox/processed')).toEqual(['big.csv']);
  });

  test('when started, a dropped transfer is retried after backoff without help', async () => {
    const s = await server();
    const body = randomBytes(512 * 1024);
    s.drop('/inbox/retry.csv', body);
    s.disconnectDuringTransfer('/inbox/retry.csv', 64 * 1024, 2);
    const consumer = fakeConsumer();
    const failures: number[] = [];
    const { p } = poller(source(s, { poll: { intervalSeconds: 3600 } }), consumer, {
      hooks: { onPollFailure: (e) => failures.push(e.consecutiveFailures) },
    });
    await p.start();
    // Done when the poll that took the file has also moved it and reset the failure count.
    await waitFor(() => inDir(s, 'inbox/processed').length === 1 && p.status().consecutiveFailures === 0, 15_000, 'the retried download');
    expect(failures).toEqual([1, 2]);
    expect(consumer.calls).toHaveLength(1);
    expect(consumer.calls[0]?.sha256).toBe(sha256(body));
  });

  test('permission denied is recorded, other files still flow, and the file goes to error/ after maxFileAttempts', async () => {
    const s = await server();
    s.drop('/inbox/locked.csv', 'id\n1\n');
    s.drop('/inbox/open.csv', 'id\n2\n');
    s.deny('/inbox/locked.csv');
    const consumer = fakeConsumer();
    const results: string[] = [];
    const { p } = poller(source(s), consumer, { maxFileAttempts: 2, hooks: { onFileResult: (e) => results.push(e.result) } });

    const r1 = await p.pollNow();
    expect(r1.ok).toBe(true);
    expect(Object.fromEntries(r1.files.map((f) => [f.name, f.result]))).toEqual({ 'locked.csv': 'download-error', 'open.csv': 'applied' });
    expect(r1.files.find((f) => f.name === 'locked.csv')?.error).toMatch(/permission denied/i);
    expect(p.status()).toMatchObject({
      consecutiveFailures: 0,
      lastError: { file: 'locked.csv', message: expect.stringMatching(/permission denied/i) },
    });

    const r2 = await p.pollNow();
    expect(r2.files).toEqual([
      { name: 'locked.csv', result: 'gave-up', movedTo: '/inbox/error/locked.csv', error: expect.stringMatching(/permission denied/i) },
    ]);
    expect(inDir(s, 'inbox')).toEqual(['error', 'processed']);
    expect(inDir(s, 'inbox/error')).toEqual(['locked.csv']);
    expect(consumer.calls.map((c) => c.remoteName)).toEqual(['open.csv']);
    expect(results.sort()).toEqual(['applied', 'download-error', 'gave-up']);
  });

  test('a slow but steady server still completes (the stall watchdog only fires without progress)', async () => {
    const s = await server();
    const body = randomBytes(20 * 32 * 1024);
    s.drop('/inbox/slow.csv', body);
    // ~40 reads (20 chunks, each short-read once) answered one at a time, 40 ms apart: well over
    // the stall timeout in all, but bytes keep arriving.
    s.setReadDelay(40);
    const consumer = fakeConsumer();
    const { p } = poller(source(s), consumer, { stallTimeoutMs: 400 });
    const r = await p.pollNow();
    expect(r.files.map((f) => f.result)).toEqual(['applied']);
    expect(consumer.calls[0]?.sha256).toBe(sha256(body));
  });

  test('a stalled transfer is dropped by the watchdog and succeeds once the server moves again', async () => {
    const s = await server();
    const body = randomBytes(64 * 1024);
    s.drop('/inbox/stuck.csv', body);
    s.setReadDelay(3000);
    const consumer = fakeConsumer();
    const { p } = poller(source(s), consumer, { stallTimeoutMs: 200 });
    const r1 = await p.pollNow();
    expect(r1.files.map((f) => f.result)).toEqual(['download-error']);
    s.setReadDelay(0);
    const r2 = await p.pollNow();
    expect(r2.files.map((f) => f.result)).toEqual(['applied']);
    expect(consumer.calls[0]?.sha256).toBe(sha256(body));
  });

  test('a growing file is taken only when it stopped growing, with all of its content', async () => {
    const s = await server();
    s.drop('/inbox/grow.csv', 'id\n');
    s.growOnEachLook('/inbox/grow.csv', 'row\n', 3);
    const consumer = fakeConsumer();
    const { p } = poller(source(s, { stableChecks: 2 }), consumer);
    for (let i = 0; i < 3; i++) expect((await p.pollNow()).waiting).toEqual(['grow.csv']);
    const r = await p.pollNow();
    expect(r.files.map((f) => f.result)).toEqual(['applied']);
    expect(consumer.calls.map((c) => c.content)).toEqual(['id\nrow\nrow\nrow\n']);
  });

  test('without posix-rename, a duplicate still lands next to the first copy (plain rename never overwrites)', async () => {
    const s = await server();
    s.drop('/inbox/d.csv', 'id\n1\n');
    const consumer = fakeConsumer();
    const { p } = poller(source(s, { processedDir: '/archive/done' }), consumer);
    expect((await p.pollNow()).files.map((f) => f.result)).toEqual(['applied']);
    s.drop('/inbox/d.csv', 'id\n1\n');
    expect((await p.pollNow()).files.map((f) => f.result)).toEqual(['duplicate']);
    const archived = inDir(s, 'archive/done');
    expect(archived).toHaveLength(2);
    expect(archived[0]).toBe('d.csv');
  });

  test('an empty file is handed over as an empty file (the consumer decides what it means)', async () => {
    const s = await server();
    s.drop('/inbox/empty.csv', '');
    const consumer = fakeConsumer();
    const { p } = poller(source(s), consumer);
    expect((await p.pollNow()).files.map((f) => f.result)).toEqual(['applied']);
    expect(consumer.calls[0]).toMatchObject({ size: 0, content: '', sha256: sha256('') });
  });

  test('a server that is down is retried with backoff and never crashes the process', async () => {
    const s = await server();
    const src = { ...source(s), port: await closedPort() };
    const consumer = fakeConsumer();
    const { p } = poller(src, consumer);
    const r = await p.pollNow();
    expect(r).toMatchObject({ ok: false, error: expect.stringContaining('connection refused') });
    await p.start();
    await waitFor(() => p.status().consecutiveFailures >= 3, 15_000, 'repeated reconnect attempts');
    expect(p.status().lastError?.message).toContain('connection refused');
  });
});
