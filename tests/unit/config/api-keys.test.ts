import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApiKeyMatcher, hashApiKey, isApiKeyHash, verifyApiKey } from '../../../src/config/index.js';
import { packageRoot } from '../../../src/util/package-root.js';

// The built CLI (npm test builds first).
const cli = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
const KEY = 'a-long-enough-api-key-42';

describe('hashApiKey / verifyApiKey', () => {
  it('round-trips with a fresh salt each time', () => {
    const a = hashApiKey(KEY);
    const b = hashApiKey(KEY);
    expect(a).toMatch(/^scrypt:[A-Za-z0-9+/]+=*:[A-Za-z0-9+/]+=*$/);
    expect(a).not.toBe(b);
    expect(isApiKeyHash(a)).toBe(true);
    expect(verifyApiKey(KEY, a)).toBe(true);
    expect(verifyApiKey(KEY, b)).toBe(true);
    expect(verifyApiKey(`${KEY}x`, a)).toBe(false);
    expect(verifyApiKey('', a)).toBe(false);
  });

  it('accepts sha256:<hex> for machine-generated keys', () => {
    const stored = `sha256:${createHash('sha256').update(KEY).digest('hex')}`;
    expect(isApiKeyHash(stored)).toBe(true);
    expect(verifyApiKey(KEY, stored)).toBe(true);
    expect(verifyApiKey(KEY.toUpperCase(), stored)).toBe(false);
    expect(verifyApiKey(KEY, stored.toUpperCase().replace('SHA256', 'sha256'))).toBe(true);
  });

  it.each([
    ['plain text', KEY],
    ['unknown scheme', 'bcrypt:$2b$10$abc'],
    ['sha256 too short', 'sha256:abcd'],
    ['scrypt without hash', 'scrypt:c2FsdHNhbHRzYWx0'],
    ['scrypt short salt', `scrypt:YWJj:${Buffer.alloc(32).toString('base64')}`],
    ['scrypt bad base64', 'scrypt:not base64!:also not'],
  ])('rejects a malformed hash (%s) without throwing', (_name, stored) => {
    expect(isApiKeyHash(stored)).toBe(false);
    expect(verifyApiKey(KEY, stored)).toBe(false);
  });

  it('refuses to hash a short key', () => {
    expect(() => hashApiKey('short')).toThrow(/at least 16 characters/);
  });
});

describe('createApiKeyMatcher', () => {
  it('finds the key a plain value belongs to, and remembers it', async () => {
    const keys = [
      { id: 'mgh', hash: hashApiKey('mgh-portal-key-0000001'), partners: ['mgh'] },
      { id: 'admin', hash: hashApiKey(KEY), partners: ['*'] },
      { id: 'fast', hash: `sha256:${createHash('sha256').update('fast-random-key-abcdef').digest('hex')}`, partners: ['x'] },
    ];
    const matcher = createApiKeyMatcher(keys);
    expect((await matcher.match(KEY))?.id).toBe('admin');
    expect((await matcher.match(KEY))?.id).toBe('admin');
    expect((await matcher.match('mgh-portal-key-0000001'))?.id).toBe('mgh');
    expect((await matcher.match('fast-random-key-abcdef'))?.id).toBe('fast');
    expect(await matcher.match('wrong-key-wrong-key')).toBeUndefined();
    expect(await matcher.match('')).toBeUndefined();
  });

  it('keeps working past its cache size', async () => {
    const matcher = createApiKeyMatcher([{ id: 'a', hash: hashApiKey(KEY) }], 1);
    expect((await matcher.match(KEY))?.id).toBe('a');
    expect(await matcher.match('another-key-not-configured')).toBeUndefined();
    expect((await matcher.match(KEY))?.id).toBe('a');
  });
});

describe('carebridge hash-key', () => {
  it('prints a hash verifyApiKey accepts, for a key on stdin (trailing newline ignored)', () => {
    const out = execFileSync(process.execPath, [cli, 'hash-key'], { input: `${KEY}\n`, encoding: 'utf8' }).trim();
    expect(isApiKeyHash(out)).toBe(true);
    expect(verifyApiKey(KEY, out)).toBe(true);
  });

  it('refuses a short key with exit code 2 and no output', () => {
    const run = spawnSync(process.execPath, [cli, 'hash-key'], { input: 'short', encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/at least 16 characters/);
  });
});
