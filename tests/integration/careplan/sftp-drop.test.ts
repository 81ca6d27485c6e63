/**
 * The SFTP drop deliverer against a real OpenSSH sshd (chrooted SFTP-only user, pinned host key):
 * atomic upload, idempotent retries, and which failures retry and which are fatal.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverSftp } from '../../../src/delivery/deliverers/sftp.js';
import type { SftpDestination } from '../../../src/delivery/types.js';
import { sshdSkipReason, startSshd, type TestSshd } from '../../helpers/sshd.js';

const skip = sshdSkipReason();
if (skip) console.warn(`skipping SFTP drop sshd tests: ${skip}`);

describe.skipIf(skip !== null)('SFTP drop deliverer against OpenSSH sshd', () => {
  let sshd: TestSshd;
  let n = 0;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  function destination(over: Partial<SftpDestination> = {}): { dest: SftpDestination; dir: string } {
    const rel = `drop${++n}`;
    const remoteDir = sshd.makeDir(rel);
    return {
      dest: {
        type: 'sftp',
        id: 'cp-drop',
        host: sshd.host,
        port: sshd.port,
        username: sshd.username,
        privateKeyFile: sshd.privateKeyPath,
        hostKeySha256: sshd.hostKeySha256,
        remoteDir,
        timeoutMs: 15_000,
        ...over,
      },
      dir: join(sshd.localDir, rel),
    };
  }

  const statusFile = JSON.stringify({
    fileName: 'careplan-status-bay-cp-2024-06-03.csv',
    content: 'section,member_id\r\nassessment-outstanding,member-0002\r\n',
  });

  it('drops the file under its final name only (temp name, then rename), once per delivery', async () => {
    const { dest, dir } = destination();
    const first = await deliverSftp(statusFile, dest, { deliveryId: 'D1', attempt: 1 });
    expect(first).toMatchObject({ kind: 'delivered' });
    expect(readdirSync(dir)).toEqual(['careplan-status-bay-cp-2024-06-03.D1.csv']);
    expect(readFileSync(join(dir, 'careplan-status-bay-cp-2024-06-03.D1.csv'), 'utf8')).toBe(
      'section,member_id\r\nassessment-outstanding,member-0002\r\n',
    );
    // A retry after a lost acknowledgement: the file is there, nothing is written twice.
    expect(await deliverSftp(statusFile, dest, { deliveryId: 'D1', attempt: 2 })).toMatchObject({ kind: 'delivered' });
    expect(readdirSync(dir)).toHaveLength(1);
    // Another delivery of the same content is another file.
    await deliverSftp(statusFile, dest, { deliveryId: 'D2', attempt: 1 });
    expect(readdirSync(dir).sort()).toEqual(['careplan-status-bay-cp-2024-06-03.D1.csv', 'careplan-status-bay-cp-2024-06-03.D2.csv']);
  });

  it('a FHIR Bundle payload becomes a .json file', async () => {
    const { dest, dir } = destination();
    await deliverSftp('{"resourceType":"Bundle","type":"collection"}', dest, { deliveryId: 'D3', attempt: 1 });
    expect(readdirSync(dir)).toEqual(['carebridge-D3.json']);
  });

  it('a raw HL7 v2 message (passthrough route) becomes a .hl7 file, byte for byte', async () => {
    const { dest, dir } = destination();
    // Latin-1 bytes (é = 0xE9) must arrive as sent, not re-encoded as UTF-8.
    const raw = Buffer.from('MSH|^~\\&|LAB|MGH|CP|CP|20240501||ORU^R01|X1|P|2.5.1\rPID|1||M1^^^MGH^MR||REN\xe9^ANA\r', 'latin1');
    expect(await deliverSftp(raw, dest, { deliveryId: 'D9', attempt: 1 })).toMatchObject({ kind: 'delivered' });
    expect(readdirSync(dir)).toEqual(['carebridge-D9.hl7']);
    expect(readFileSync(join(dir, 'carebridge-D9.hl7')).equals(raw)).toBe(true);
  });

  it('reads the key from an environment variable too', async () => {
    const { dest, dir } = destination({ privateKeyFile: undefined, privateKeyEnv: 'CB_TEST_DROP_KEY' });
    process.env.CB_TEST_DROP_KEY = readFileSync(sshd.privateKeyPath, 'utf8');
    try {
      expect(await deliverSftp(statusFile, dest, { deliveryId: 'D4', attempt: 1 })).toMatchObject({ kind: 'delivered' });
      expect(existsSync(join(dir, 'careplan-status-bay-cp-2024-06-03.D4.csv'))).toBe(true);
    } finally {
      delete process.env.CB_TEST_DROP_KEY;
    }
    expect(await deliverSftp(statusFile, dest, { deliveryId: 'D5', attempt: 1 })).toMatchObject({
      kind: 'fatal',
      error: expect.stringMatching(/CB_TEST_DROP_KEY .* not set/),
    });
  });

  it('configuration problems are fatal: host key, missing folder, no permission', async () => {
    const { dest } = destination();
    const wrongKey = await deliverSftp(
      statusFile,
      { ...dest, hostKeySha256: 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU' },
      { deliveryId: 'D6', attempt: 1 },
    );
    expect(wrongKey).toMatchObject({ kind: 'fatal', error: expect.stringMatching(/host key mismatch/) });
    const missing = await deliverSftp(statusFile, { ...dest, remoteDir: '/inbox/not-there' }, { deliveryId: 'D7', attempt: 1 });
    expect(missing).toMatchObject({ kind: 'fatal', error: expect.stringMatching(/remote folder does not exist/) });
    // The chroot itself is root-owned: the SFTP user may not write there.
    const denied = await deliverSftp(statusFile, { ...dest, remoteDir: '/' }, { deliveryId: 'D8', attempt: 1 });
    expect(denied).toMatchObject({ kind: 'fatal', error: expect.stringMatching(/permission denied/) });
    for (const o of [wrongKey, missing, denied]) expect(o.error).not.toMatch(/assessment-outstanding|member-0002/);
  });

  it('a server that is not there is retried', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const { dest } = destination();
    const r = await deliverSftp(statusFile, { ...dest, port }, { deliveryId: 'D9', attempt: 1 });
    expect(r).toMatchObject({ kind: 'retry', error: expect.stringMatching(/connection refused/) });
  });
});
