import { describe, expect, test } from 'vitest';
import { backoffDelay } from '../../../../src/sources/sftp/backoff.js';
import { describeConnectError } from '../../../../src/sources/sftp/connection.js';
import { HostKeyMismatchError, hostKeyFingerprint, pinnedHostVerifier } from '../../../../src/sources/sftp/host-key.js';
import { keyFromEnv } from '../../../../src/sources/sftp/poller.js';
import { resolveRemoteDir } from '../../../../src/sources/sftp/remote-move.js';
import { StabilityTracker } from '../../../../src/sources/sftp/stability.js';

describe('host key pinning', () => {
  // Generated with ssh-keygen; fingerprint as printed by `ssh-keygen -l -E sha256`.
  const blob = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIC4bnlk9GMkX2bUQreW4PWCwyX0uJM3G4gS74PKUDVMw', 'base64');
  const fp = 'SHA256:GCQGAN5aQAPzPdlVYDwn4WvgPOuPklao2K9e7ogdxDg';

  test('fingerprints match OpenSSH', () => {
    expect(hostKeyFingerprint(blob)).toBe(fp);
  });

  test('only the pinned key passes; a mismatch names both fingerprints', () => {
    const ok = pinnedHostVerifier(fp);
    expect(ok.verify(blob)).toBe(true);
    expect(ok.mismatch()).toBeNull();
    const other = 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const bad = pinnedHostVerifier(other);
    expect(bad.verify(blob)).toBe(false);
    const err = bad.mismatch();
    expect(err).toBeInstanceOf(HostKeyMismatchError);
    expect(err?.message).toContain(fp);
    expect(err?.message).toContain(other);
  });
});

describe('stability', () => {
  test('size and mtime must hold for stableChecks looks; any change restarts the count', () => {
    const t = new StabilityTracker(2);
    const f = (size: number, modifyTime = 1000) => [{ name: 'a.csv', size, modifyTime }];
    expect([...t.observe(f(10))]).toEqual([]);
    expect([...t.observe(f(20))]).toEqual([]);
    expect([...t.observe(f(20))]).toEqual(['a.csv']);
    expect([...t.observe(f(20, 2000))]).toEqual([]);
    t.reset('a.csv');
    expect([...t.observe(f(20, 2000))]).toEqual([]);
    expect([...t.observe([])]).toEqual([]);
    // Forgotten once gone: a re-upload starts from scratch.
    expect([...t.observe(f(20, 2000))]).toEqual([]);
  });

  test('stableChecks 1 takes a file on first sight', () => {
    expect([...new StabilityTracker(1).observe([{ name: 'x', size: 1, modifyTime: 0 }])]).toEqual(['x']);
  });
});

describe('backoff', () => {
  test('doubles from initialMs, capped at maxMs, jittered ±20%', () => {
    const o = { initialMs: 1000, maxMs: 10_000 };
    expect(backoffDelay(1, o, () => 0.5)).toBe(1000);
    expect(backoffDelay(3, o, () => 0.5)).toBe(4000);
    expect(backoffDelay(50, o, () => 0.5)).toBe(10_000);
    expect(backoffDelay(1, o, () => 0)).toBe(800);
    expect(backoffDelay(50, o, () => 1)).toBe(10_000);
  });
});

describe('private key from the environment', () => {
  const pem = '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n';
  test('PEM text, PEM with literal \\n, or base64', () => {
    expect(keyFromEnv(pem)).toBe(pem);
    expect(keyFromEnv(pem.replace(/\n/g, '\\n'))).toBe(pem);
    expect(keyFromEnv(Buffer.from(pem).toString('base64')).toString()).toBe(pem);
  });
});

describe('remote folders and connection errors', () => {
  test('processed/error folders are relative to remoteDir unless absolute', () => {
    expect(resolveRemoteDir('/inbox', 'processed')).toBe('/inbox/processed');
    expect(resolveRemoteDir('/inbox/', '../archive')).toBe('/archive');
    expect(resolveRemoteDir('/inbox', '/done')).toBe('/done');
    expect(resolveRemoteDir('inbox', 'processed')).toBe('inbox/processed');
  });

  test('connection errors become one clear line', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:2222'), { code: 'ECONNREFUSED' });
    expect(describeConnectError(refused, 'u@h:22').message).toBe('SFTP u@h:22: connection refused');
    const auth = Object.assign(new Error('All configured authentication methods failed'), { level: 'client-authentication' });
    expect(describeConnectError(auth, 'u@h:22').message).toBe('SFTP u@h:22: login refused (check username and private key)');
    expect(describeConnectError(new Error('Timed out while waiting for handshake'), 'u@h:22').message).toBe('SFTP u@h:22: timed out');
  });
});
